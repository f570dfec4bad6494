//! Where a run goes and how: the target profile, from a file, the built-in profiles, the
//! environment and the flags (`profile`).

pub mod profile;
