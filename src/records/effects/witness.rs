//! What the requests on one failed task say of the doors sent on it: the witness (the first
//! retry or abort after them) accepted clears them; refused as "not in the failed state", one
//! of them acted; the read API can pin the door at once. Pure: it reads what was sent.

use crate::contract::request::Request;
use std::time::{Duration, Instant};

use crate::contract::spec::{Kind, ReadApi, Spec, TaskRead};
use crate::fixtures::Fixtures;
use crate::records::judgement::Times;

use super::groups::{DoorId, Outcome};
use crate::contract::doors::{Door, door_of};

/// One request sent on the task, as answered.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    pub request: &'a Request,
    pub status: u16,
    pub error_code: Option<&'a str>,
    /// The read API's status of the task before and after it.
    pub task_status: Option<&'a (TaskRead, TaskRead)>,
    /// When it was sent, and when the task was read after it.
    pub times: Times,
}

/// What the requests `sent` on `task`, in order, show of the doors of `group`: the doors
/// they tested (those sent before the request that told), and what it told.
pub fn outcome(
    spec: &Spec,
    doors: &[Door],
    fixtures: &Fixtures,
    task: &str,
    group: &[DoorId],
    sent: &[Sent<'_>],
    settle: Duration,
) -> (Vec<DoorId>, Outcome) {
    let api = &spec.read_api;
    let mut before: Vec<DoorId> = Vec::new();
    // Every door sent on the task so far, when; and when the task was last read unchanged.
    let mut sent_doors: Vec<(DoorId, Option<Instant>)> = Vec::new();
    let mut last_unchanged: Option<Instant> = None;
    for s in sent {
        // Any door the read API shows acting is pinned, in the group or not (a refused
        // scenario's request on the task is a door too); the others count in the group only.
        let any_door = door_of(doors, fixtures, task, s.request);
        let door = any_door.filter(|d| group.contains(d));
        // A door a conforming server may serve as the retry it names, served so: it is the
        // witness, accepted (the doors before it left the task failed), and it acted as it may.
        let served = any_door
            .and_then(|d| doors.get(d))
            .is_some_and(|d| d.may_be_served(spec) && s.status == 200);
        if let (true, Some(door)) = (served, any_door) {
            before.push(door);
            return (before, Outcome::Harmless);
        }
        // A read made anew just before it that showed the task failed clears what was sent
        // `settle` before it.
        if s.times.before.is_some()
            && s.task_status
                .is_some_and(|(was, _)| api.is_failed(&was.status))
        {
            last_unchanged = s.times.before.max(last_unchanged);
        }
        if let Some(door) = any_door {
            sent_doors.push((door, s.times.sent));
            // An effect may show up to `settle` late: every door sent since `settle` before the
            // last read that showed the task unchanged may be the one.
            let suspects = lagging_suspects(&sent_doors, last_unchanged, settle);
            if let Some(told) = pinned(api, s, door, &before, suspects) {
                return told;
            }
        }
        if s.task_status
            .is_some_and(|(was, now)| !api.acted_between(was, now))
        {
            last_unchanged = s.times.read.max(last_unchanged);
        }
        if let Some(told) = refusal_tells(spec, doors, door, s) {
            return (before, told);
        }
        match door {
            Some(door) if !before.contains(&door) => before.push(door),
            Some(_) => {}
            None if s.request.method.is_none() && s.status == 200 => {
                return (before, Outcome::Harmless);
            }
            None => {}
        }
    }
    (before, Outcome::Unknown)
}

/// What `s` (which sent `door` of the group, if it did) tells of the doors sent before it,
/// if it tells anything.
fn refusal_tells(
    spec: &Spec,
    doors: &[Door],
    door: Option<DoorId>,
    s: &Sent<'_>,
) -> Option<Outcome> {
    let api = &spec.read_api;
    // The read API showed the task out of the failed state before this request, or a door
    // was refused with a code the vendor's table gives only for a task not in the failed
    // state (never for the door's own fault, nor for an unknown task): a door before it
    // acted.
    let read_not_failed = s
        .task_status
        .is_some_and(|(was, _)| !api.is_failed(&was.status));
    let door_found_not_failed = door
        .and_then(|d| doors.get(d))
        .is_some_and(|d| refused_as_not_failed(spec, d, s));
    if read_not_failed || door_found_not_failed {
        return Some(Outcome::Acted);
    }
    // The witness (a retry or abort a failed task accepts) refused as the task not usable
    // (not failed, or no such record): a door before it acted; unless the read API showed
    // the task still failed just before it, which no door's effect explains (the task
    // itself was not usable): that tells nothing of the doors.
    if door.is_none() && is_witness(spec, s) && spec.says_task_unusable(s.status, s.error_code) {
        return Some(match s.task_status {
            Some(_) => Outcome::Unknown,
            None => Outcome::Acted,
        });
    }
    None
}

/// What `s`, which sent `door`, pins on it: the read API showed the task acted on (on
/// `door`, or on one of `suspects` when an effect may have shown late), or a refused request
/// was taken for a retry or abort (it acted, whatever the read shows); `before` are the doors
/// sent on the task before it.
fn pinned(
    api: &ReadApi,
    s: &Sent<'_>,
    door: DoorId,
    before: &[DoorId],
    suspects: Vec<DoorId>,
) -> Option<(Vec<DoorId>, Outcome)> {
    let changed = s
        .task_status
        .is_some_and(|(was, now)| api.acted_between(was, now));
    let taken_for_retry = s.request.method.is_none() && s.status == 200;
    if changed && !taken_for_retry && suspects.len() > 1 {
        return Some((suspects, Outcome::Acted));
    }
    if !(changed || taken_for_retry) {
        return None;
    }
    let mut tested = before.to_vec();
    tested.push(door);
    let before = before.to_vec();
    Some((tested, Outcome::Pinned { door, before }))
}

/// Whether `door`, answered as `s` was, was refused with a code the vendor's table gives only
/// for a task not in the failed state: never for the door's own fault, nor for an unknown task.
fn refused_as_not_failed(spec: &Spec, door: &Door, s: &Sent<'_>) -> bool {
    let refused_as = |kind: Kind| {
        spec.expectation(kind)
            .is_refusal(spec, s.status, s.error_code)
    };
    refused_as(Kind::TaskNotFailed)
        && !refused_as(Kind::UnknownTask)
        && !s
            .error_code
            .is_some_and(|c| spec.expectation(door.kind).codes.iter().any(|k| k == c))
}

/// Whether `s` is a witness: a retry or abort (no door) a failed task accepts.
fn is_witness(spec: &Spec, s: &Sent<'_>) -> bool {
    s.request.method.is_none()
        && spec
            .expectation(crate::contract::classify::on_a_failed_task(spec, s.request))
            .accepts()
}

/// The doors that may have had an effect a read showed after the last of `sent` (each with
/// when it was sent): those sent since `settle` before the last read that showed the task
/// unchanged (all of them before any such read), in the order sent.
fn lagging_suspects(
    sent: &[(DoorId, Option<Instant>)],
    last_unchanged: Option<Instant>,
    settle: Duration,
) -> Vec<DoorId> {
    // Effects that show at once: the last door alone.
    if settle.is_zero() {
        return sent.last().map(|(door, _)| vec![*door]).unwrap_or_default();
    }
    let since = last_unchanged.map(|r| r.checked_sub(settle).unwrap_or(r));
    let mut suspects: Vec<DoorId> = Vec::new();
    for (door, at) in sent {
        let maybe = match (since, at) {
            (Some(since), Some(at)) => *at >= since,
            _ => true,
        };
        if maybe && !suspects.contains(door) {
            suspects.push(*door);
        }
    }
    suspects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::doors::{self, Reach};

    fn doors(spec: &Spec) -> Vec<Door> {
        doors::of_spec(
            spec,
            Reach {
                aksk: false,
                foreign_project: None,
            },
        )
        .unwrap()
    }

    const TASK: &str = "bcdb711c-a7f0-4007-b8ee-9f13c05f8326";

    fn sent<'a>(
        request: &'a Request,
        status: u16,
        code: Option<&'a str>,
        read: Option<&'a (TaskRead, TaskRead)>,
    ) -> Sent<'a> {
        Sent {
            request,
            status,
            error_code: code,
            task_status: read,
            times: Times::default(),
        }
    }

    /// Every door, each as a request on the task, and the witness after them: a plain retry.
    struct Setting {
        spec: Spec,
        doors: Vec<Door>,
        f: Fixtures,
        group: Vec<DoorId>,
        requests: Vec<Request>,
        witness: Request,
    }

    impl Setting {
        fn new() -> Setting {
            let spec = Spec::embedded();
            let doors = doors(&spec);
            let f = Fixtures::builtin();
            let group: Vec<DoorId> = (0..doors.len()).collect();
            let requests: Vec<Request> = doors.iter().map(|d| d.request(&f, TASK, "u")).collect();
            let witness = Request {
                credentials: crate::contract::request::Credentials::Valid,
                method: None,
                shape: crate::contract::request::Shape::default(),
                retry_mode: vec![],
                extra_query: vec![],
                ..requests[0].clone()
            };
            Setting {
                spec,
                doors,
                f,
                group,
                requests,
                witness,
            }
        }
    }

    #[test]
    fn an_accepted_witness_clears_the_group_a_refused_one_says_one_acted() {
        let Setting {
            spec,
            doors,
            f,
            group,
            requests,
            witness,
        } = Setting::new();
        let mut seq: Vec<Sent> = requests.iter().map(|r| sent(r, 403, None, None)).collect();
        seq.push(sent(&witness, 200, None, None));
        let told = |seq: &[Sent]| outcome(&spec, &doors, &f, TASK, &group, seq, Duration::ZERO);
        assert_eq!(told(&seq), (group.clone(), Outcome::Harmless));
        seq.pop();
        seq.push(sent(&witness, 400, Some("CSS.5090"), None));
        assert_eq!(told(&seq), (group.clone(), Outcome::Acted));
        // Refused for another reason: nothing is told (a fixture or a credential problem).
        seq.pop();
        seq.push(sent(&witness, 403, Some("CSS.0010"), None));
        assert_eq!(told(&seq).1, Outcome::Unknown);
        // No witness at all.
        seq.pop();
        assert_eq!(told(&seq).1, Outcome::Unknown);
        // A door refused as not in the failed state: one sent before it acted.
        let mut early: Vec<Sent> = requests[..3]
            .iter()
            .map(|r| sent(r, 403, None, None))
            .collect();
        early.push(sent(&requests[3], 400, Some("CSS.5090"), None));
        assert_eq!(told(&early), (vec![0, 1, 2], Outcome::Acted));
        // A door accepted as a retry acted itself.
        let upper = doors
            .iter()
            .position(|d| d.family.as_deref() == Some("retry_mode/upper-case"))
            .expect("the grammar has the family");
        let mut taken = early[..2].to_vec();
        taken.push(sent(&requests[upper], 200, None, None));
        assert_eq!(
            told(&taken),
            (
                vec![0, 1, upper],
                Outcome::Pinned {
                    door: upper,
                    before: vec![0, 1]
                }
            )
        );
    }

    /// The spec's doors, all of them as one group, and their requests on `TASK`.
    fn every_door(spec: &Spec) -> (Vec<Door>, Vec<DoorId>, Vec<Request>) {
        let doors = doors(spec);
        let f = Fixtures::builtin();
        let group: Vec<DoorId> = (0..doors.len()).collect();
        let requests: Vec<Request> = doors.iter().map(|d| d.request(&f, TASK, "u")).collect();
        (doors, group, requests)
    }

    #[test]
    fn the_read_api_pins_the_door_after_which_the_task_changed() {
        let spec = Spec::embedded();
        let (doors, group, requests) = every_door(&spec);
        let f = Fixtures::builtin();
        let read = |was: &str, now: &str| (TaskRead::of_status(was), TaskRead::of_status(now));
        let failed = read("FAILED", "FAILED");
        let changed = read("FAILED", "RUNNING");
        let mut seq: Vec<Sent> = requests[..3]
            .iter()
            .map(|r| sent(r, 403, None, Some(&failed)))
            .collect();
        seq.push(sent(&requests[3], 405, None, Some(&changed)));
        assert_eq!(
            outcome(&spec, &doors, &f, TASK, &group, &seq, Duration::ZERO).1,
            Outcome::Pinned {
                door: 3,
                before: vec![0, 1, 2]
            }
        );
        // A door that retried the task, which failed again at once: the count of retries
        // pins it where the status cannot.
        let counted = |n| TaskRead {
            status: "FAILED".to_owned(),
            retries: Some(n),
        };
        let again = (counted(0), counted(1));
        let mut seq: Vec<Sent> = requests[..2]
            .iter()
            .map(|r| sent(r, 403, None, Some(&failed)))
            .collect();
        seq.push(sent(&requests[2], 403, None, Some(&again)));
        assert_eq!(
            outcome(&spec, &doors, &f, TASK, &group, &seq, Duration::ZERO).1,
            Outcome::Pinned {
                door: 2,
                before: vec![0, 1]
            }
        );
        // A late effect: every door left it failed at once, the witness found it changed.
        let late = read("RUNNING", "RUNNING");
        let witness = Request {
            credentials: crate::contract::request::Credentials::Valid,
            ..requests[0].clone()
        };
        let mut seq: Vec<Sent> = requests
            .iter()
            .map(|r| sent(r, 403, None, Some(&failed)))
            .collect();
        seq.push(sent(&witness, 400, Some("CSS.5090"), Some(&late)));
        assert_eq!(
            outcome(&spec, &doors, &f, TASK, &group, &seq, Duration::ZERO).1,
            Outcome::Acted
        );
    }

    #[test]
    fn a_refusal_a_fixture_explains_as_well_says_nothing_of_the_doors() {
        let Setting {
            spec,
            doors,
            f,
            group,
            requests,
            witness,
        } = Setting::new();
        let told = |seq: &[Sent]| outcome(&spec, &doors, &f, TASK, &group, seq, Duration::ZERO).1;
        // The read API shows the task failed just before the witness, which is refused as not
        // failed: no door's effect explains that (the task itself is not usable).
        let failed = (
            TaskRead::of_status("PARTIAL_FAILED"),
            TaskRead::of_status("PARTIAL_FAILED"),
        );
        let mut seq: Vec<Sent> = requests
            .iter()
            .map(|r| sent(r, 403, None, Some(&failed)))
            .collect();
        seq.push(sent(&witness, 400, Some("CSS.0082"), Some(&failed)));
        assert_eq!(told(&seq), Outcome::Unknown);
        // Without the read API, the same refusal is a door's doing as far as this task tells,
        // whichever code of the table says it (an unknown task's too).
        let mut seq: Vec<Sent> = requests.iter().map(|r| sent(r, 403, None, None)).collect();
        seq.push(sent(&witness, 403, Some("CSS.0015"), None));
        assert_eq!(told(&seq), Outcome::Acted);
        // A door refused with "no such record" (a malformed ID may be): no sign of an effect.
        let mut seq: Vec<Sent> = requests
            .iter()
            .map(|r| sent(r, 400, Some("CSS.0082"), None))
            .collect();
        seq.push(sent(&witness, 200, None, None));
        assert_eq!(told(&seq), Outcome::Harmless);
    }

    #[test]
    fn a_read_api_that_may_show_an_effect_late_points_at_every_door_sent_within_that_time() {
        let spec = Spec::embedded();
        let (doors, group, requests) = every_door(&spec);
        let f = Fixtures::builtin();
        let read = |was: &str, now: &str| (TaskRead::of_status(was), TaskRead::of_status(now));
        let (failed, changed) = (read("FAILED", "FAILED"), read("FAILED", "RUNNING"));
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Doors 0-3 sent 100 ms apart, each read at once; the change shows after door 3.
        let seq: Vec<Sent> = (0..4)
            .map(|i| Sent {
                request: &requests[i],
                status: 403,
                error_code: None,
                task_status: Some(if i == 3 { &changed } else { &failed }),
                times: Times {
                    before: None,
                    sent: Some(at(100 * i as u64)),
                    read: Some(at(100 * i as u64 + 10)),
                },
            })
            .collect();
        // Effects show at once: door 3 is pinned.
        let told = |settle: u64| {
            outcome(
                &spec,
                &doors,
                &f,
                TASK,
                &group,
                &seq,
                Duration::from_millis(settle),
            )
        };
        assert_eq!(
            told(0).1,
            Outcome::Pinned {
                door: 3,
                before: vec![0, 1, 2]
            }
        );
        // Effects may show 150 ms late: doors 1 and 2 (sent less than 150 ms before the last
        // read that showed the task unchanged, at 210 ms) may have acted too, door 0 not.
        assert_eq!(told(150), (vec![1, 2, 3], Outcome::Acted));
        // 3 s late: any of them.
        assert_eq!(told(3_000), (vec![0, 1, 2, 3], Outcome::Acted));
        // Unless the task was read anew, still failed, 3 s after door 2 and just before door 3
        // (as between the doors of two clauses): then door 3 alone.
        let mut waited = seq.clone();
        waited[3].times.before = Some(at(3_300));
        waited[3].times.sent = Some(at(3_310));
        waited[3].times.read = Some(at(3_320));
        assert_eq!(
            outcome(
                &spec,
                &doors,
                &f,
                TASK,
                &group,
                &waited,
                Duration::from_millis(3_000)
            )
            .1,
            Outcome::Pinned {
                door: 3,
                before: vec![0, 1, 2]
            }
        );
    }
}
