//! css-conformance checks an HTTP endpoint against the documented contract of the Cloud Search
//! Service operation "Retrying a Failed Upgrade Task"
//! (`PUT /v1.0/{project_id}/clusters/{cluster_id}/upgrade/{action_id}/retry`).
//!
//! The way of a request, one layer each, every layer importing only from those above it here:
//! the contract says what a request is and how its answer is judged (`contract`: the spec as
//! data, the one classifier that says which kind a request is, the oracle); the run records
//! what it sent and saw (`records`); the settings say where and how (`config`); the target
//! carries requests there (`transport`); the built-in stub and the proxy answer and watch
//! them (`servers`); the scenarios and the fuzzer decide what to send (`engines`); the grade
//! per clause and the reports come last (`grading`); `check` runs them in turn for one
//! target. Small values shared by all (`file_error`, `shown`, `secret`, `fixtures`, `ledger`,
//! `progress`) sit beneath.
//!
//! ```
//! use css_conformance::contract::{oracle, request::Response, spec::{Kind, Spec}};
//! let spec = Spec::embedded();
//! let answer = Response { status: 200, body: b"{}".to_vec(), ..Response::default() };
//! let verdict = oracle::judge(&spec, Kind::Retry, &answer);
//! assert!(verdict.violates("RUT-RESP-01"));
//! ```

pub mod file_error;
pub mod fixtures;
pub mod ledger;
pub mod progress;
pub mod secret;
pub mod shown;

pub mod config;
pub mod contract;
pub mod engines;
pub mod grading;
pub mod records;
pub mod servers;
pub mod transport;

pub mod check;

// The API a client team's tests start from (the rest is reached through its layer).
pub use contract::spec::Spec;
pub use servers::stub::{STUB_TOKEN, Stub};
