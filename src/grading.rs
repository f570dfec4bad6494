//! The grade per clause and the verdict of a run (`report`) and its exit code (`exit`), the comparison with a baseline
//! (`baseline`), and the reports for each place they go (`writer`).

pub mod baseline;
pub mod exit;
pub mod report;
pub mod writer;
