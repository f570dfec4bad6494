//! css-conformance checks an HTTP endpoint against the documented contract of the Cloud Search
//! Service operation "Retrying a Failed Upgrade Task"
//! (`PUT /v1.0/{project_id}/clusters/{cluster_id}/upgrade/{action_id}/retry`).
//!
//! The way of a request: case (from a feature) -> request -> target (stub or live) ->
//! exchange -> oracle -> verdict -> report.
//!
//! ```
//! use css_conformance::{oracle, spec::{Kind, Spec}};
//! let spec = Spec::embedded();
//! let answer = oracle::Response { status: 200, content_type: None, body: b"{}".to_vec() };
//! let verdict = oracle::judge(&spec, Kind::Retry, &answer);
//! assert!(verdict.violates("RUT-RESP-01"));
//! ```

pub mod case;
pub mod coverage;
pub mod document;
pub mod features;
pub mod fixtures;
pub mod fuzz;
pub mod junit;
pub mod loopback;
pub mod openapi;
pub mod oracle;
pub mod profile;
pub mod progress;
pub mod report;
pub mod signing;
pub mod soak;
pub mod spec;
pub mod steps;
pub mod strategy;
pub mod stub;
pub mod suite;
pub mod target;
