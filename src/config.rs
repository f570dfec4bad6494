//! Where a run goes and how: the target profile made from a file, the built-in profiles, the
//! environment and the flags (`profile`), every key of it set as the table of settings
//! (`crate::settings`) says.

mod auth;
mod built_in;
mod origins;
pub mod profile;
mod yaml_tree;
