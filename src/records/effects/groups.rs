//! Group testing over the doors of failed tasks: which doors go on the next task, and what
//! each task's witness says of them. Pure: no request is sent here.
//!
//! A task carries a group of doors and then its witness. An accepted witness clears the whole
//! group; a refused one ("not in the failed state") says one door of the group acted, and the
//! next tasks halve that group until one door is left: it is pinned. The read API can pin a
//! door at once (the task's status changed right after it). Once every acting door found is
//! pinned, the doors not yet cleared are tested again as one group.

use std::collections::BTreeSet;

/// A door, by its index in the run's list of doors.
pub(crate) type DoorId = usize;

/// What one task showed of the group sent on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The witness was accepted: no door of the group acted.
    Harmless,
    /// The witness was refused as not in the failed state (or the read API showed the task
    /// out of it before the witness): one door of the group acted.
    Acted,
    /// The read API showed the task out of the failed state right after `door`; the doors
    /// sent before it left it failed.
    Pinned { door: DoorId, before: Vec<DoorId> },
    /// Nothing can be told: the witness got another answer, or no answer.
    Unknown,
}

/// What is known of one door once the tasks are used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorVerdict {
    /// It was on a task whose witness was accepted.
    Harmless,
    /// It acted: pinned by bisection or by the read API.
    Acted,
    /// One door of this group (it among them) acted; which one, the tasks did not tell.
    AmongActed(Vec<DoorId>),
    /// No task said anything of it.
    Unjudged,
}

/// The state of the search.
#[derive(Debug, Clone)]
pub struct Groups {
    doors: usize,
    /// Each door's class (the clause that judges it, then its family): a group is split
    /// between classes before within one, so that few tasks tell which clause broke.
    classes: Vec<(u8, u8)>,
    cleared: BTreeSet<DoorId>,
    pinned: BTreeSet<DoorId>,
    /// Groups known to hold a door that acted, none of it pinned.
    guilty: Vec<Vec<DoorId>>,
    /// Tasks in a row that told nothing.
    unknown_in_a_row: usize,
    /// Tasks used.
    tested: usize,
    /// A group cleared although it held every door left of a guilty group: the server acted
    /// once and not again.
    inconsistent: bool,
    /// How many tasks each door was on when one of their doors acted.
    acted_on: Vec<u32>,
    /// Doors pinned by what cannot be a fixture's doing: the read API, or the door itself
    /// accepted as a retry.
    pinned_for_sure: BTreeSet<DoorId>,
    /// Tasks whose witness was accepted: the credentials, project, cluster and task were real.
    accepted: u32,
    /// Every task was shown failed before its doors (the read API, at the start).
    tasks_proven: bool,
}

impl Groups {
    pub fn new(doors: usize) -> Groups {
        Groups::with_classes(vec![(0, 0); doors])
    }

    /// The search over doors of these classes (one per door).
    pub(crate) fn with_classes(classes: Vec<(u8, u8)>) -> Groups {
        Groups {
            acted_on: vec![0; classes.len()],
            doors: classes.len(),
            classes,
            cleared: BTreeSet::new(),
            pinned: BTreeSet::new(),
            guilty: Vec::new(),
            unknown_in_a_row: 0,
            tested: 0,
            inconsistent: false,
            pinned_for_sure: BTreeSet::new(),
            accepted: 0,
            tasks_proven: false,
        }
    }

    /// The same search, told that every task was shown failed before its doors were sent.
    pub(crate) fn with_tasks_proven(mut self, proven: bool) -> Groups {
        self.tasks_proven = proven;
        self
    }

    /// The smallest group known to hold an acting door.
    fn smallest_guilty(&self) -> Option<&Vec<DoorId>> {
        self.guilty.iter().min_by_key(|g| g.len())
    }

    /// The doors to send on the next failed task, in order (empty: nothing is left to
    /// learn, or tasks that tell nothing are not worth spending further).
    pub(crate) fn next_group(&self) -> Vec<DoorId> {
        // Two tasks in a row told nothing; and never more tasks than could pin every door.
        if self.unknown_in_a_row >= 2 || self.tested >= 2 * self.doors + 2 {
            return Vec::new();
        }
        if let Some(g) = self.smallest_guilty() {
            return g[..self.split(g)].to_vec();
        }
        (0..self.doors)
            .filter(|d| !self.cleared.contains(d) && !self.pinned.contains(d))
            .collect()
    }

    /// Where to split `group`: between its first clause and the rest if it spans several; else
    /// at the boundary between families nearest its middle; else in the middle.
    fn split(&self, group: &[DoorId]) -> usize {
        let class = |i: usize| self.classes.get(group[i]).copied().unwrap_or_default();
        let half = group.len().div_ceil(2);
        if let Some(i) = (1..group.len()).find(|&i| class(i).0 != class(0).0) {
            return i;
        }
        (1..group.len())
            .filter(|&i| class(i) != class(i - 1))
            .min_by_key(|&i| i.abs_diff(half))
            .unwrap_or(half)
    }

    /// What the task that carried `group` showed.
    pub fn record(&mut self, group: &[DoorId], outcome: Outcome) {
        self.tested += 1;
        self.unknown_in_a_row = match outcome {
            Outcome::Unknown => self.unknown_in_a_row + 1,
            _ => 0,
        };
        match &outcome {
            Outcome::Acted => {
                for d in group {
                    if let Some(n) = self.acted_on.get_mut(*d) {
                        *n += 1;
                    }
                }
            }
            Outcome::Pinned { door, .. } => {
                self.pinned_for_sure.insert(*door);
            }
            Outcome::Harmless => self.accepted += 1,
            Outcome::Unknown => {}
        }
        match outcome {
            Outcome::Harmless => self.clear(group),
            Outcome::Acted => {
                // In the doors' order (by class), whatever order they were sent in.
                let mut left: Vec<DoorId> = group
                    .iter()
                    .copied()
                    .filter(|d| !self.cleared.contains(d) && !self.pinned.contains(d))
                    .collect();
                left.sort_unstable();
                left.dedup();
                self.guilty.push(left);
                self.settle();
            }
            Outcome::Pinned { door, before } => {
                self.clear(&before);
                self.pin(door);
            }
            Outcome::Unknown => {}
        }
    }

    fn clear(&mut self, group: &[DoorId]) {
        self.cleared.extend(group.iter().copied());
        for g in &mut self.guilty {
            g.retain(|d| !group.contains(d));
        }
        if self.guilty.iter().any(Vec::is_empty) {
            self.inconsistent = true;
        }
        self.guilty.retain(|g| !g.is_empty());
        self.settle();
    }

    fn pin(&mut self, door: DoorId) {
        self.pinned.insert(door);
        self.cleared.remove(&door);
        // A group it belongs to is explained by it.
        self.guilty.retain(|g| !g.contains(&door));
    }

    /// A guilty group of one door pins it.
    fn settle(&mut self) {
        while let Some(one) = self.guilty.iter().find(|g| g.len() == 1).map(|g| g[0]) {
            self.pin(one);
        }
    }

    /// What is known of `door`.
    pub fn verdict(&self, door: DoorId) -> DoorVerdict {
        if self.pinned.contains(&door) {
            DoorVerdict::Acted
        } else if let Some(g) = self
            .guilty
            .iter()
            .filter(|g| g.contains(&door))
            .min_by_key(|g| g.len())
        {
            DoorVerdict::AmongActed(g.clone())
        } else if self.cleared.contains(&door) {
            DoorVerdict::Harmless
        } else {
            DoorVerdict::Unjudged
        }
    }

    /// Whether what is known of `door`'s effect cannot be a fixture's doing: pinned by the
    /// read API or by its own acceptance; or its tasks were shown failed; or it was among the
    /// doors on two tasks that a door acted on while another task's witness was accepted (a
    /// used-up task would not do that twice while the fixtures work).
    pub(crate) fn confirmed(&self, door: DoorId) -> bool {
        self.pinned_for_sure.contains(&door)
            || self.tasks_proven
            || (self.accepted >= 1 && self.acted_on.get(door).copied().unwrap_or(0) >= 2)
    }

    /// Whether the server acted once through a door and then not again through the same doors.
    pub fn inconsistent(&self) -> bool {
        self.inconsistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search with `tasks` tasks against a server on which the doors in `acting`
    /// act (the witness is refused when the group holds one); returns the verdicts.
    fn search(doors: usize, acting: &[DoorId], tasks: usize) -> (Groups, usize) {
        let mut g = Groups::new(doors);
        let mut used = 0;
        for _ in 0..tasks {
            let group = g.next_group();
            if group.is_empty() {
                break;
            }
            used += 1;
            let acted = group.iter().any(|d| acting.contains(d));
            g.record(
                &group,
                if acted {
                    Outcome::Acted
                } else {
                    Outcome::Harmless
                },
            );
        }
        (g, used)
    }

    #[test]
    fn one_task_clears_every_door_of_a_conforming_server() {
        let (g, used) = search(22, &[], 3);
        assert_eq!(used, 1);
        assert!((0..22).all(|d| g.verdict(d) == DoorVerdict::Harmless));
        assert!(g.next_group().is_empty());
    }

    #[test]
    fn one_task_detects_an_acting_door_without_pinning_it() {
        let (g, _) = search(22, &[7], 1);
        assert_eq!(g.verdict(7), DoorVerdict::AmongActed((0..22).collect()));
        assert_eq!(g.verdict(0), DoorVerdict::AmongActed((0..22).collect()));
    }

    #[test]
    fn bisection_pins_the_one_acting_door_in_one_plus_log2_tasks() {
        for acting in 0..22 {
            let (g, used) = search(22, &[acting], 10);
            assert_eq!(g.verdict(acting), DoorVerdict::Acted, "door {acting}");
            for d in (0..22).filter(|d| *d != acting) {
                assert_eq!(
                    g.verdict(d),
                    DoorVerdict::Harmless,
                    "door {d}, acting {acting}"
                );
            }
            // 1 to detect, 5 halvings of 22, 1 to clear the rest again at most.
            assert!(used <= 7, "door {acting}: {used} tasks");
        }
    }

    #[test]
    fn two_tasks_halve_the_suspects() {
        let (g, _) = search(22, &[20], 2);
        let DoorVerdict::AmongActed(group) = g.verdict(20) else {
            panic!("{:?}", g.verdict(20));
        };
        assert_eq!(group, (11..22).collect::<Vec<_>>());
        assert_eq!(g.verdict(3), DoorVerdict::Harmless);
    }

    #[test]
    fn a_group_is_split_between_clauses_first_then_between_families() {
        let classes = vec![
            (0, 0),
            (0, 0),
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 2),
            (1, 0),
            (1, 0),
        ];
        let mut g = Groups::with_classes(classes);
        g.record(&(0..8).collect::<Vec<_>>(), Outcome::Acted);
        // One task tells which clause: the refusals, or the other methods.
        assert_eq!(g.next_group(), (0..6).collect::<Vec<_>>());
        g.record(&(0..6).collect::<Vec<_>>(), Outcome::Acted);
        // Within a clause, the family boundary nearest the middle.
        assert_eq!(g.next_group(), vec![0, 1]);
        g.record(&[0, 1], Outcome::Harmless);
        assert_eq!(g.next_group(), vec![2, 3, 4]);
        g.record(&[2, 3, 4], Outcome::Harmless);
        assert_eq!(g.verdict(5), DoorVerdict::Acted);
    }

    #[test]
    fn two_acting_doors_are_both_pinned_given_tasks_enough() {
        let (g, _) = search(8, &[1, 6], 20);
        assert_eq!(g.verdict(1), DoorVerdict::Acted);
        assert_eq!(g.verdict(6), DoorVerdict::Acted);
        assert!(
            (0..8)
                .filter(|d| ![1, 6].contains(d))
                .all(|d| g.verdict(d) == DoorVerdict::Harmless)
        );
    }

    #[test]
    fn the_read_api_pins_at_once_and_clears_the_doors_before() {
        let mut g = Groups::new(6);
        let group = g.next_group();
        g.record(
            &group,
            Outcome::Pinned {
                door: 3,
                before: vec![0, 1, 2],
            },
        );
        assert_eq!(g.verdict(3), DoorVerdict::Acted);
        assert_eq!(g.verdict(1), DoorVerdict::Harmless);
        // The doors after it said nothing: the task was no longer failed.
        assert_eq!(g.verdict(4), DoorVerdict::Unjudged);
        assert_eq!(g.next_group(), vec![4, 5]);
    }

    #[test]
    fn an_effect_a_used_up_task_would_explain_is_unconfirmed_until_shown_twice() {
        // One task, its witness refused: a door acted, or the task was not failed at all.
        let mut g = Groups::new(4);
        g.record(&[0, 1, 2, 3], Outcome::Acted);
        assert!(!g.confirmed(0));
        // The first half cleared (the fixtures work), the second refused again: shown twice.
        g.record(&[0, 1], Outcome::Harmless);
        assert!(!g.confirmed(2));
        g.record(&[2], Outcome::Acted);
        assert_eq!(g.verdict(2), DoorVerdict::Acted);
        assert!(g.confirmed(2));
        // The read API pins for sure; tasks shown failed beforehand confirm any effect.
        let mut g = Groups::new(4);
        g.record(
            &[0, 1],
            Outcome::Pinned {
                door: 1,
                before: vec![0],
            },
        );
        assert!(g.confirmed(1));
        let mut g = Groups::new(4).with_tasks_proven(true);
        g.record(&[0, 1, 2, 3], Outcome::Acted);
        assert!(g.confirmed(3));
    }

    #[test]
    fn tasks_that_tell_nothing_stop_the_search() {
        let mut g = Groups::new(4);
        for _ in 0..2 {
            let group = g.next_group();
            g.record(&group, Outcome::Unknown);
        }
        assert!(g.next_group().is_empty());
        assert_eq!(g.verdict(0), DoorVerdict::Unjudged);
    }

    #[test]
    fn a_server_that_acts_once_and_not_again_is_noticed() {
        let mut g = Groups::new(2);
        g.record(&[0, 1], Outcome::Acted);
        g.record(&[0], Outcome::Harmless);
        // Door 1 is left alone in the guilty group: pinned.
        assert_eq!(g.verdict(1), DoorVerdict::Acted);
        let mut g = Groups::new(4);
        g.record(&[0, 1, 2, 3], Outcome::Acted);
        g.record(&[0, 1], Outcome::Harmless);
        g.record(&[2], Outcome::Harmless);
        assert_eq!(g.verdict(3), DoorVerdict::Acted);
        let mut g = Groups::new(2);
        g.record(&[0, 1], Outcome::Acted);
        g.record(&[0, 1], Outcome::Harmless);
        assert!(g.inconsistent());
    }
}
