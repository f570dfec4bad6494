//! What a run records: each scenario's requests with their verdicts and how it ended
//! (`judgement`), and what the server did through each door (`effects`).

pub mod effects;
pub mod judgement;
