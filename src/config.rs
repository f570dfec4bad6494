//! Where a run goes and how: every setting of a target in one table (`settings`), and the
//! target profile made from a file, the built-in profiles, the environment and the flags
//! (`profile`).

pub mod profile;
pub mod settings;
