//! What the server *did*, judged through every door of a failed task. A request a conforming
//! server refuses costs a request, not a task: so on each real failed task every kind of
//! refused request the spec knows (`door`) is sent once before the request that consumes it
//! (the witness). An accepted witness shows every door on that task harmless at once; a
//! refused one shows that one of them acted, and the next failed tasks find which by
//! bisection (`groups`), unless the read API pinned it already.
//!
//! `door` and `groups` are plain values and pure functions; the chains in `plan` carry them
//! out and the steps send the requests.

pub mod groups;
pub mod judge;
pub mod witness;

use crate::settings::{Flag, flag};

const READ_API: &Flag = flag("read_api");

/// What one door was judged to have done, for the reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DoorResult {
    pub door: String,
    /// The clause that judges what it did.
    pub clause: String,
    pub verdict: DoorVerdict,
}

/// What a door was judged to have done; in report.json, in words: `harmless`, `acted`,
/// `one of N acted` (each with ` (unconfirmed)` where a used-up task would explain it as
/// well), `served as the operation` (a form the target routes to the retry: no door there),
/// or `not judged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorVerdict {
    Harmless,
    Acted {
        unconfirmed: bool,
    },
    /// One of a group of `of` doors acted.
    AmongActed {
        of: usize,
        unconfirmed: bool,
    },
    Served,
    NotJudged,
}

impl DoorVerdict {
    /// Whether what it did could also be a fixture's doing.
    pub fn unconfirmed(self) -> bool {
        matches!(
            self,
            DoorVerdict::Acted { unconfirmed: true }
                | DoorVerdict::AmongActed {
                    unconfirmed: true,
                    ..
                }
        )
    }
}

impl std::fmt::Display for DoorVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let doubt = if self.unconfirmed() {
            " (unconfirmed)"
        } else {
            ""
        };
        match self {
            DoorVerdict::Harmless => f.write_str("harmless"),
            DoorVerdict::Acted { .. } => write!(f, "acted{doubt}"),
            DoorVerdict::AmongActed { of, .. } => write!(f, "one of {of} acted{doubt}"),
            DoorVerdict::Served => f.write_str("served as the operation"),
            DoorVerdict::NotJudged => f.write_str("not judged"),
        }
    }
}

impl serde::Serialize for DoorVerdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl DoorResult {
    /// Says of each door not judged whose form the target serves as the operation
    /// (`served(name)`) that it is no door there.
    pub(crate) fn mark_served(doors: &mut [DoorResult], served: impl Fn(&str) -> bool) {
        for d in doors.iter_mut() {
            if d.verdict == DoorVerdict::NotJudged && served(&d.door) {
                d.verdict = DoorVerdict::Served;
            }
        }
    }

    /// Each door of `doors` as `search` left it.
    pub fn all(
        spec: &crate::contract::spec::Spec,
        doors: &[crate::contract::doors::Door],
        search: Option<&groups::Groups>,
    ) -> Vec<DoorResult> {
        doors
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let verdict = search.map(|s| s.verdict(i));
                let unconfirmed = matches!(
                    verdict,
                    Some(groups::DoorVerdict::Acted | groups::DoorVerdict::AmongActed(_))
                ) && search.is_some_and(|s| !s.confirmed(i));
                DoorResult {
                    door: d.name.clone(),
                    clause: spec.effect_clause(d.kind).to_owned(),
                    verdict: match verdict {
                        Some(groups::DoorVerdict::Harmless) => DoorVerdict::Harmless,
                        Some(groups::DoorVerdict::Acted) => DoorVerdict::Acted { unconfirmed },
                        Some(groups::DoorVerdict::AmongActed(g)) => DoorVerdict::AmongActed {
                            of: g.len(),
                            unconfirmed,
                        },
                        Some(groups::DoorVerdict::Unjudged) | None => DoorVerdict::NotJudged,
                    },
                }
            })
            .collect()
    }

    /// The console's line on the doors, if there are any.
    pub fn summary(doors: &[DoorResult]) -> Option<String> {
        if doors.is_empty() {
            return None;
        }
        let count = |v: DoorVerdict| doors.iter().filter(|d| d.verdict == v).count();
        let served = count(DoorVerdict::Served);
        let judged = doors.len() - count(DoorVerdict::NotJudged) - served;
        let acted: Vec<&str> = doors
            .iter()
            .filter(|d| matches!(d.verdict, DoorVerdict::Acted { .. }))
            .map(|d| d.door.as_str())
            .collect();
        let among = doors
            .iter()
            .filter(|d| matches!(d.verdict, DoorVerdict::AmongActed { .. }))
            .count();
        let mut line = format!(
            "Doors: {judged} of {} judged for what they did to a failed task: {} harmless",
            doors.len(),
            count(DoorVerdict::Harmless)
        );
        if !acted.is_empty() {
            // A few by name; every one is in report.json's doors[].
            const NAMED: usize = 4;
            let mut named = acted
                .iter()
                .take(NAMED)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            if acted.len() > NAMED {
                named.push_str(&format!(
                    " and {} more (report.json, doors[])",
                    acted.len() - NAMED
                ));
            }
            line.push_str(&format!("; {} acted: {named}", acted.len()));
        }
        let unconfirmed = doors.iter().any(|d| d.verdict.unconfirmed());
        if among > 0 && unconfirmed {
            line.push_str(&format!(
                "; {among} suspects: one of them acted, or the task was not usable when the run began"
            ));
        } else if among > 0 {
            line.push_str(&format!(
                "; {among} suspects, one of which acted (more failed tasks, or the read API, would pin it)"
            ));
        }
        if unconfirmed {
            line.push_str(&format!(
                "; unconfirmed: a task used up by an earlier run (or not a failed task at all) would look the same (another failed task, or {READ_API}, would decide it), so the clause is not judged",
            ));
        }
        if served > 0 {
            line.push_str(&format!(
                "; {served} served by the target as the operation (the retry itself there, asked on a task that names nothing: no doors)"
            ));
        }
        if judged + served < doors.len() {
            line.push_str(&format!(
                "; {} not judged (no failed task carried them, or its witness told nothing)",
                doors.len() - judged - served
            ));
        }
        Some(line)
    }
}
