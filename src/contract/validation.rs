//! The contract's validation: what a spec file must hold for the oracle, the stub, the
//! strategies and the coverage check to read it without guessing. The first fault found is
//! the error, naming the file, the line and the key.

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

use crate::file_error::line_of;

use super::spec::{CLAUSE_ID_PATTERN, Expectation, IdParam, Kind, Spec, SpecError};

/// Where a spec's faults are shown: its file, and its text to find the line in.
struct At<'a> {
    text: &'a str,
    file: &'a Path,
}

impl At<'_> {
    /// A fault of `key`, on the line of the `nth` occurrence (from 0) of `needle`.
    fn invalid(&self, key: &str, needle: &str, nth: usize, message: String) -> SpecError {
        SpecError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, needle, nth),
            key: key.to_owned(),
            message,
        }
    }
}

/// The clause IDs a spec declares: the server's, and the client's.
struct Declared<'a> {
    server: BTreeSet<&'a str>,
    client: BTreeSet<&'a str>,
}

impl Spec {
    /// Whether the spec (parsed from `text`, read from `file`) holds together.
    pub(super) fn validate(&self, text: &str, file: &Path) -> Result<(), SpecError> {
        let at = At { text, file };
        self.validate_path(&at)?;
        let ids = self.validate_clause_ids(&at)?;
        self.validate_client_rules(&at, &ids)?;
        let mut judged = self.validate_rules(&at, &ids)?;
        self.validate_query(&at)?;
        self.validate_read_api(&at, &ids)?;
        self.validate_doors(&at)?;
        self.validate_ground(&at)?;
        self.validate_expectations(&at, &ids, &mut judged)?;
        if let Some(c) = self.clauses.iter().find(|c| !judged.contains(&c.id)) {
            return Err(at.invalid(
                "clauses.id",
                &format!("id: {}", c.id),
                0,
                format!(
                    "clause `{}` is named by no rule and no expectation, so nothing judges it",
                    c.id
                ),
            ));
        }
        Ok(())
    }

    /// Each quote has words and a place; the page's digest is one.
    fn validate_ground(&self, at: &At) -> Result<(), SpecError> {
        if let Some(page) = &self.page
            && (page.sha256.len() != 64 || !page.sha256.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(at.invalid(
                "page.sha256",
                "sha256:",
                0,
                "the page's SHA-256 is 64 hex digits".to_owned(),
            ));
        }
        let clauses = self.clauses.iter().chain(&self.client_clauses);
        for clause in clauses {
            for g in &clause.ground {
                if g.quote.trim().is_empty() || g.section.trim().is_empty() {
                    return Err(at.invalid(
                        "clauses.ground",
                        &format!("id: {}", clause.id),
                        0,
                        format!("`{}`: a quote has a section and words", clause.id),
                    ));
                }
            }
        }
        for n in &self.no_rule {
            if n.quote.trim().is_empty() || n.why.trim().is_empty() {
                return Err(at.invalid(
                    "no_rule",
                    "no_rule:",
                    0,
                    "a statement that makes no rule has its words and why".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// The path template names the declared path parameters, each of the operation's, each
    /// with a format that is a regular expression; the error code's form is one too.
    fn validate_path(&self, at: &At) -> Result<(), SpecError> {
        let declared: BTreeSet<&str> = self
            .path_parameters
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let placeholder = Regex::new(r"\{([^}]*)\}").expect("static regex");
        let mut used = BTreeSet::new();
        for cap in placeholder.captures_iter(&self.operation.path) {
            let name = cap.get(1).map_or("", |m| m.as_str());
            if !declared.contains(name) {
                return Err(at.invalid(
                    "operation.path",
                    "path:",
                    0,
                    format!("`{{{name}}}` is not a declared path parameter"),
                ));
            }
            used.insert(name);
        }
        for p in &self.path_parameters {
            let needle = format!("name: {}", p.name);
            if IdParam::from_name(&p.name).is_none() {
                return Err(at.invalid(
                    "path_parameters.name",
                    &needle,
                    0,
                    format!(
                        "`{}` is not one of the operation's parameters ({})",
                        p.name,
                        IdParam::ALL.map(IdParam::name).join(", ")
                    ),
                ));
            }
            if !used.contains(p.name.as_str()) {
                return Err(at.invalid(
                    "path_parameters.name",
                    &needle,
                    0,
                    format!("`{}` does not appear in the path template", p.name),
                ));
            }
            let format = match Regex::new(&p.observed_format) {
                Ok(format) => format,
                Err(e) => {
                    return Err(at.invalid(
                        "path_parameters.observed_format",
                        &p.observed_format,
                        0,
                        format!("not a regular expression: {e}"),
                    ));
                }
            };
            if let Some(why) = unusable_format(&format, &p.example) {
                return Err(at.invalid(
                    "path_parameters.observed_format",
                    &p.observed_format,
                    0,
                    why,
                ));
            }
        }
        if let Err(e) = Regex::new(&self.error_body.code_pattern) {
            return Err(at.invalid(
                "error_body.code_pattern",
                "code_pattern",
                0,
                format!("not a regular expression: {e}"),
            ));
        }
        Ok(())
    }

    /// Clause IDs: of the form RUT-AREA-NN, each declared once among the server's and the
    /// client's clauses together.
    fn validate_clause_ids(&self, at: &At) -> Result<Declared<'_>, SpecError> {
        let id_form = Regex::new(CLAUSE_ID_PATTERN).expect("static regex");
        let mut declared: [BTreeSet<&str>; 2] = Default::default();
        for (list, key, side) in [
            (&self.clauses, "clauses.id", 0),
            (&self.client_clauses, "client_clauses.id", 1),
        ] {
            for c in list {
                let needle = format!("id: {}", c.id);
                if !id_form.is_match(&c.id) {
                    let message = format!("`{}` is not of the form RUT-AREA-NN", c.id);
                    return Err(at.invalid(key, &needle, 0, message));
                }
                if declared.iter().any(|d| d.contains(c.id.as_str())) {
                    let message = format!("clause `{}` is declared twice", c.id);
                    return Err(at.invalid(key, &needle, 1, message));
                }
                declared[side].insert(c.id.as_str());
            }
        }
        let [server, client] = declared;
        Ok(Declared { server, client })
    }

    /// Each client rule names a client clause, and each client clause is named by a rule.
    fn validate_client_rules(&self, at: &At, ids: &Declared) -> Result<(), SpecError> {
        for (rule, clause) in self.client_rules.clauses() {
            if !ids.client.contains(clause) {
                return Err(at.invalid(
                    &format!("client_rules.{rule}"),
                    &format!("{rule}:"),
                    0,
                    format!("names clause `{clause}`, which is not a client clause"),
                ));
            }
        }
        let named: BTreeSet<&str> = self.client_rules.clauses().map(|(_, id)| id).into();
        if let Some(c) = self
            .client_clauses
            .iter()
            .find(|c| !named.contains(c.id.as_str()))
        {
            return Err(at.invalid(
                "client_clauses.id",
                &format!("id: {}", c.id),
                0,
                format!("client clause `{}` is named by no client rule", c.id),
            ));
        }
        Ok(())
    }

    /// Each rule names a declared clause; the clauses they name are judged.
    fn validate_rules(&self, at: &At, ids: &Declared) -> Result<BTreeSet<String>, SpecError> {
        let mut judged = BTreeSet::new();
        for (rule, clause) in self.rules.clauses() {
            if !ids.server.contains(clause) {
                return Err(at.invalid(
                    &format!("rules.{rule}"),
                    &format!("{rule}:"),
                    0,
                    format!("names clause `{clause}`, which is not declared"),
                ));
            }
            judged.insert(clause.to_owned());
        }
        Ok(judged)
    }

    /// The runner, the stub and the strategies take the first query parameter as the one
    /// the page defines, with at least one allowed value, none empty.
    fn validate_query(&self, at: &At) -> Result<(), SpecError> {
        let fault = match self.query_parameters.first() {
            None => (
                "query_parameters",
                "query_parameters:",
                "the operation's query parameter (retry_mode) is missing: give one".to_owned(),
            ),
            Some(q) if q.allowed_values.is_empty() => (
                "query_parameters.allowed_values",
                "allowed_values:",
                format!("`{}` needs at least one allowed value", q.name),
            ),
            Some(q) if q.allowed_values.iter().any(String::is_empty) => (
                "query_parameters.allowed_values",
                "allowed_values:",
                format!("`{}`: an allowed value is empty", q.name),
            ),
            Some(_) => return Ok(()),
        };
        let (key, needle, message) = fault;
        Err(at.invalid(key, needle, 0, message))
    }

    /// The read API can tell a failed task, and names declared clauses.
    fn validate_read_api(&self, at: &At, ids: &Declared) -> Result<(), SpecError> {
        if self.read_api.failed_statuses.is_empty() {
            return Err(at.invalid(
                "read_api.failed_statuses",
                "failed_statuses:",
                0,
                "a task's failed state cannot be read without at least one status".into(),
            ));
        }
        let api = &self.read_api;
        if let Some(s) = api.retryable_statuses.iter().find(|s| !api.is_failed(s)) {
            return Err(at.invalid(
                "read_api.retryable_statuses",
                "retryable_statuses:",
                0,
                format!("`{s}` is not one of failed_statuses"),
            ));
        }
        for a in &self.read_api.after_accepted {
            if !ids.server.contains(a.clause.as_str()) {
                return Err(at.invalid(
                    "read_api.after_accepted.clause",
                    &format!("clause: {}", a.clause),
                    0,
                    format!("names clause `{}`, which is not declared", a.clause),
                ));
            }
        }
        Ok(())
    }

    /// The doors' form: names once each, another method than the operation's, a repeat only
    /// of one value, IDs as the spec's comment says. Which kind each is, the classifier says
    /// where the doors are made (`effects::door`).
    fn validate_doors(&self, at: &At) -> Result<(), SpecError> {
        let mut names = BTreeSet::new();
        let mut families = BTreeSet::new();
        for (family, d) in self.all_families() {
            let needle = format!("door: {}", d.door);
            if !families.insert(family.clone()) {
                return Err(at.invalid(
                    "grammar.families.family",
                    &format!("family: {}", d.family),
                    0,
                    format!("family `{family}` is listed twice"),
                ));
            }
            if !family
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_/.".contains(c))
            {
                return Err(at.invalid(
                    "grammar.families.family",
                    &format!("family: {}", d.family),
                    0,
                    format!(
                        "`{family}`: a family's name is lower-case letters, digits, -, _ and ."
                    ),
                ));
            }
            let fail = |key: &str, message: String| Err(at.invalid(key, &needle, 0, message));
            if !names.insert(d.door.as_str()) {
                return Err(at.invalid(
                    "grammar.families.door",
                    &needle,
                    1,
                    format!("door `{}` is listed twice", d.door),
                ));
            }
            if d.method.as_deref() == Some(self.operation.method.as_str()) {
                return fail(
                    "grammar.families.method",
                    format!("`{}` is the operation's own method", self.operation.method),
                );
            }
            if d.repeat.is_some() && d.retry_mode.as_ref().is_none_or(|v| v.len() != 1) {
                return fail(
                    "grammar.families.repeat",
                    "repeats the one retry_mode value; give exactly one".into(),
                );
            }
            if let Some(auth) = d.auth.as_deref().filter(|a| *a != "aksk") {
                return fail(
                    "grammar.families.auth",
                    format!("`{auth}`: only `aksk` is known"),
                );
            }
            for (key, value) in [
                ("grammar.families.project_id", &d.project_id),
                ("grammar.families.cluster_id", &d.cluster_id),
                ("grammar.families.action_id", &d.action_id),
            ] {
                if let Some(v) = value
                    && !matches!(v.as_str(), "upper" | "unknown" | "foreign")
                    && !v.contains("{id}")
                {
                    return fail(
                        key,
                        format!("`{v}`: give upper, unknown, foreign or a template with {{id}}"),
                    );
                }
            }
        }
        Ok(())
    }

    /// One expectation per kind, each naming declared clauses (which are then judged).
    fn validate_expectations(
        &self,
        at: &At,
        ids: &Declared,
        judged: &mut BTreeSet<String>,
    ) -> Result<(), SpecError> {
        let mut kinds = BTreeSet::new();
        for e in &self.expectations {
            let needle = format!("kind: {}", e.kind);
            if !kinds.insert(e.kind) {
                return Err(at.invalid(
                    "expectations.kind",
                    &needle,
                    1,
                    format!("kind `{}` has two expectations", e.kind),
                ));
            }
            for clause in e
                .refused_by
                .iter()
                .chain(&e.answered_by)
                .chain(&e.never_acts)
            {
                judged.insert(clause.clone());
                if !ids.server.contains(clause.as_str()) {
                    return Err(at.invalid(
                        "expectations",
                        &needle,
                        0,
                        format!("names clause `{clause}`, which is not declared"),
                    ));
                }
            }
            let fail = |key: &str, message: String| at.invalid(key, &needle, 0, message);
            self.validate_outcomes(e, &fail)?;
            self.validate_error_code(e, &fail)?;
            validate_judged_by(e, &fail)?;
        }
        if let Some(missing) = Kind::ALL.iter().find(|k| !kinds.contains(k)) {
            return Err(at.invalid(
                "expectations",
                "expectations:",
                0,
                format!("kind `{missing}` has no expectation"),
            ));
        }
        Ok(())
    }

    /// An expectation's outcomes: some, of documented statuses (but for another operation's,
    /// whatever its framework says: 405, 404), with error codes of that status.
    fn validate_outcomes(
        &self,
        e: &Expectation,
        fail: &dyn Fn(&str, String) -> SpecError,
    ) -> Result<(), SpecError> {
        if e.outcomes.is_empty() {
            return Err(fail("expectations.outcomes", "is empty".into()));
        }
        for o in &e.outcomes {
            if !e.not_the_operation && !self.status_codes.iter().any(|s| s.code == o.status) {
                return Err(fail(
                    "expectations.outcomes.status",
                    format!("{} is not a documented status code", o.status),
                ));
            }
            if let Some(code) = o
                .error_codes
                .iter()
                .find(|c| !self.has_error_code(c, o.status))
            {
                return Err(fail(
                    "expectations.outcomes.error_codes",
                    format!("{code} is not in error_codes with status {}", o.status),
                ));
            }
        }
        Ok(())
    }

    /// A rejected kind's codes: at least one, each in the vendor's table with a status that
    /// is an outcome of the kind (so that the stub answering with it conforms); an accepted
    /// kind has none, and neither has another operation's answer (not the vendor's error body).
    fn validate_error_code(
        &self,
        e: &Expectation,
        fail: &dyn Fn(&str, String) -> SpecError,
    ) -> Result<(), SpecError> {
        let message = match (e.codes.as_slice(), e.accepts()) {
            ([], false) if !e.not_the_operation => {
                "a rejected kind needs the vendor's error codes for it".to_owned()
            }
            ([], _) => return Ok(()),
            (_, true) => "an accepted kind has no error code".to_owned(),
            (codes, false) => {
                let unfit = codes.iter().find(|code| {
                    self.error_code(code)
                        .is_none_or(|c| !e.allows(c.status, Some(code.as_str())))
                });
                match unfit {
                    None => return Ok(()),
                    Some(code) => format!(
                        "{code} is not in error_codes with a status among the outcomes of `{}`",
                        e.kind
                    ),
                }
            }
        };
        Err(fail("expectations.codes", message))
    }

    /// Whether `code` is in the error codes with `status`.
    fn has_error_code(&self, code: &str, status: u16) -> bool {
        self.error_codes
            .iter()
            .any(|c| c.code == code && c.status == status)
    }
}

/// Why a path parameter's format cannot tell a well-formed ID from a malformed one, if it
/// cannot: it must hold its example, and neither an empty ID nor the example with a space,
/// a slash or a second copy of itself appended (the malformed families the features and the
/// fuzzer send must be malformed by it).
fn unusable_format(format: &Regex, example: &str) -> Option<String> {
    if !format.is_match(example) {
        return Some(format!(
            "does not match the parameter's example `{example}`"
        ));
    }
    let malformed = [
        String::new(),
        format!("{example} "),
        format!("{example}/"),
        format!("{example}{example}"),
    ];
    malformed
        .iter()
        .find(|m| format.is_match(m))
        .map(|m| format!("matches `{m}`, which an ID of this parameter must not be: anchor it (^...$) and leave out what matches anything"))
}

/// The clauses that judge a kind: what is not the operation by its effect alone
/// (`never_acts`); the operation's kinds by the clause an unexpected answer violates, and a
/// kind never accepted by the clause a 200 violates.
fn validate_judged_by(
    e: &Expectation,
    fail: &dyn Fn(&str, String) -> SpecError,
) -> Result<(), SpecError> {
    if e.not_the_operation {
        if e.never_acts.is_none() || e.refused_by.is_some() || e.answered_by.is_some() {
            return Err(fail(
                "expectations.never_acts",
                "what is not the operation is judged by its effect alone: `never_acts`, no `refused_by` or `answered_by`".into(),
            ));
        }
    } else if e.answered_by.is_none() {
        return Err(fail(
            "expectations.answered_by",
            "the operation's kinds need the clause an unexpected answer violates".into(),
        ));
    } else if !e.accepts() && e.refused_by.is_none() {
        return Err(fail(
            "expectations.refused_by",
            "a kind that is never accepted needs the clause a 200 violates".into(),
        ));
    }
    Ok(())
}
