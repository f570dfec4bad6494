//! The feature scenarios against a target: the run of the features (`runner`), their step
//! definitions (`steps`), what the run's scenarios share (`run_state`), the plan of which
//! scenario gets which failed task and what the effects show (`task_plan`), and the proof of
//! the fixtures before anything is judged (`preflight`).

mod cluster_watch;
mod cucumber_run;
pub mod describe;
pub mod plan;
pub mod preflight;
pub mod run_state;
pub mod runner;
pub mod steps;
pub mod survey;
pub mod task_plan;
pub mod world;
