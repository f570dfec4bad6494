//! The oracle's judgement of one exchange: the clauses it exercised and those it broke, with
//! what the answer showed.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::contract::spec::{Kind, Level};

/// What the answer showed, kept with each violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub status: u16,
    pub error_code: Option<String>,
    pub body_excerpt: String,
}

/// One clause the answer broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub clause: String,
    pub level: Level,
    pub expected: String,
    pub evidence: Evidence,
}

/// The oracle's judgement of one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: Kind,
    /// Every clause this exchange exercised, violated or not.
    pub checked: BTreeSet<String>,
    pub violations: Vec<Violation>,
    /// Why the answer was judged by no clause, when it was not the operation's (INFO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Clauses this exchange would have failed but for a doubt the run could not remove (an
    /// effect that a used-up task would also explain): not judged, with `note` saying why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<String>,
}

impl Verdict {
    /// A verdict on a request of `kind` that has judged nothing yet.
    pub fn of(kind: Kind) -> Verdict {
        Verdict {
            kind,
            checked: BTreeSet::new(),
            violations: Vec::new(),
            note: None,
            unconfirmed: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn violates(&self, clause: &str) -> bool {
        self.violations.iter().any(|v| v.clause == clause)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(note) = &self.note {
            return write!(f, "{} request: INFO: {note}", self.kind);
        }
        if self.passed() {
            return write!(f, "{} request: conforms", self.kind);
        }
        write!(
            f,
            "{} request: {} violation(s)",
            self.kind,
            self.violations.len()
        )?;
        for v in &self.violations {
            write!(f, "\n  {v}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] expected {}; got {}",
            self.clause, self.level, self.expected, self.evidence
        )
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.status)?;
        if let Some(code) = &self.error_code {
            write!(f, ", error_code {}", crate::shown::inert(code))?;
        }
        if self.body_excerpt.is_empty() {
            write!(f, ", no body")
        } else {
            write!(f, ", body {:?}", self.body_excerpt)
        }
    }
}
