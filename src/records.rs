//! What a run records: each scenario's requests with their verdicts and how it ended
//! (`judgement`), what the server did through each door (`effects`), the fuzzer's cases
//! (`draft`) and findings (`findings`), what went on the wire (`traffic`) and what the stub
//! saw of its clients (`clients`); an answer the fixtures may explain (`suspect`). Grading
//! reads them all from here.

pub mod clients;
pub mod draft;
pub mod effects;
pub mod findings;
pub mod judgement;
pub mod suspect;
pub mod traffic;
