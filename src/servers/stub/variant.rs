//! The stub's conforming variants: each a choice the vendor's page, its error table or a real
//! gateway in front leaves open, made otherwise than the plain stub makes it. A server with
//! any of them, or several, conforms all the same: the tool must judge it so. Unlike the
//! deviations, they compose (`--stub-variant second-codes,raw-path,gzip`).

use std::fmt;
use std::time::Duration;

use super::deviation::Deviation;

/// How a stub behaves: as the spec says, in its variants' ways (conforming all the same),
/// and deviating on purpose where a deviation is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Behaviour {
    pub deviation: Option<Deviation>,
    pub variants: Variants,
    /// With `Deviation::ActsThrough`: the family of the grammar it acts through (its place
    /// in `Spec::families`); none: every family.
    pub through: Option<u16>,
}

impl From<Option<Deviation>> for Behaviour {
    fn from(deviation: Option<Deviation>) -> Behaviour {
        Behaviour {
            deviation,
            variants: Variants::NONE,
            through: None,
        }
    }
}

impl Behaviour {
    /// How long its effects may take to show: the settle period a run against it needs.
    pub fn settle(self) -> Duration {
        self.deviation
            .map_or(Duration::ZERO, Deviation::settle)
            .max(self.variants.settle())
    }

    pub fn has(self, variant: Variant) -> bool {
        self.variants.has(variant)
    }
}

/// A conforming choice of the stub's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// Each refusal answered with the second code the vendor's table gives for its case
    /// (with that code's status: an unknown cluster 403 CSS.0015, a used task CSS.0082).
    SecondCodes,
    /// Each refusal answered with the last code the table gives for its case.
    LastCodes,
    /// A task not failed or unknown answered 400 CSS.0082 (the record does not exist); another
    /// project or an unknown cluster 403 CSS.0015 (no resources): one server's choice among
    /// the table's codes, case by case.
    RecordNotFound,
    /// Routes on the path as it came: an ID with a percent-encoded character names nothing.
    RawPath,
    /// A gateway in front answers now and then 429, 502, 503 or 504 (with and without
    /// `Retry-After`), before the service sees the request.
    FlakyGateway,
    /// Bodies gzip-compressed, for a client that accepts gzip (one that sends no
    /// `Accept-Encoding` accepts any coding).
    Gzip,
    /// Bodies sent chunked.
    Chunked,
    /// `Connection: close` after every answer.
    Close,
    /// Error bodies with more fields, a non-ASCII `error_msg`, and an `X-Request-Id` header.
    VerboseErrors,
    /// The read API gives at most 2 tasks a page, whatever `limit` asks.
    ShortPages,
    /// The second failed task (and every other one after it) is an AZ switchover task,
    /// listed by the read API only under `action_mode=AZ_MIGRATION`.
    AzMigration,
    /// The read API shows a task's new status 1.5 s late.
    ReadApiLags,
}

/// Each variant, in the order of the enum: its name on the command line and what it does.
const ROWS: [(Variant, &str, &str); 12] = [
    (
        Variant::SecondCodes,
        "second-codes",
        "Each refusal answered with the second code the vendor's table gives for its case",
    ),
    (
        Variant::LastCodes,
        "last-codes",
        "Each refusal answered with the last code the vendor's table gives for its case",
    ),
    (
        Variant::RecordNotFound,
        "record-not-found",
        "A task not failed or unknown answered 400 CSS.0082; another project or an unknown cluster 403 CSS.0015",
    ),
    (
        Variant::RawPath,
        "raw-path",
        "Routes on the raw path: an ID with a percent-encoded character names nothing",
    ),
    (
        Variant::FlakyGateway,
        "flaky-gateway",
        "A gateway answers now and then 429/502/503/504 (with and without Retry-After) before the service sees the request",
    ),
    (
        Variant::Gzip,
        "gzip",
        "Bodies gzip-compressed for a client that accepts gzip (no Accept-Encoding accepts any)",
    ),
    (Variant::Chunked, "chunked", "Bodies sent chunked"),
    (
        Variant::Close,
        "close",
        "Connection: close after every answer",
    ),
    (
        Variant::VerboseErrors,
        "verbose-errors",
        "Error bodies with more fields and a non-ASCII error_msg; an X-Request-Id on every answer",
    ),
    (
        Variant::ShortPages,
        "short-pages",
        "The read API gives at most 2 tasks a page, whatever limit asks",
    ),
    (
        Variant::AzMigration,
        "az-migration",
        "Every second failed task is an AZ switchover task, listed only under action_mode=AZ_MIGRATION",
    ),
    (
        Variant::ReadApiLags,
        "read-api-lags",
        "The read API shows a task's new status 1.5 s late",
    ),
];

super::named::named!(Variant, ROWS, 12);

impl Variant {
    /// The variants it cannot be combined with: two choices of the same thing.
    fn excludes(self, other: Variant) -> bool {
        let codes = [
            Variant::SecondCodes,
            Variant::LastCodes,
            Variant::RecordNotFound,
        ];
        self != other && codes.contains(&self) && codes.contains(&other)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of variants, none excluding another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Variants(u32);

impl Variants {
    /// No variant: the plain stub.
    pub(crate) const NONE: Variants = Variants(0);

    /// The set of `variants`, or the first two that exclude each other.
    pub fn of(variants: &[Variant]) -> Result<Variants, (Variant, Variant)> {
        let mut set = Variants::NONE;
        for &v in variants {
            if let Some(other) = set.iter().find(|o| v.excludes(*o)) {
                return Err((other, v));
            }
            set.0 |= v.bit();
        }
        Ok(set)
    }

    /// The set a comma-separated list of names gives (`second-codes,raw-path`).
    pub fn parse(list: &str) -> Result<Variants, String> {
        let mut variants = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let known = Variant::from_name(name).ok_or_else(|| {
                format!(
                    "no variant `{}` (`css-conformance deviations` lists them)",
                    crate::shown::inert(name)
                )
            })?;
            variants.push(known);
        }
        Variants::of(&variants)
            .map_err(|(a, b)| format!("`{a}` and `{b}` are two choices of one thing: give one"))
    }

    pub fn has(self, variant: Variant) -> bool {
        self.0 & variant.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Variant> {
        Variant::ALL.into_iter().filter(move |v| self.has(*v))
    }

    /// The code a refusal of `kind` is answered with where a variant chooses it case by case.
    pub(crate) fn code_of(self, kind: crate::contract::spec::Kind) -> Option<&'static str> {
        use crate::contract::spec::Kind;
        if !self.has(Variant::RecordNotFound) {
            return None;
        }
        match kind {
            Kind::TaskNotFailed | Kind::UnknownTask => Some("CSS.0082"),
            Kind::ForeignProject | Kind::UnknownCluster => Some("CSS.0015"),
            _ => None,
        }
    }

    /// Which of a case's codes a refusal is answered with: the first, or as a variant says.
    pub(crate) fn code_index(self, codes: usize) -> usize {
        if self.has(Variant::LastCodes) {
            codes.saturating_sub(1)
        } else if self.has(Variant::SecondCodes) && codes > 1 {
            1
        } else {
            0
        }
    }

    /// How late its read API shows a task's new status.
    pub(crate) fn read_lag(self) -> Duration {
        if self.has(Variant::ReadApiLags) {
            Duration::from_millis(1_500)
        } else {
            Duration::ZERO
        }
    }

    /// How long its effects may take to show: the settle period a run against it needs.
    pub fn settle(self) -> Duration {
        if self.has(Variant::ReadApiLags) {
            Duration::from_millis(2_500)
        } else {
            Duration::ZERO
        }
    }

    /// The most tasks its read API gives a page.
    pub(crate) fn page_cap(self) -> usize {
        if self.has(Variant::ShortPages) {
            2
        } else {
            usize::MAX
        }
    }
}

impl fmt::Display for Variants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Variant::name).collect();
        f.write_str(&names.join(","))
    }
}

/// The gateway's passing answers, in turn: status, `Retry-After`, body.
const GATEWAY_ANSWERS: [(u16, Option<&str>, &str); 6] = [
    (
        503,
        Some("1"),
        r#"{"error_code":"APIGW.0308","error_msg":"The service is temporarily unavailable"}"#,
    ),
    (502, None, "<html><body>502 Bad Gateway</body></html>"),
    (
        429,
        Some("0"),
        r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#,
    ),
    (504, None, "<html><body>504 Gateway Time-out</body></html>"),
    (
        503,
        None,
        r#"{"error_code":"APIGW.0201","error_msg":"Backend unavailable"}"#,
    ),
    (
        429,
        None,
        r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#,
    ),
];

/// One request in this many meets the flaky gateway.
const GATEWAY_EVERY: u64 = 13;

/// The flaky gateway's answer to request `n` of the server (from 0), if it answers it:
/// status, `Retry-After`, body (JSON when it starts with `{`).
pub(crate) fn gateway_answer(n: u64) -> Option<(u16, Option<&'static str>, &'static str)> {
    (n % GATEWAY_EVERY == GATEWAY_EVERY - 1)
        .then(|| GATEWAY_ANSWERS[((n / GATEWAY_EVERY) % GATEWAY_ANSWERS.len() as u64) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_compose_by_name_and_two_choices_of_one_thing_are_refused() {
        let set = Variants::parse("raw-path, gzip,second-codes").expect("composes");
        assert!(set.has(Variant::RawPath) && set.has(Variant::Gzip));
        assert_eq!(set.to_string(), "second-codes,raw-path,gzip");
        let err = Variants::parse("second-codes,last-codes").unwrap_err();
        assert!(
            err.contains("second-codes") && err.contains("last-codes"),
            "{err}"
        );
        let err = Variants::parse("gzip,\u{1b}[2J").unwrap_err();
        assert!(!err.contains('\u{1b}'), "{err}");
        assert_eq!(Variants::parse("").map(Variants::is_empty), Ok(true));
    }

    #[test]
    fn a_variant_picks_its_code_among_the_cases_codes() {
        let of = |v: &[Variant]| Variants::of(v).expect("composes");
        assert_eq!(Variants::NONE.code_index(3), 0);
        assert_eq!(of(&[Variant::SecondCodes]).code_index(3), 1);
        assert_eq!(of(&[Variant::SecondCodes]).code_index(1), 0);
        assert_eq!(of(&[Variant::LastCodes]).code_index(3), 2);
        assert_eq!(of(&[Variant::LastCodes]).code_index(0), 0);
    }

    #[test]
    fn the_gateway_answers_one_request_in_so_many_each_answer_in_turn() {
        let answered: Vec<u64> = (0..GATEWAY_EVERY * 6)
            .filter(|n| gateway_answer(*n).is_some())
            .collect();
        assert_eq!(answered.len(), 6);
        let statuses: std::collections::BTreeSet<u16> = answered
            .iter()
            .filter_map(|n| gateway_answer(*n).map(|a| a.0))
            .collect();
        assert_eq!(
            statuses.into_iter().collect::<Vec<_>>(),
            [429, 502, 503, 504]
        );
    }
}
