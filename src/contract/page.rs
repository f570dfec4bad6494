//! The vendor's page as statements: each sentence, table cell and example a rule of the
//! contract can rest on, with its place (section, table row, column) and line
//! (`statement`), read from reStructuredText as the vendor's docs repository publishes it
//! (`rst`) into a page of one edition (`edition`); traced against the clauses' quotes
//! (`trace`) and compared across editions (`diff`).

mod diff;
mod edition;
mod rst;
mod statement;
mod trace;

pub use diff::{Change, ChangeKind, Diff, diff};
pub use edition::{MAX_PAGE_BYTES, MAX_STATEMENTS, Page, PageError, SEED};
pub use statement::{Form, Statement, says_nothing, words};
pub use trace::{Quote, Trace, Traced, trace};
