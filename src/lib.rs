//! css-conformance checks an HTTP endpoint against the documented contract of the Cloud Search
//! Service operation "Retrying a Failed Upgrade Task"
//! (`PUT /v1.0/{project_id}/clusters/{cluster_id}/upgrade/{action_id}/retry`).
//!
//! Two ways in. `check::check` checks a target (an endpoint, or the built-in stub) clause by
//! clause: it proves the fixtures, runs the features and the fuzz budget, and grades what came
//! back (what `css-conformance check` does). `Stub` is the built-in stub a client team's
//! tests start, in the manner of wiremock's `MockServer`: configure it with `Stub::builder()`
//! (or take `Stub::start_for_clients()`), point the client at it, then verify the client's
//! side of the contract.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() {
//! use css_conformance::Stub;
//! let stub = Stub::builder().watching(true).start().await;
//! let task = stub.fixtures().failed_action_ids[0].clone();
//! assert!(stub.operation_url(&task, Some("abort")).ends_with("/retry?retry_mode=abort"));
//! stub.verify(); // no client has broken a client clause
//! # }
//! ```
//!
//! The way of a request, one layer each, every layer importing only from those above it here:
//! small values shared by all (`file_error`, `fixtures`, `ledger`, `progress`, `secret`,
//! `shown`, and `settings`: every setting's key, variable and flag, in one table); the contract says what a request is and how its answer is judged (`contract`:
//! the spec as data, the one classifier that says which kind a request is, the oracle); the
//! run records what it sent and saw, and what grading reads (`records`); the profile says
//! where and how (`config`); the target carries requests there (`transport`); the built-in
//! stub and the proxy answer and watch them (`servers`); the scenarios and the fuzzer decide
//! what to send (`engines`); the grade per clause and the reports (`grading`); `check` runs
//! them in turn for one target.
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
pub mod settings;
pub mod shown;

// The layers, from the bottom (rustfmt keeps each group's order).
pub mod contract;

pub mod records;

pub mod config;

pub mod transport;

pub mod servers;

pub mod engines;

pub mod grading;

pub mod check;

// The API a client team's tests start from (the rest is reached through its layer).
pub use contract::spec::Spec;
pub use servers::stub::{STUB_TOKEN, Stub};
