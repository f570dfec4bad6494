//! How requests reach a target: the target with its clients, politeness and memory of
//! refusals (`target`), and AK/SK request signing (`signing`).

pub mod signing;
pub mod target;
