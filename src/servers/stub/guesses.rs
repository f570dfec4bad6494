//! Wrong credentials on the reset path: guessing is made slow, never the user. The right
//! credentials are checked first and always answered at once; each wrong guess is answered
//! only after a delay that grows with the wrong guesses of the last `GUESS_WINDOW`, from every
//! source together (a guesser that cycles its source addresses gains nothing), so that the
//! guesses a client can make are bounded by the connections it may hold. What is kept is a
//! counter a second, whatever the number of sources.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window over which wrong guesses are counted.
pub const GUESS_WINDOW: Duration = Duration::from_secs(10);
/// What each wrong guess in the window adds to the next one's delay.
pub(crate) const COST_PER_GUESS: Duration = Duration::from_millis(20);
/// The longest a wrong guess is held.
pub const LONGEST_DELAY: Duration = Duration::from_secs(2);

const SECONDS: usize = GUESS_WINDOW.as_secs() as usize;

/// The wrong guesses of the last `GUESS_WINDOW`, from every source: one counter a second.
#[derive(Debug)]
pub(crate) struct Guesses {
    counts: Mutex<([u32; SECONDS], u64)>,
    epoch: Instant,
}

impl Default for Guesses {
    fn default() -> Guesses {
        Guesses {
            counts: Mutex::new(([0; SECONDS], 0)),
            epoch: Instant::now(),
        }
    }
}

impl Guesses {
    /// Counts one wrong guess; how long to hold its answer: the cost of the wrong guesses
    /// already in the window, at most `LONGEST_DELAY`.
    pub(super) fn refused(&self) -> Duration {
        let now = self.epoch.elapsed().as_secs();
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (buckets, last) = &mut *counts;
        // The seconds since the last guess start empty.
        for second in (*last + 1)..=now.min(*last + SECONDS as u64) {
            buckets[(second % SECONDS as u64) as usize] = 0;
        }
        *last = now.max(*last);
        let slot = (now % SECONDS as u64) as usize;
        let before: u32 = buckets.iter().sum();
        buckets[slot] = buckets[slot].saturating_add(1);
        (COST_PER_GUESS * before).min(LONGEST_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wrong_guess_costs_more_up_to_a_bound_and_the_window_forgets() {
        let g = Guesses::default();
        assert_eq!(g.refused(), Duration::ZERO);
        assert_eq!(g.refused(), COST_PER_GUESS);
        for _ in 0..500 {
            g.refused();
        }
        assert_eq!(g.refused(), LONGEST_DELAY);
        // A window later, the counters start again.
        let old = Guesses {
            counts: Mutex::new(([50; SECONDS], 0)),
            epoch: Instant::now() - GUESS_WINDOW - Duration::from_secs(1),
        };
        assert_eq!(old.refused(), Duration::ZERO);
    }
}
