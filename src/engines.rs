//! What decides the requests of a run: the target a run checks (`targets`: the built-in stub
//! or a live endpoint), the feature scenarios (`scenarios`) and the fuzzer (`fuzz`).

pub mod fuzz;
pub mod scenarios;
pub mod targets;
