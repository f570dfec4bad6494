//! proptest strategies for the cases nobody wrote down, derived from the spec: valid IDs from
//! the observed formats, malformed IDs in the families careless servers trip over, retry_mode
//! values that are not exactly the one allowed value. Every generated `Draft` carries exactly
//! one fault, so it has exactly one kind for the oracle to judge it by.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::string::string_regex;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use serde::{Deserialize, Serialize};

use crate::contract::request::{Case, Credentials, Request};
use crate::contract::spec::{IdParam, Kind, Spec};
use crate::text::{FileError, line_of};
use crate::transport::target::Target;

/// Where a path parameter's value comes from, decided when the case is sent: the fuzzer's
/// cases name the role of an ID, so the same case means the same thing on any target and
/// when it is replayed (a failed task is consumed once; a replay takes a fresh one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The target's own project or cluster.
    Own,
    /// A failed task taken from the target's pool (action_id only).
    FailedTask,
    /// A well-formed ID that names nothing on the target.
    Unknown,
    /// This exact value, in wire form.
    Literal(String),
}

/// A case before its IDs are chosen: what the fuzzer generates, shrinks and stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Draft {
    pub kind: Kind,
    pub project_id: Slot,
    pub cluster_id: Slot,
    pub action_id: Slot,
    pub retry_mode: Vec<String>,
    #[serde(default)]
    pub extra_query: Vec<(String, String)>,
    pub credentials: Credentials,
}

pub use crate::fixtures::{UNKNOWN_PROJECT_ID, UNKNOWN_UUID};

impl Draft {
    /// The concrete case for `target`, or `None` when it needs a failed task and none is left.
    ///
    /// A failed task is consumed only by a case a conforming server accepts: one it refuses
    /// (an invalid or repeated retry_mode) goes to the task the target keeps for refusals, so
    /// that any number of them spend no task.
    pub fn resolve(&self, spec: &Spec, target: &Target) -> Option<Case> {
        let f = &target.fixtures;
        let consumes = spec.expectation(self.kind).accepts();
        let pick = |slot: &Slot, own: &str, unknown: &str| -> Option<String> {
            Some(match slot {
                Slot::Own => own.to_owned(),
                Slot::FailedTask if consumes => target.take_failed_task()?,
                Slot::FailedTask => target.refusal_task()?,
                Slot::Unknown => unknown.to_owned(),
                Slot::Literal(v) => v.clone(),
            })
        };
        Some(Case {
            kind: self.kind,
            request: Request {
                project_id: pick(&self.project_id, &f.project_id, UNKNOWN_PROJECT_ID)?,
                cluster_id: pick(&self.cluster_id, &f.cluster_id, UNKNOWN_UUID)?,
                action_id: pick(&self.action_id, UNKNOWN_UUID, UNKNOWN_UUID)?,
                retry_mode: self.retry_mode.clone(),
                extra_query: self.extra_query.clone(),
                credentials: self.credentials,
                method: None,
            },
        })
    }

    /// Whether sending it may change a task on a target that does not conform.
    pub(crate) fn mutates(&self) -> bool {
        self.action_id == Slot::FailedTask
    }

    /// The slot of a path parameter.
    pub(crate) fn slot_mut(&mut self, param: IdParam) -> &mut Slot {
        match param {
            IdParam::Project => &mut self.project_id,
            IdParam::Cluster => &mut self.cluster_id,
            IdParam::Action => &mut self.action_id,
        }
    }
}

/// Where the generated cases may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Whether cases may use real failed tasks (retries, aborts, invalid retry_modes against a
    /// real task). Off against live targets unless mutations are allowed.
    pub mutations: bool,
}

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

/// A value of the format the vendor's examples show for a path parameter.
pub(crate) fn arb_valid_id(spec: &Spec, param: IdParam) -> BoxedStrategy<String> {
    let format = spec
        .path_parameter(param.name())
        .map(|p| p.observed_format.clone())
        .unwrap_or_else(|| unreachable!("{param} is a path parameter of the spec"));
    arb_matching(&format)
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

/// Whether the fuzzer can generate values of every path parameter's format in `spec`
/// (`text` is the spec's YAML, `file` its name, for the error).
pub fn check_formats(spec: &Spec, text: &str, file: &std::path::Path) -> Result<(), FileError> {
    for p in &spec.path_parameters {
        if let Err(e) = generable(&p.observed_format) {
            return Err(FileError::Invalid {
                file: file.to_owned(),
                line: line_of(text, &p.observed_format, 0),
                key: "path_parameters.observed_format".to_owned(),
                message: format!("the fuzzer cannot generate values of it: {e}"),
            });
        }
    }
    Ok(())
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

/// Look-alikes of ASCII letters and digits, and other non-ASCII characters.
const LOOK_ALIKES: &[char] = &[
    'а', 'о', 'е', 'с', 'ο', 'ɑ', '０', '１', 'ａ', 'é', 'ß', '\u{200b}', '\u{00a0}', '🙂',
];
/// Characters a shell, SQL or template engine gives meaning to.
const METACHARACTERS: &[&str] = &[
    "'",
    "\"",
    ";",
    "|",
    "&",
    "$(id)",
    "`id`",
    "' OR '1'='1",
    "--",
    "<script>",
    "${jndi:x}",
    "*",
    "\\",
    "{{7*7}}",
];

/// Malformed IDs made of a valid one as a whole: blank-looking, padded, upper case, in
/// braces, or too long.
fn reshaped_ids(valid: &BoxedStrategy<String>) -> Vec<BoxedStrategy<String>> {
    vec![
        select(vec!["%20", "%09", "%20%20", "%0A", "%C2%A0", "+"])
            .prop_map(str::to_owned)
            .boxed(),
        (valid.clone(), select(vec![" ", "\t", "%20"]), any::<bool>())
            .prop_map(|(v, pad, front)| {
                if front {
                    format!("{pad}{v}")
                } else {
                    format!("{v}{pad}")
                }
            })
            .boxed(),
        valid
            .clone()
            .prop_map(|v| v.to_uppercase())
            .prop_filter("has a letter to raise", |v| {
                v.chars().any(|c| c.is_ascii_uppercase())
            })
            .boxed(),
        valid.clone().prop_map(|v| format!("{{{v}}}")).boxed(),
        arb_long_hex(),
    ]
}

/// Malformed IDs with something put into a valid one: encoded separators, control
/// characters, dot segments, a look-alike character, a metacharacter.
fn spliced_ids(valid: &BoxedStrategy<String>) -> Vec<BoxedStrategy<String>> {
    let insert = |v: &str, at: usize, what: &str| {
        let mut chars: Vec<char> = v.chars().collect();
        let at = at % (chars.len() + 1);
        let tail: Vec<char> = chars.split_off(at);
        format!(
            "{}{what}{}",
            chars.iter().collect::<String>(),
            tail.iter().collect::<String>()
        )
    };
    vec![
        (
            valid.clone(),
            any::<usize>(),
            select(vec![
                "%2F", "%2f", "%2E", "%00", "%5C", "%2e%2e", "%25", "%3F", "%23",
            ]),
        )
            .prop_map(move |(v, at, what)| insert(&v, at, what))
            .boxed(),
        (valid.clone(), any::<usize>(), 1u8..0x20)
            .prop_map(move |(v, at, c)| insert(&v, at, &char::from(c).to_string()))
            .boxed(),
        (
            valid.clone(),
            select(vec!["..%2F", "%2F..", "..%5C", "./", "%2E%2E%2F"]),
            any::<bool>(),
        )
            .prop_map(|(v, dots, front)| {
                if front {
                    format!("{dots}{v}")
                } else {
                    format!("{v}{dots}")
                }
            })
            .boxed(),
        (valid.clone(), any::<usize>(), select(LOOK_ALIKES.to_vec()))
            .prop_map(|(v, at, c)| {
                let mut chars: Vec<char> = v.chars().collect();
                let at = at % chars.len();
                chars[at] = c;
                chars.into_iter().collect()
            })
            .boxed(),
        (valid.clone(), select(METACHARACTERS.to_vec()))
            .prop_map(|(v, m)| format!("{v}{m}"))
            .boxed(),
    ]
}

/// A value of `param` that is not of the observed format, in wire form, from one family:
/// empty-looking, padded, upper case, without hyphens, in braces, very long, with encoded
/// separators or control characters, with dot segments, non-ASCII, or with metacharacters.
pub(crate) fn arb_malformed_id(spec: &Spec, param: IdParam) -> BoxedStrategy<String> {
    let valid = arb_valid_id(spec, param);
    let mut families = reshaped_ids(&valid);
    families.extend(spliced_ids(&valid));
    let observed = spec
        .path_parameter(param.name())
        .map_or("", |p| p.observed_format.as_str());
    if observed.contains('-') {
        families.push(valid.prop_map(|v| v.replace('-', "")).boxed());
    }
    let format = spec
        .observed_format(param.name())
        .cloned()
        .unwrap_or_else(|| unreachable!("{param} is a path parameter of the spec"));
    one_of(families.into_iter().map(|f| (1, f)).collect())
        .prop_filter("not of the observed format once decoded", move |v| {
            // Most have nothing to decode, and decoding nothing costs as much as decoding.
            if v.contains('%') {
                !format.is_match(&percent_encoding::percent_decode_str(v).decode_utf8_lossy())
            } else {
                !format.is_match(v)
            }
        })
        .boxed()
}

/// 65 to 10,000 lowercase hex characters (see `arb_length`): right alphabet, wrong length.
pub(crate) fn arb_long_hex() -> BoxedStrategy<String> {
    arb_matching("[0-9a-f]{65,10000}")
}

/// A single `retry_mode` value that is not exactly an allowed one: another case, padded,
/// empty, another word, a look-alike, with control or encoded characters, or long.
pub(crate) fn arb_invalid_retry_mode(spec: &Spec) -> BoxedStrategy<String> {
    let allowed = spec.retry_mode().allowed_values.clone();
    let value = allowed
        .first()
        .cloned()
        .unwrap_or_else(|| unreachable!("retry_mode has an allowed value"));
    let v = value.clone();
    let case_variant =
        proptest::collection::vec(any::<bool>(), value.chars().count()).prop_map(move |flips| {
            v.chars()
                .zip(flips)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect::<String>()
        });
    let v = value.clone();
    let padded = (
        select(vec!["", " ", "\t", "\n", "\u{00a0}"]),
        select(vec!["", " ", "\t", "\r\n", "\u{3000}"]),
    )
        .prop_filter("padded on some side", |(a, b)| {
            !a.is_empty() || !b.is_empty()
        })
        .prop_map(move |(a, b)| format!("{a}{v}{b}"));
    let v = value.clone();
    let look_alike = (any::<usize>(), select(LOOK_ALIKES.to_vec())).prop_map(move |(at, c)| {
        let mut chars: Vec<char> = v.chars().collect();
        let at = at % chars.len();
        chars[at] = c;
        chars.into_iter().collect::<String>()
    });
    let v = value.clone();
    let with_suffix = select(vec![
        "\0", "%00", "%2F", "\u{7f}", ";", ",", "x", " abort", "&", "=",
    ])
    .prop_map(move |s| format!("{v}{s}"));
    let v = value.clone();
    let long = arb_length(2, 2000).prop_map(move |n| v.repeat(n as usize));
    one_of(vec![
        (1, case_variant.boxed()),
        (1, padded.boxed()),
        (1, Just(String::new()).boxed()),
        (1, arb_matching("[a-z]{1,12}")),
        (1, look_alike.boxed()),
        (1, with_suffix.boxed()),
        (1, long.boxed()),
        (1, arb_matching("[ -~]{65,300}")),
    ])
    .prop_filter("not an allowed value", move |v| !allowed.contains(v))
    .boxed()
}

/// Every family of cases; `scope` decides whether real failed tasks may be used.
pub fn arb_draft(spec: &Spec, scope: Scope) -> BoxedStrategy<Draft> {
    let task = if scope.mutations {
        Slot::FailedTask
    } else {
        Slot::Unknown
    };
    let base = Draft {
        kind: Kind::UnknownTask,
        project_id: Slot::Own,
        cluster_id: Slot::Own,
        action_id: Slot::Unknown,
        retry_mode: Vec::new(),
        extra_query: Vec::new(),
        credentials: Credentials::Valid,
    };
    let allowed = spec.retry_mode().allowed_values.clone();
    let any_mode = prop_oneof![Just(Vec::<String>::new()), Just(allowed.clone())].boxed();
    let simple = |kind, f| arb_simple(&base, &any_mode, kind, f);
    let mut families: Vec<(u32, BoxedStrategy<Draft>)> = vec![
        (3, arb_invalid_mode_draft(spec, &base, &task)),
        (2, arb_repeated_mode_draft(spec, &base, &task)),
        (
            2,
            arb_malformed_draft(spec, &base, &any_mode, IdParam::Project),
        ),
        (
            2,
            arb_malformed_draft(spec, &base, &any_mode, IdParam::Cluster),
        ),
        (
            3,
            arb_malformed_draft(spec, &base, &any_mode, IdParam::Action),
        ),
        (
            1,
            simple(Kind::UnknownCluster, |d| d.cluster_id = Slot::Unknown),
        ),
        (1, simple(Kind::UnknownTask, |_| {})),
        (
            1,
            simple(Kind::MissingCredentials, |d| {
                d.credentials = Credentials::Missing
            }),
        ),
        (
            1,
            simple(Kind::InvalidCredentials, |d| {
                d.credentials = Credentials::Wrong
            }),
        ),
        (
            1,
            simple(Kind::ForeignProject, |d| d.project_id = Slot::Unknown),
        ),
        (1, arb_extra_parameter_draft(spec, &base, &task, scope)),
    ];
    if scope.mutations {
        for (kind, retry_mode) in [(Kind::Retry, Vec::new()), (Kind::Abort, allowed)] {
            let draft = Draft {
                kind,
                action_id: Slot::FailedTask,
                retry_mode,
                ..base.clone()
            };
            families.push((1, Just(draft).boxed()));
        }
    }
    one_of(families)
}

/// One `retry_mode` the page does not allow, on `task`.
fn arb_invalid_mode_draft(spec: &Spec, base: &Draft, task: &Slot) -> BoxedStrategy<Draft> {
    let (b, t) = (base.clone(), task.clone());
    arb_invalid_retry_mode(spec)
        .prop_map(move |v| Draft {
            kind: Kind::InvalidRetryMode,
            action_id: t.clone(),
            retry_mode: vec![v],
            ..b.clone()
        })
        .boxed()
}

/// `retry_mode` two or three times, allowed values and others, on `task`.
fn arb_repeated_mode_draft(spec: &Spec, base: &Draft, task: &Slot) -> BoxedStrategy<Draft> {
    let (b, t) = (base.clone(), task.clone());
    let allowed = spec.retry_mode().allowed_values.first().cloned();
    proptest::collection::vec(
        prop_oneof![
            Just(allowed.unwrap_or_default()),
            arb_invalid_retry_mode(spec)
        ],
        2..4,
    )
    .prop_map(move |modes| Draft {
        kind: Kind::RepeatedRetryMode,
        action_id: t.clone(),
        retry_mode: modes,
        ..b.clone()
    })
    .boxed()
}

/// A malformed `param`, with or without the allowed `retry_mode`.
fn arb_malformed_draft(
    spec: &Spec,
    base: &Draft,
    any_mode: &BoxedStrategy<Vec<String>>,
    param: IdParam,
) -> BoxedStrategy<Draft> {
    let b = base.clone();
    (arb_malformed_id(spec, param), any_mode.clone())
        .prop_map(move |(v, modes)| {
            let mut d = Draft {
                kind: Kind::MalformedId,
                retry_mode: modes,
                ..b.clone()
            };
            *d.slot_mut(param) = Slot::Literal(v);
            d
        })
        .boxed()
}

/// The base draft made a `kind` by `f`, with or without the allowed `retry_mode`.
fn arb_simple(
    base: &Draft,
    any_mode: &BoxedStrategy<Vec<String>>,
    kind: Kind,
    f: fn(&mut Draft),
) -> BoxedStrategy<Draft> {
    let b = base.clone();
    any_mode
        .clone()
        .prop_map(move |modes| {
            let mut d = Draft {
                kind,
                retry_mode: modes,
                ..b.clone()
            };
            f(&mut d);
            d
        })
        .boxed()
}

/// A query parameter the page does not name, on `task`.
fn arb_extra_parameter_draft(
    spec: &Spec,
    base: &Draft,
    task: &Slot,
    scope: Scope,
) -> BoxedStrategy<Draft> {
    let (b, t) = (base.clone(), task.clone());
    let retry_name = spec.retry_mode().name.clone();
    (arb_matching("[a-z_]{1,16}"), arb_matching("[ -~]{0,16}"))
        .prop_filter("not retry_mode", move |(n, _)| *n != retry_name)
        .prop_map(move |(n, v)| Draft {
            kind: if scope.mutations {
                Kind::ExtraParameter
            } else {
                Kind::UnknownTask
            },
            action_id: t.clone(),
            extra_query: vec![(n, v)],
            ..b.clone()
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn valid_ids_match_the_observed_format() {
        let spec = Spec::embedded();
        let mut runner = TestRunner::deterministic();
        for param in IdParam::ALL {
            let re = regex::Regex::new(&spec.path_parameter(param.name()).unwrap().observed_format)
                .unwrap();
            let s = arb_valid_id(&spec, param);
            for _ in 0..100 {
                let v = s.new_tree(&mut runner).unwrap().current();
                assert!(re.is_match(&v), "{param}: {v}");
            }
        }
    }

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

    #[test]
    fn invalid_retry_modes_are_never_the_allowed_value() {
        let spec = Spec::embedded();
        let mut runner = TestRunner::deterministic();
        let s = arb_invalid_retry_mode(&spec);
        for _ in 0..500 {
            assert_ne!(s.new_tree(&mut runner).unwrap().current(), "abort");
        }
    }

    #[test]
    fn without_mutations_no_case_uses_a_failed_task() {
        let spec = Spec::embedded();
        let mut runner = TestRunner::deterministic();
        let s = arb_draft(&spec, Scope { mutations: false });
        for _ in 0..2000 {
            let d = s.new_tree(&mut runner).unwrap().current();
            assert!(!d.mutates(), "{d:?}");
            assert!(!matches!(
                d.kind,
                Kind::Retry | Kind::Abort | Kind::ExtraParameter
            ));
        }
    }
}
