//! The whole cluster, watched through the read API: every task of both listings (the upgrade
//! tasks and the AZ switchover tasks) is read before the run, just before and just after each
//! request on a real task that a conforming server may accept, and at the end. A task that
//! was retried or aborted between two reads (out of the failed state, or retried once more)
//! though no request of the run named it is a finding of the clause that a request acts only
//! on the task it names, with the requests of that window and the task in the evidence.
//! Each look costs one page per listing, not one request per task.

use tokio::sync::Mutex;

use crate::contract::spec::{Spec, TaskRead};
use crate::records::judgement::Judgement;
use crate::transport::target::{Cluster, ReadError, Target};

/// The most requests of a window named in a finding's evidence.
const SHOWN: usize = 3;

/// What the watch saw: the cluster as last read and the requests on real tasks since.
#[derive(Debug, Default)]
pub(crate) struct ClusterWatch {
    inner: Mutex<Watch>,
}

#[derive(Debug, Default)]
struct Watch {
    /// The cluster as last read (`None`: not read yet, or the target has no read API).
    last: Option<Cluster>,
    /// The requests on real tasks sent since the last read: (scenario, judgement).
    since: Vec<(String, Judgement)>,
    /// What each read judged: (scenario, judgement).
    judged: Vec<(String, Judgement)>,
}

impl ClusterWatch {
    /// Notes a request sent on a real task: the next read judges what it did to the others.
    pub(crate) async fn sent(&self, location: &str, judgement: &Judgement) {
        let mut watch = self.inner.lock().await;
        // Bounded: the window of a run without accepted requests is judged from its first
        // requests and counted, never kept whole.
        if watch.since.len() < 10_000 {
            watch.since.push((location.to_owned(), judgement.clone()));
        }
    }

    /// Reads the cluster and judges what changed since the last read: a task the run never
    /// named that was retried or aborted in between is the window's requests' doing. Needs
    /// the read API; a read that fails judges nothing (the read API's fault is said on stderr).
    pub(crate) async fn look(&self, spec: &Spec, target: &Target) {
        if !target.reads_tasks() {
            return;
        }
        let mut watch = self.inner.lock().await;
        // Nothing sent since the last read: nothing to judge, and nothing to read.
        if watch.last.is_some() && watch.since.is_empty() {
            return;
        }
        let now = match target.cluster(spec).await {
            Ok(now) => now,
            Err(why) => {
                target.say_read_fault("the read API, reading the whole cluster", &why);
                return;
            }
        };
        let since = std::mem::take(&mut watch.since);
        if let (Some(before), Some((location, last))) = (&watch.last, since.last()) {
            let changed = changed_unnamed(spec, target, before, &now);
            let judgement = judge(spec, &changed, &since, last);
            watch.judged.push((location.clone(), judgement));
        }
        watch.last = Some(now);
    }

    /// Reads the whole cluster before the run: what the run's later reads compare with.
    pub(crate) async fn baseline(
        &self,
        spec: &Spec,
        target: &Target,
    ) -> Result<Cluster, ReadError> {
        let mut watch = self.inner.lock().await;
        let cluster = target.cluster(spec).await?;
        watch.last = Some(cluster.clone());
        Ok(cluster)
    }

    /// What the reads judged, each with the scenario (`file:line`) it goes to.
    pub(crate) async fn judged(&self) -> Vec<(String, Judgement)> {
        std::mem::take(&mut self.inner.lock().await.judged)
    }
}

/// The tasks retried or aborted between `before` and `now` that the run never named: (ID,
/// before, now). A task new in `now` was not there to be acted on.
fn changed_unnamed<'a>(
    spec: &Spec,
    target: &Target,
    before: &'a Cluster,
    now: &'a Cluster,
) -> Vec<(&'a str, &'a TaskRead, &'a TaskRead)> {
    now.iter()
        .filter_map(|(id, after)| Some((id.as_str(), before.get(id)?, after)))
        .filter(|(id, was, after)| {
            spec.read_api.acted_between(was, after) && !target.named_by_the_run(id)
        })
        .collect()
}

/// The judgement of one window: held when no task it did not name changed, on the last
/// request of the window (`last`), naming the window's requests when one did.
fn judge(
    spec: &Spec,
    changed: &[(&str, &TaskRead, &TaskRead)],
    since: &[(String, Judgement)],
    last: &Judgement,
) -> Judgement {
    let clause = &spec.rules.named_task_only;
    if changed.is_empty() {
        return last.effect(spec, clause, true, "no other task changed".to_owned());
    }
    let tasks: Vec<String> = changed
        .iter()
        .map(|(id, was, now)| format!("task {id}: {was} before, {now} after"))
        .collect();
    let requests: Vec<String> = since
        .iter()
        .rev()
        .take(SHOWN)
        .map(|(location, j)| {
            format!(
                "{} {} ({location}; to replay: {})",
                j.method,
                crate::shown::shorten(&j.url),
                j.curl
            )
        })
        .collect();
    let more = match since.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} sent before them"),
    };
    let by = match since.len() {
        1 => "this request".to_owned(),
        n => format!("one of the {n} requests sent since the cluster was last read"),
    };
    let expected = format!(
        "no task but the one named changed; {by} acted on a task no request of the run named: {}; the requests: {}{more}",
        tasks.join("; "),
        requests.join("; "),
    );
    last.effect(spec, clause, false, expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::judgement::Judgement;

    fn read(status: &str, retries: u64) -> TaskRead {
        TaskRead {
            status: status.to_owned(),
            retries: Some(retries),
        }
    }

    #[test]
    fn a_window_is_judged_by_what_changed_on_tasks_it_did_not_name() {
        let spec = Spec::embedded();
        let verdict = crate::contract::verdict::Verdict {
            kind: crate::contract::spec::Kind::InvalidRetryMode,
            checked: Default::default(),
            violations: Vec::new(),
            note: None,
            unconfirmed: Vec::new(),
        };
        let last = Judgement::sample(verdict, 400, Some("CSS.0001"));
        let since = vec![("features/doors.feature:16".to_owned(), last.clone())];
        // Nothing changed: the clause holds on the window's last request.
        let held = judge(&spec, &[], &since, &last);
        assert!(held.verdict.passed());
        assert!(held.verdict.checked.contains("RUT-SCOPE-01"));
        // A neighbour retried: the clause is broken, the task and the request named.
        let (was, now) = (read("FAILED", 0), read("RUNNING", 1));
        let broken = judge(&spec, &[("n-1", &was, &now)], &since, &last);
        assert!(!broken.verdict.passed());
        let text = broken.verdict.to_string();
        assert!(
            text.contains("task n-1: \"FAILED\" (retried 0 times) before"),
            "{text}"
        );
        assert!(text.contains("this request"), "{text}");
    }

    #[test]
    fn a_task_retried_again_or_out_of_the_failed_state_changed_and_a_new_one_did_not() {
        let spec = Spec::embedded();
        let api = &spec.read_api;
        assert!(api.acted_between(&read("FAILED", 0), &read("RUNNING", 0)));
        assert!(api.acted_between(&read("FAILED", 0), &read("FAILED", 1)));
        assert!(!api.acted_between(&read("FAILED", 1), &read("FAILED", 1)));
        // A running task that finishes is no retry.
        assert!(!api.acted_between(&read("RUNNING", 1), &read("SUCCESS", 1)));
    }
}
