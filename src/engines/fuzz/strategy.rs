//! proptest strategies for the cases nobody wrote down, derived from the spec: valid IDs from
//! the observed formats, malformed IDs in the families careless servers trip over, retry_mode
//! values that are not exactly the one allowed value. Every generated `Draft` carries exactly
//! one fault, so it has exactly one kind for the oracle to judge it by.

use proptest::prelude::*;
use proptest::sample::select;

use crate::contract::request::{Case, Credentials, Request, Shape};
use crate::contract::spec::{IdParam, Kind, Spec};
use crate::file_error::{FileError, line_of};
use crate::transport::target::Target;

use super::generation::{arb_length, arb_matching, generable, one_of};

pub use crate::fixtures::{UNKNOWN_PROJECT_ID, UNKNOWN_UUID};
pub use crate::records::draft::{Draft, Slot};

impl Draft {
    /// The plain retry of a task that names nothing, in the run's own project and cluster.
    pub(crate) fn on_unknown_task() -> Draft {
        Draft {
            kind: Kind::UnknownTask,
            project_id: Slot::Own,
            cluster_id: Slot::Own,
            action_id: Slot::Unknown,
            retry_mode: Vec::new(),
            extra_query: Vec::new(),
            credentials: Credentials::Valid,
            method: None,
            shape: Shape::default(),
        }
    }

    /// The concrete case for `target`, or `None` when it needs a failed task and none is left.
    ///
    /// A failed task is consumed only by a case a conforming server accepts: one it refuses
    /// (an invalid or repeated retry_mode) goes to the task the target keeps for refusals, so
    /// that any number of them spend no task.
    pub fn resolve(&self, spec: &Spec, target: &Target) -> Option<Case> {
        let f = target.fixtures();
        let consumes = spec.expectation(self.kind).accepts();
        let pick = |slot: &Slot, own: &str, unknown: &str| -> Option<String> {
            Some(match slot {
                Slot::Own => own.to_owned(),
                Slot::FailedTask if consumes => target.take_failed_task()?,
                Slot::FailedTask => target.refusal_task()?,
                Slot::Unknown => unknown.to_owned(),
                // The own ID in capitals where it is the run's, else the unknown one's.
                Slot::Upper if own.is_empty() => unknown.to_ascii_uppercase(),
                // An ID without small letters is itself in capitals: no such case here.
                Slot::Upper => crate::contract::doors::in_capitals(own)?,
                Slot::Literal(v) => v.clone(),
            })
        };
        Some(Case {
            kind: self.kind,
            request: Request {
                project_id: pick(&self.project_id, &f.project_id, UNKNOWN_PROJECT_ID)?,
                cluster_id: pick(&self.cluster_id, &f.cluster_id, UNKNOWN_UUID)?,
                action_id: pick(&self.action_id, "", UNKNOWN_UUID)?,
                retry_mode: self.retry_mode.clone(),
                extra_query: self.extra_query.clone(),
                credentials: self.credentials,
                method: self.method.clone(),
                shape: self.shape.clone(),
            },
        })
    }

    /// Whether sending it may change a task on a target that does not conform.
    pub(crate) fn mutates(&self) -> bool {
        self.action_id == Slot::FailedTask
    }

    /// Whether it may act on a task at all: one of the target's failed tasks, or a
    /// well-formed task ID it names itself (which may be a real task) in a request a
    /// conforming server would act on if the task were failed.
    pub(crate) fn may_act(&self, spec: &Spec) -> bool {
        let names_a_task = match &self.action_id {
            Slot::FailedTask => true,
            Slot::Literal(id) => spec
                .observed_format(crate::contract::spec::IdParam::Action.name())
                .is_some_and(|re| re.is_match(&crate::contract::classify::decode(id))),
            Slot::Own | Slot::Unknown | Slot::Upper => false,
        };
        let on_a_failed_task = match self.kind {
            Kind::MalformedId => false,
            kind => spec.expectation(kind).accepts() || kind == Kind::UnknownTask,
        };
        names_a_task && (on_a_failed_task || self.mutates())
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

/// A value of the format the vendor's examples show for a path parameter.
pub(crate) fn arb_valid_id(spec: &Spec, param: IdParam) -> BoxedStrategy<String> {
    let format = spec
        .path_parameter(param.name())
        .map(|p| p.observed_format.clone())
        .unwrap_or_else(|| unreachable!("{param} is a path parameter of the spec"));
    arb_matching(&format)
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
                if chars.is_empty() {
                    return c.to_string();
                }
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
    let base = Draft::on_unknown_task();
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
    // Every family of the spec's grammar, on a task that names nothing.
    let grammar = grammar_drafts(spec);
    if !grammar.is_empty() {
        families.push((3, select(grammar).boxed()));
    }
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

/// Each family of the spec's grammar as a draft on a task that names nothing: the door the
/// family makes, its IDs by role (the run's own, one that names nothing, either in capitals),
/// its method, credentials, retry_mode and form.
pub(crate) fn grammar_drafts(spec: &Spec) -> Vec<Draft> {
    use crate::contract::doors::{self, Id, Reach};
    // A signature's faults only a target reached with AK/SK can be sent (through a token
    // they would be the wrong credentials again): the doors and the features ask them.
    let reach = Reach {
        aksk: false,
        foreign_project: Some(crate::fixtures::UNKNOWN_PROJECT_ID),
    };
    let Ok(doors) = doors::of_spec(spec, reach) else {
        return Vec::new();
    };
    let slot = |id: &Id, own: Slot| match id {
        Id::Real => Some(own),
        Id::Upper => Some(Slot::Upper),
        Id::Unknown | Id::Foreign => Some(Slot::Unknown),
        Id::Template(t) if own == Slot::Unknown => {
            Some(Slot::Literal(t.replace("{id}", UNKNOWN_UUID)))
        }
        Id::Literal(v) => Some(Slot::Literal(v.clone())),
        Id::Template(_) => None,
    };
    // The variations a conforming server serves as the operation, on a task that names
    // nothing: what an unknown task gets.
    let variations = spec.variations().map(|(_, v)| Draft {
        shape: doors::shape_of(v),
        ..Draft::on_unknown_task()
    });
    doors
        .iter()
        .filter_map(|d| {
            Some(Draft {
                kind: d.kind,
                project_id: slot(&d.ids[0], Slot::Own)?,
                cluster_id: slot(&d.ids[1], Slot::Own)?,
                action_id: slot(&d.ids[2], Slot::Unknown)?,
                retry_mode: d.retry_mode.clone(),
                extra_query: d.extra_query.clone(),
                credentials: d.credentials,
                method: d.method.clone(),
                shape: d.shape.clone(),
            })
        })
        .chain(variations)
        .collect()
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
