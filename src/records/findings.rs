//! What the fuzzer found and did: each finding with all it takes to replay it, where it was
//! found, whether it reproduced; and the summary of a fuzz run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::contract::spec::{Kind, Level};
use crate::contract::verdict::Verdict;
use crate::file_error::strip_location;
use crate::records::draft::Draft;

/// A minimal case that violates a clause, with all it takes to replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The tool that found it, e.g. `css-conformance 0.1.0`.
    pub tool: String,
    pub clause: String,
    pub level: Level,
    pub seed: u64,
    /// The generated case's position in the seeded sequence, before shrinking.
    pub case_index: u64,
    pub shrink_steps: u32,
    /// The shrunk case, by role: replay resolves it against the target anew.
    pub draft: Draft,
    pub target: String,
    /// Found on a stub that lived only as long as the run (the built-in stub): its URL and
    /// cURL line reach nothing now; `replay` starts one of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ephemeral_target: bool,
    pub method: String,
    pub url: String,
    pub curl: String,
    pub verdict: Verdict,
    /// Whether the case violated the clause again when sent again.
    #[serde(default)]
    pub reproduction: Reproduction,
    /// How to reach the target it was found on again (replay uses it unless told otherwise).
    #[serde(default)]
    pub origin: Origin,
}

/// Whether a finding's case violated its clause again when sent again (`FuzzOptions::repeats`
/// times, after the answer that made it a finding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Reproduction {
    /// Attempt again and answered `of` times, violating the clause `violated` of them.
    Repeated { violated: u32, of: u32 },
    /// Not sent again, for `why`.
    NotRepeated { why: String },
}

impl Default for Reproduction {
    /// What a finding file written before repeats were made says.
    fn default() -> Self {
        Reproduction::NotRepeated {
            why: "the finding file records no repeats".to_owned(),
        }
    }
}

impl Reproduction {
    /// Whether the case did not violate the clause every time it was sent again: a finding
    /// graded apart (INTERMITTENT), whose replay may not show it.
    pub fn intermittent(&self) -> bool {
        matches!(self, Reproduction::Repeated { violated, of } if violated < of)
    }

    /// `reproduced 3/3`, `intermittent 1/3`, or `not repeated: why`.
    pub fn label(&self) -> String {
        match self {
            Reproduction::Repeated { violated, of } if violated == of => {
                format!("reproduced {violated}/{of}")
            }
            Reproduction::Repeated { violated, of } => format!("intermittent {violated}/{of}"),
            Reproduction::NotRepeated { why } => format!("not repeated: {why}"),
        }
    }
}

impl Origin {
    /// The endpoint it names, if it names one.
    pub fn endpoint(&self) -> Option<&str> {
        self.settings.get("endpoint").map(String::as_str)
    }
}

/// The target a finding was found on, as the command line named it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The built-in stub's deliberate deviation, by its command-line name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stub_deviation: Option<String>,
    /// The profile file, made absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<PathBuf>,
    /// The profile keys the environment and the flags set (the endpoint without any
    /// `user:password@`, the auth method, the project ...), as `--set` takes them. Profile
    /// keys name the variables that hold secrets, never the secrets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
}

impl Finding {
    /// Reads a finding file.
    pub fn load(file: &Path) -> Result<Finding, FindingError> {
        let text =
            std::fs::read_to_string(file).map_err(|e| FindingError::new(file, e.to_string(), e))?;
        serde_json::from_str(&text).map_err(|e| {
            let message = format!(
                "line {} column {}: not a finding: {}",
                e.line(),
                e.column(),
                strip_location(&e.to_string())
            );
            FindingError::new(file, message, e)
        })
    }

    /// Writes it as pretty JSON into `dir`, returning the file's path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, FindingError> {
        let file = dir.join(format!(
            "{}-seed{}-case{}.json",
            self.clause, self.seed, self.case_index
        ));
        let fail = |e: std::io::Error| FindingError::new(&file, e.to_string(), e);
        std::fs::create_dir_all(dir).map_err(fail)?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| FindingError::new(&file, e.to_string(), e))?;
        std::fs::write(&file, json + "\n").map_err(fail)?;
        Ok(file)
    }
}

/// A finding file that could not be read or written: the file, what went wrong in words, and
/// the cause, kept.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct FindingError {
    pub file: PathBuf,
    pub message: String,
    #[source]
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl FindingError {
    fn new(
        file: &Path,
        message: String,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> FindingError {
        FindingError {
            file: file.to_owned(),
            message,
            cause: Box::new(cause),
        }
    }
}

/// What a fuzz run did and found.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub cases: u64,
    /// Cases judged (answered, by the target or from the memory of its refusals).
    pub judged: u64,
    /// Requests that went on the wire, shrinking and retries included.
    pub sent: u64,
    /// Requests sent again on purpose to see whether findings reproduce (in `sent` too).
    pub repeated: u64,
    /// Cases answered from the memory of the target's refusals: the same request had been
    /// refused with 400 or 403, so it was not sent again.
    pub from_memory: u64,
    /// Cases not sent because no failed task was left.
    pub without_task: u64,
    pub transport_errors: u64,
    pub first_transport_error: Option<String>,
    #[serde(with = "seconds")]
    pub elapsed: Duration,
    pub per_kind: BTreeMap<Kind, u64>,
    /// How many cases violated each clause.
    pub violations: BTreeMap<String, u64>,
    /// The same, by what was observed: (clause, status, error code) -> cases.
    #[serde(skip)]
    pub observed: BTreeMap<(String, u16, Option<String>), u64>,
    pub findings: Vec<Finding>,
    /// Findings left out: a gateway's passing answer their repeats did not show again.
    pub transient_forgotten: u64,
    /// Cases whose violations were set aside: their answer is the one a project or a cluster
    /// that is not the caller's gets, and the run could not tell its own from another's.
    #[serde(skip_serializing_if = "is_zero")]
    pub set_aside: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

mod seconds {
    pub(crate) fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

impl Summary {
    /// A run of `cases` cases seeded with `seed`, before anything is sent.
    pub fn new(seed: u64, cases: u64) -> Summary {
        Summary {
            seed,
            cases,
            judged: 0,
            sent: 0,
            repeated: 0,
            from_memory: 0,
            without_task: 0,
            transport_errors: 0,
            first_transport_error: None,
            elapsed: Duration::ZERO,
            per_kind: BTreeMap::new(),
            violations: BTreeMap::new(),
            observed: BTreeMap::new(),
            findings: Vec::new(),
            transient_forgotten: 0,
            set_aside: 0,
        }
    }

    /// Requests sent per second (what the target had to answer; answers from memory do not
    /// count).
    pub fn cases_per_second(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}
