//! css-conformance checks an HTTP endpoint against the documented contract of the Cloud Search
//! Service operation "Retrying a Failed Upgrade Task"
//! (`PUT /v1.0/{project_id}/clusters/{cluster_id}/upgrade/{action_id}/retry`).
//!
//! The way of a request: case (from a feature or a strategy) -> request -> target (stub or
//! live) -> response -> oracle -> verdict -> report -> writers. Which kind a request is, the
//! one classifier says (`classify`); the stub answers with it.
//!
//! ```
//! use css_conformance::{exchange::Response, oracle, spec::{Kind, Spec}};
//! let spec = Spec::embedded();
//! let answer = Response { status: 200, content_type: None, body: b"{}".to_vec(), headers: vec![] };
//! let verdict = oracle::judge(&spec, Kind::Retry, &answer);
//! assert!(verdict.violates("RUT-RESP-01"));
//! ```

pub mod baseline;
pub mod classify;
pub mod coverage;
pub mod effects;
pub mod exchange;
pub mod features;
pub mod fixtures;
pub mod fuzz;
pub mod listen;
pub mod openapi;
pub mod oracle;
pub mod plan;
pub mod preflight;
pub mod profile;
pub mod progress;
pub mod proxy;
pub mod report;
pub mod secret;
pub mod session;
pub mod signing;
pub mod soak;
pub mod spec;
pub mod steps;
pub mod strategy;
pub mod stub;
pub mod suite;
pub mod target;
pub mod text;
pub mod writer;
