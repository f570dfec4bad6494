//! The contract: the operation as the vendor's page documents it, as data (`spec`, held
//! together by `validation`), and what
//! follows from it alone: what a request and an answer are (`request`), which kind a request
//! is (`classify`), the oracle's judgement of an answer (`oracle`, `verdict`), the doors by
//! which a refused request could act (`doors`), the features' clauses (`features`,
//! `coverage`), the OpenAPI export (`openapi`), and the vendor's page as statements the
//! clauses quote (`page`: `spec trace`, `spec diff`).

pub mod classify;
pub mod coverage;
pub mod doors;
pub mod features;
pub mod openapi;
pub mod oracle;
pub mod page;
pub mod request;
pub mod spec;
mod validation;
pub mod verdict;
