//! The fuzzer's generation core, free of the domain: a seeded test runner, a weighted choice
//! cheaper than proptest's `Union`, strings of a regular pattern made a length and a seed at a
//! time, and lengths spread over octaves. `strategy` builds the contract's cases from these.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::string::string_regex;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A test runner whose random stream is a function of `(a, b)` alone. XorShift, not proptest's
/// default ChaCha, whose set-up per runner made a third of the cost of generating a case; `a`
/// and `b` are mixed first (SplitMix64), since XorShift's first outputs from a sparse seed are
/// poor. No failure persistence: nothing here is a test that could persist one.
pub(crate) fn seeded_runner(a: u64, b: u64) -> TestRunner {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let low = mix(b ^ mix(a));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&low.to_le_bytes());
    bytes[8..].copy_from_slice(&mix(low).to_le_bytes());
    // Made once: proptest's default clones its failure persistence, to be dropped here.
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| Config {
        failure_persistence: None,
        ..Config::default()
    });
    TestRunner::new_with_rng(
        config.clone(),
        TestRng::from_seed(RngAlgorithm::XorShift, &bytes),
    )
}

/// One of weighted `options`, as proptest's `Union`, and shrinking as it does (within the
/// option picked, then to the options before it), but cheaper to make: `Union` clones the test
/// runner, and so seeds a generator, for every option before the one picked, in case shrinking
/// gets there; this keeps one seed and makes an earlier option's tree from it only then.
pub(crate) fn one_of<T: std::fmt::Debug + 'static>(
    options: Vec<(u32, BoxedStrategy<T>)>,
) -> BoxedStrategy<T> {
    assert!(
        options.iter().any(|(w, _)| *w > 0),
        "one_of needs an option of some weight"
    );
    OneOf {
        options: std::sync::Arc::new(options),
    }
    .boxed()
}

#[derive(Debug)]
struct OneOf<T: std::fmt::Debug> {
    options: std::sync::Arc<Vec<(u32, BoxedStrategy<T>)>>,
}

impl<T: std::fmt::Debug + 'static> Strategy for OneOf<T> {
    type Tree = OneOfTree<T>;
    type Value = T;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let total: u64 = self.options.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut at = runner.rng().next_u64() % total;
        let pick = self
            .options
            .iter()
            .position(|(w, _)| {
                let here = at < u64::from(*w);
                at = at.saturating_sub(u64::from(*w));
                here
            })
            .unwrap_or(self.options.len() - 1);
        let seed = runner.rng().next_u64();
        let mut trees: Vec<Option<Box<dyn ValueTree<Value = T>>>> = Vec::with_capacity(pick + 1);
        trees.resize_with(pick, || None);
        trees.push(Some(self.options[pick].1.new_tree(runner)?));
        Ok(OneOfTree {
            options: std::sync::Arc::clone(&self.options),
            seed,
            trees,
            pick,
            min_pick: 0,
            prev_pick: None,
        })
    }
}

struct OneOfTree<T: std::fmt::Debug> {
    options: std::sync::Arc<Vec<(u32, BoxedStrategy<T>)>>,
    seed: u64,
    /// The trees made so far, by option; `pick` and `prev_pick` always have one.
    trees: Vec<Option<Box<dyn ValueTree<Value = T>>>>,
    pick: usize,
    min_pick: usize,
    prev_pick: Option<usize>,
}

impl<T: std::fmt::Debug> OneOfTree<T> {
    fn tree(&mut self, option: usize) -> Option<&mut Box<dyn ValueTree<Value = T>>> {
        if self.trees[option].is_none() {
            let mut runner = seeded_runner(self.seed, option as u64);
            self.trees[option] = self.options[option].1.new_tree(&mut runner).ok();
        }
        self.trees[option].as_mut()
    }
}

impl<T: std::fmt::Debug> ValueTree for OneOfTree<T> {
    type Value = T;

    fn current(&self) -> T {
        match &self.trees[self.pick] {
            Some(tree) => tree.current(),
            None => unreachable!("the picked option always has a tree"),
        }
    }

    fn simplify(&mut self) -> bool {
        if self.tree(self.pick).is_some_and(|t| t.simplify()) {
            self.prev_pick = None;
            return true;
        }
        // Then the options before it, the nearest first.
        let from = self.pick;
        for option in (self.min_pick..from).rev() {
            if self.tree(option).is_some() {
                self.prev_pick = Some(from);
                self.pick = option;
                return true;
            }
        }
        false
    }

    fn complicate(&mut self) -> bool {
        if let Some(pick) = self.prev_pick.take() {
            self.pick = pick;
            self.min_pick = pick;
            return true;
        }
        self.tree(self.pick).is_some_and(|t| t.complicate())
    }
}

/// One piece of a simple pattern: a literal, or `min..=max` characters of a class.
#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    Class {
        chars: Vec<char>,
        min: u32,
        max: u32,
    },
}

/// The pieces of `pattern` if it is a concatenation of literals and bounded repetitions of
/// character classes (anchors allowed), as the spec's formats are.
fn simple_pieces(pattern: &str) -> Option<Vec<Piece>> {
    use regex_syntax::hir::{Class, Hir, HirKind, Look};
    fn piece(hir: &Hir, min: u32, max: u32) -> Option<Piece> {
        match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => {
                let chars: Vec<char> = class.iter().flat_map(|r| r.start()..=r.end()).collect();
                (chars.len() <= 512).then_some(Piece::Class { chars, min, max })
            }
            HirKind::Literal(lit) if min == 1 && max == 1 => {
                Some(Piece::Literal(String::from_utf8(lit.0.to_vec()).ok()?))
            }
            _ => None,
        }
    }
    let hir = regex_syntax::parse(pattern).ok()?;
    let parts = match hir.kind() {
        HirKind::Concat(parts) => parts.clone(),
        _ => vec![hir],
    };
    let mut pieces = Vec::new();
    for part in &parts {
        match part.kind() {
            HirKind::Look(Look::Start | Look::End) => {}
            HirKind::Repetition(r) => pieces.push(piece(&r.sub, r.min, r.max?)?),
            _ => pieces.push(piece(part, 1, 1)?),
        }
    }
    Some(pieces)
}

/// `pattern` without a leading `^` and a trailing `$`, which `string_regex` does not take.
fn unanchored(pattern: &str) -> &str {
    pattern.trim_start_matches('^').trim_end_matches('$')
}

/// Whether `arb_matching` can generate strings of `pattern` (the spec's formats must be).
pub(crate) fn generable(pattern: &str) -> Result<(), String> {
    if simple_pieces(pattern).is_some() {
        return Ok(());
    }
    string_regex(unanchored(pattern))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Strings matching `pattern`. A concatenation of literals and bounded repetitions of
/// character classes (`^[0-9a-f]{8}-[0-9a-f]{4}$`, `[ -~]{65,300}`) is made from one length
/// per variable piece and one seed, not character by character as `string_regex` does (its
/// value tree per character cost most of the fuzzer's generation time); it shrinks by length
/// only (a smaller seed is not a simpler string). Any other pattern goes to `string_regex`.
pub fn arb_matching(pattern: &str) -> BoxedStrategy<String> {
    let Some(pieces) = simple_pieces(pattern) else {
        return string_regex(unanchored(pattern))
            .unwrap_or_else(|e| unreachable!("the fuzzer checks `check_formats` first: {e}"))
            .boxed();
    };
    // A length for each class piece (a fixed one shrinks nowhere), one seed for the characters.
    let lengths: Vec<BoxedStrategy<u32>> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Class { min, max, .. } => Some(arb_length(*min, *max)),
            Piece::Literal(_) => None,
        })
        .collect();
    Matching {
        draws: (lengths, any::<u64>().no_shrink()),
        pieces: std::sync::Arc::new(pieces),
    }
    .boxed()
}

/// The strings of `pieces`, each made from a length per class piece and a seed drawn by
/// `draws`. A tree makes its string once per value it takes, not on every `current` (a
/// filter, the maps around it and the fuzzer each ask, and a long ID costs to make).
#[derive(Debug)]
struct Matching<S> {
    draws: S,
    pieces: std::sync::Arc<Vec<Piece>>,
}

impl<S: Strategy<Value = (Vec<u32>, u64)>> Strategy for Matching<S> {
    type Tree = MatchingTree<S::Tree>;
    type Value = String;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let draws = self.draws.new_tree(runner)?;
        let current = made(&self.pieces, draws.current());
        Ok(MatchingTree {
            draws,
            pieces: std::sync::Arc::clone(&self.pieces),
            current,
        })
    }
}

#[derive(Debug)]
struct MatchingTree<T> {
    draws: T,
    pieces: std::sync::Arc<Vec<Piece>>,
    current: String,
}

impl<T: ValueTree<Value = (Vec<u32>, u64)>> ValueTree for MatchingTree<T> {
    type Value = String;

    fn current(&self) -> String {
        self.current.clone()
    }

    fn simplify(&mut self) -> bool {
        let changed = self.draws.simplify();
        self.current = made(&self.pieces, self.draws.current());
        changed
    }

    fn complicate(&mut self) -> bool {
        let changed = self.draws.complicate();
        self.current = made(&self.pieces, self.draws.current());
        changed
    }
}

/// The string of `pieces` for one draw of lengths and seed.
fn made(pieces: &[Piece], (lengths, seed): (Vec<u32>, u64)) -> String {
    let size = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Literal(l) => Some(l.len()),
            Piece::Class { .. } => None,
        })
        .sum::<usize>()
        + lengths.iter().map(|&n| n as usize).sum::<usize>();
    let mut lengths = lengths.into_iter();
    let mut x = seed | 1;
    let mut out = String::with_capacity(size);
    for p in pieces {
        match p {
            Piece::Literal(l) => out.push_str(l),
            Piece::Class { chars, .. } => {
                for _ in 0..lengths.next().unwrap_or(0) {
                    // xorshift64: cheap, deterministic filler
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    out.push(chars[pick(x, chars.len())]);
                }
            }
        }
    }
    out
}

/// `x % len`, by a mask where `len` is a power of two (the hex alphabet), since a division
/// per character was most of the cost of making a long ID.
fn pick(x: u64, len: usize) -> usize {
    let len = len as u64;
    (if len.is_power_of_two() {
        x & (len - 1)
    } else {
        x % len
    }) as usize
}

/// A length from `min` to `max` whose excess over `min - 1` falls in each octave (1, 2-3, 4-7,
/// ... 4,096-8,191 ...) as often as in another, so that the limits servers trip over (128,
/// 255, 1 KiB, 8 KiB ...) are all reached, not mostly the upper half of a wide range. Shrinks
/// toward `min`, by octave and then within it.
pub fn arb_length(min: u32, max: u32) -> BoxedStrategy<u32> {
    let span = max.saturating_sub(min);
    let octaves = span.saturating_add(1).ilog2();
    // `within` takes 2^(octaves + 1) values, a multiple of every octave's width (but a top
    // octave cut short by `max`), so it is uniform in each, and shrinks in about as many steps
    // as there are octaves.
    (0..=octaves, 0..=u32::MAX >> (31 - octaves))
        .prop_map(move |(octave, within)| {
            let low = (1u32 << octave) - 1;
            let width = (1u32 << octave).min(span - low + 1);
            min + low + within % width
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_patterns_are_matched_and_others_fall_back_to_string_regex() {
        let mut runner = TestRunner::deterministic();
        for pattern in [
            "^[0-9a-f]{32}$",
            "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "^[ -~]{65,300}$",
            "^[a-z_]{1,16}$",
            "^[ -~]{0,16}$",
            "^(ab|cd)+x*$",
        ] {
            let re = regex::Regex::new(pattern).unwrap();
            let s = arb_matching(pattern);
            let mut lengths = std::collections::BTreeSet::new();
            for _ in 0..300 {
                let v = s.new_tree(&mut runner).unwrap().current();
                assert!(re.is_match(&v), "{pattern}: {v:?}");
                lengths.insert(v.chars().count());
            }
            assert!(pattern.contains("{32}") || pattern.contains("{12}") || lengths.len() > 5);
        }
        assert!(simple_pieces("^(ab|cd)+$").is_none());
        // Shrinking goes toward the shortest length.
        let mut tree = arb_matching("[a-z]{3,40}").new_tree(&mut runner).unwrap();
        while tree.simplify() {}
        assert_eq!(tree.current().len(), 3);
    }

    #[test]
    fn lengths_reach_every_octave_stay_in_range_and_shrink_to_the_minimum() {
        let mut runner = TestRunner::deterministic();
        let s = arb_length(65, 10_000);
        let mut octaves = std::collections::BTreeMap::<u32, u32>::new();
        for _ in 0..1400 {
            let n = s.new_tree(&mut runner).unwrap().current();
            assert!((65..=10_000).contains(&n), "{n}");
            *octaves.entry((n - 65 + 1).ilog2()).or_default() += 1;
        }
        // 14 octaves (0 ..= 13), about 100 each; uniform lengths would put 1 in 10,000 in
        // octave 0 and about 60 % in the top two.
        assert_eq!(octaves.len(), 14, "{octaves:?}");
        assert!(
            octaves.values().all(|&n| (50..=160).contains(&n)),
            "{octaves:?}"
        );
        for (min, max) in [(0, 0), (32, 32), (0, 16), (1, 12), (2, 2000)] {
            let mut tree = arb_length(min, max).new_tree(&mut runner).unwrap();
            assert!((min..=max).contains(&tree.current()));
            while tree.simplify() {}
            assert_eq!(tree.current(), min);
        }
    }

    #[test]
    fn one_of_picks_by_weight_and_shrinks_to_earlier_options_as_union_does() {
        let s = one_of(vec![
            (1, Just(0u32).boxed()),
            (1, (10u32..20).boxed()),
            (2, (100u32..200).boxed()),
        ]);
        let mut runner = TestRunner::deterministic();
        let mut seen = [0u32; 3];
        for _ in 0..4000 {
            let mut tree = s.new_tree(&mut runner).unwrap();
            let v = tree.current();
            seen[match v {
                0 => 0,
                10..20 => 1,
                _ => 2,
            }] += 1;
            // Simplifying as far as it goes ends at the first option, as with `Union`.
            while tree.simplify() {}
            assert_eq!(tree.current(), 0, "from {v}");
        }
        assert!(seen[2] > 1700 && seen[0] > 800 && seen[1] > 800, "{seen:?}");
        // The same runner seed, the same values.
        let values = |mut r: TestRunner| -> Vec<u32> {
            (0..50)
                .map(|_| s.new_tree(&mut r).unwrap().current())
                .collect()
        };
        assert_eq!(values(seeded_runner(1, 2)), values(seeded_runner(1, 2)));
        assert_ne!(values(seeded_runner(1, 2)), values(seeded_runner(1, 3)));
        // Complicating after a move to an earlier option goes back to the later one.
        let mut runner = seeded_runner(7, 0);
        let mut tree = loop {
            let tree = s.new_tree(&mut runner).unwrap();
            if tree.current() >= 100 {
                break tree;
            }
        };
        while tree.current() >= 100 {
            assert!(tree.simplify());
        }
        assert!(tree.complicate());
        assert!(tree.current() >= 100);
    }
}
