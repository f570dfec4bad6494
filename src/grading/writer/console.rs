//! The console: one line per clause, evidence under what did not pass, the summary, then
//! the traffic and the fuzzer's findings.

use std::fmt::Write as _;

use crate::contract::spec::Level;
use crate::grading::baseline::Diff;
use crate::grading::report::{Grade, Report, RunVerdict};
use crate::records::findings::Summary;
use crate::records::traffic::Traffic;
use crate::shown::shorten;

use super::document::Document;
use super::many_targets::ManyTargets;
use super::render::Writer;

use crate::settings::flag;
use crate::settings::options::{REQUIRE_COMPLETE, STRICT};

/// How many pieces of evidence the console shows per clause.
const EVIDENCE_SHOWN: usize = 3;

/// The console rendering; `quiet` leaves out the clauses that passed, `colors` paints the
/// verdicts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Console {
    pub quiet: bool,
    pub colors: bool,
}

impl Writer for Console {
    fn render(&self, doc: &Document) -> String {
        // What is the user's to fix comes first.
        let mut out: String = doc
            .fixture_notes
            .iter()
            .map(|n| format!("{}\n", crate::shown::inert(n)))
            .collect();
        out.push_str(&self.clauses(&doc.report));
        if let Some(line) = crate::records::effects::DoorResult::summary(&doc.doors) {
            out.push_str(&line);
            out.push('\n');
        }
        if let Some(traffic) = &doc.traffic {
            out.push_str(&traffic_lines(traffic));
        }
        if let Some(summary) = &doc.fuzz {
            out.push_str(&fuzz_summary(summary));
        }
        out
    }

    /// The console: the changes since the baseline, the table (quiet: the rows that are not
    /// all PASS), each target's verdict.
    fn render_many(&self, many: &ManyTargets<'_>) -> String {
        let (quiet, colors) = (self.quiet, self.colors);
        let mut out = String::new();
        if let Some(diff) = many.diff {
            out.push_str(&diff_console(diff, true));
            out.push('\n');
        }
        let width = many
            .runs
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0)
            .max(12);
        let _ = write!(out, "{:<13} {:<8}", "Clause", "Level");
        for (name, _) in &many.runs {
            let _ = write!(out, " {name:<width$}");
        }
        out.push('\n');
        for (id, level) in many.rows() {
            let all_pass = many
                .runs
                .iter()
                .all(|(_, d)| ManyTargets::grade(&d.report, id) == Some(Grade::Pass));
            if quiet && all_pass {
                continue;
            }
            let _ = write!(out, "{id:<13} {level:<8}");
            for (_, d) in &many.runs {
                let label = ManyTargets::label(&d.report, id);
                let style = match ManyTargets::grade(&d.report, id) {
                    Some(Grade::Pass) => console::Style::new().green(),
                    Some(Grade::Fail | Grade::Intermittent) => console::Style::new().red().bold(),
                    Some(Grade::NonStrict) => console::Style::new().yellow(),
                    _ => console::Style::new().dim(),
                };
                let padded = format!("{label:<width$}");
                let _ = write!(out, " {}", style.force_styling(colors).apply_to(padded));
            }
            if many.differs(id) {
                out.push_str("  <- differs");
            }
            out.push('\n');
        }
        out.push('\n');
        for (name, d) in &many.runs {
            let _ = writeln!(
                out,
                "{name} ({}): {}",
                d.report.target,
                verdict_line(&d.report)
            );
        }
        out
    }
}

impl Console {
    /// The clause lines and the verdict.
    pub fn clauses(&self, report: &Report) -> String {
        let passed_too = !self.quiet;
        let colors = self.colors;
        let paint = |g: Grade| {
            let style = match g {
                Grade::Pass => console::Style::new().green(),
                Grade::Fail => console::Style::new().red().bold(),
                Grade::Intermittent => console::Style::new().red(),
                Grade::NonStrict => console::Style::new().yellow(),
                Grade::Xfail | Grade::Xpass => console::Style::new().magenta(),
                Grade::Skip | Grade::Info => console::Style::new().dim(),
            };
            style.force_styling(colors).apply_to(g.label()).to_string()
        };
        let mut out = String::new();
        let _ = writeln!(out, "Target: {}", report.target);
        for c in report
            .clauses
            .iter()
            .filter(|c| passed_too || c.grade != Grade::Pass)
        {
            let _ = writeln!(
                out,
                "{:<13} {:<8} {}  {}{}",
                c.id,
                c.level.to_string(),
                paint(c.grade),
                judged_of(c),
                c.statement
            );
            if c.evidence.is_empty() || c.grade == Grade::Pass {
                continue;
            }
            // A skipped scenario's reason is said once, below, for the whole run.
            let shown: Vec<&String> = c
                .evidence
                .iter()
                .filter(|e| !e.contains(": skipped: "))
                .collect();
            for e in shown.iter().take(EVIDENCE_SHOWN) {
                let lines: Vec<String> = e.lines().map(at_most_a_line).collect();
                let _ = writeln!(out, "      {}", lines.join("\n      "));
            }
            if shown.len() > EVIDENCE_SHOWN {
                let _ = writeln!(out, "      ({} more)", shown.len() - EVIDENCE_SHOWN);
            }
        }
        out.push_str(&skip_reasons(report));
        out.push_str(&totals(report));
        out
    }
}

/// The counts of clauses by grade and of scenarios, the verdict, and what a NON-STRICT or an
/// XPASS asks of the user.
fn totals(report: &Report) -> String {
    let mut out = String::new();
    let n = |g: Grade| report.clauses.iter().filter(|c| c.grade == g).count();
    let grades: Vec<String> = Grade::ALL
        .iter()
        .filter(|g| matches!(g, Grade::Pass | Grade::Fail | Grade::Skip) || n(**g) > 0)
        .map(|g| format!("{} {}", n(*g), g.label()))
        .collect();
    let unanswered = if report.scenarios_unanswered > 0 {
        format!(", {} without an answer", report.scenarios_unanswered)
    } else {
        String::new()
    };
    let scenarios = report.scenarios_passed
        + report.scenarios_failed
        + report.scenarios_skipped
        + report.scenarios_unanswered;
    let _ = write!(
        out,
        "\n{} clauses: {}",
        report.clauses.len(),
        grades.join(", ")
    );
    // A verdict of requests alone (a stub's on its clients) has no scenarios to count.
    if scenarios > 0 {
        let _ = write!(
            out,
            "; {scenarios} scenarios: {} passed, {} failed, {} skipped{unanswered}",
            report.scenarios_passed, report.scenarios_failed, report.scenarios_skipped,
        );
    }
    out.push('\n');
    let _ = writeln!(out, "{}", verdict_line(report));
    if let Some(page) = report.page_line() {
        let _ = writeln!(out, "{page}.");
    }
    if n(Grade::NonStrict) > 0 && !report.strict {
        let _ = writeln!(
            out,
            "NON-STRICT: SHOULD or EXTENDED clauses failed; {STRICT} counts them."
        );
    }
    if n(Grade::Xpass) > 0 {
        let _ = writeln!(
            out,
            "XPASS: expected deviations no longer observed; remove them from the profile."
        );
    }
    out
}

/// How many of a clause's scenarios were judged, when not all were (`[1/4 judged] `), or,
/// when none of them was but the clause was, by what (`[judged by features/x.feature:9] `).
pub fn judged_of(c: &crate::grading::report::ClauseResult) -> String {
    if c.judged_scenarios >= c.scenarios.len() {
        return String::new();
    }
    match (c.judged_scenarios, c.judged_by.as_slice()) {
        (0, [first, rest @ ..]) if c.grade != Grade::Skip => {
            let more = match rest.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            format!("[judged by {first}{more}] ")
        }
        (judged, _) => format!("[{judged}/{} judged] ", c.scenarios.len()),
    }
}

/// A line of evidence cut to what a terminal shows in a few rows; the whole is in the reports.
fn at_most_a_line(line: &str) -> String {
    const SHOWN: usize = 300;
    let n = line.chars().count();
    if n <= SHOWN {
        return line.to_owned();
    }
    let head: String = line.chars().take(SHOWN - 60).collect();
    format!("{head}… ({n} characters; the whole in report.md and report.json)")
}

/// Why scenarios were not run, once per reason for the whole run, with how many each held
/// back: the lines that say what to give for a complete verdict.
fn skip_reasons(report: &Report) -> String {
    let mut reasons: std::collections::BTreeMap<String, std::collections::BTreeSet<&str>> =
        std::collections::BTreeMap::new();
    for (location, outcome, _) in &report.outcomes {
        if let crate::records::judgement::ScenarioOutcome::Skipped(why) = outcome {
            reasons.entry(why.to_string()).or_default().insert(location);
        }
    }
    // A report of clauses alone (one read back, say) has its reasons in the evidence.
    for e in report.clauses.iter().flat_map(|c| &c.evidence) {
        if let Some((scenario, reason)) = e.split_once(": skipped: ") {
            reasons
                .entry(reason.to_owned())
                .or_default()
                .insert(scenario);
        }
    }
    if reasons.is_empty() {
        return String::new();
    }
    let mut out = "Scenarios not run, by reason:\n".to_owned();
    for (reason, scenarios) in reasons {
        let count = match scenarios.len() {
            1 => "1 scenario".to_owned(),
            n => format!("{n} scenarios"),
        };
        let _ = writeln!(out, "  {count}: {reason}");
    }
    out
}

/// The run's verdict in a sentence: never "conformant" for a run that judged nothing or left
/// a MUST clause unjudged.
pub fn verdict_line(report: &Report) -> String {
    let must = report.must_failures();
    match report.verdict() {
        RunVerdict::Interrupted => format!(
            "INTERRUPTED by {}: what was judged before it is in the reports; not a verdict of conformance.",
            report
                .interrupted
                .as_ref()
                .map_or("a signal", |(s, _)| s.as_str())
        ),
        RunVerdict::NotJudged => format!(
            "NOT JUDGED: {}; no clause could be judged.",
            report
                .target_fault
                .as_deref()
                .unwrap_or("the target answered nothing")
        ),
        RunVerdict::NotConformant => not_conformant_line(report, &must),
        RunVerdict::Incomplete => {
            let unjudged = report.unjudged_must();
            format!(
                "INCOMPLETE: no MUST clause failed, but {} MUST clause(s) were not judged ({}): not a verdict of conformance{}.",
                unjudged.len(),
                unjudged.join(", "),
                if report.require_complete {
                    format!("; {REQUIRE_COMPLETE} fails the run")
                } else {
                    format!(" ({REQUIRE_COMPLETE} makes this fail the run)")
                }
            )
        }
        RunVerdict::FixtureError => {
            let unjudged = report.unjudged_must();
            format!(
                "FIXTURE ERROR: no MUST clause failed, but {} MUST clause(s) were not judged ({}) because of the fixtures given: {}. Not a verdict of conformance; fix them and run again (exit 2).",
                unjudged.len(),
                unjudged.join(", "),
                report
                    .fixture_errors
                    .iter()
                    .map(|e| crate::shown::inert(e).into_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
        RunVerdict::Conformant => conformant_line(report),
    }
}

/// The verdict of a run that broke clauses, naming them.
fn not_conformant_line(report: &Report, must: &[&str]) -> String {
    let all_must = must
        .iter()
        .all(|id| report.clause(id).is_some_and(|c| c.level == Level::Must));
    let what = if report.strict {
        "clauses failed (strict)"
    } else if all_must {
        "MUST clauses failed"
    } else {
        // A served stub's or a proxy's client clauses count whatever their level.
        "clauses failed"
    };
    let named: Vec<String> = must
        .iter()
        .map(|id| match report.clause(id) {
            Some(c) if c.grade == Grade::Intermittent => format!("{id} (intermittently)"),
            _ => (*id).to_owned(),
        })
        .collect();
    format!("NOT conformant: {what}: {}", named.join(", "))
}

/// The verdict of a conformant run, with the known deviations and what the read API judges.
fn conformant_line(report: &Report) -> String {
    let known: Vec<&str> = report
        .clauses
        .iter()
        .filter(|c| c.level == Level::Must && c.grade == Grade::Xfail)
        .map(|c| c.id.as_str())
        .collect();
    let line = if known.is_empty() {
        "Conformant: every MUST clause passed.".to_owned()
    } else {
        format!(
            "Conformant but for known deviations: every MUST clause passed but {}, which fail as the profile's expected_deviations say (XFAIL).",
            known.join(", ")
        )
    };
    match report.unjudged_without_read_api().as_slice() {
        [] => line,
        unread => format!(
            "{} Not judged without the read API: {} (what a request did to the cluster's other tasks; {} judges it).",
            line.replace(
                "every MUST clause passed",
                "every MUST clause judged passed"
            ),
            unread.join(", "),
            const { flag("read_api") }
        ),
    }
}

/// What the politeness layer did, when it did anything worth a line, and the requests that
/// got no answer.
pub fn traffic_lines(traffic: &Traffic) -> String {
    let mut out = String::new();
    if traffic.retried + traffic.throttled + traffic.not_resent + traffic.repeated > 0 {
        let _ = writeln!(
            out,
            "Traffic: {} requests sent ({} of them again on purpose, to see whether findings reproduce); {} retried after a network error or 5xx{}; {} waits for 429; {} not re-sent after a 400/403",
            traffic.sent,
            traffic.repeated,
            traffic.retried,
            traffic
                .first_retry
                .as_deref()
                .map_or(String::new(), |f| format!(" (first: {f})")),
            traffic.throttled,
            traffic.not_resent
        );
    }
    if traffic.transient + traffic.lost > 0 {
        let _ = writeln!(
            out,
            "Transient answers: {} waited out (a gateway's 502/503/504, or a connection that ended before any answer; the request then sent again); {} request(s) that may have acted met one and were not sent again (their tasks counted as used, their clauses not judged from them)",
            traffic.transient, traffic.lost
        );
    }
    if let Some(why) = &traffic.unavailable {
        let _ = writeln!(
            out,
            "Target unavailable: {}; nothing more was sent",
            crate::shown::inert(why)
        );
    }
    if traffic.faults > 0 {
        let _ = writeln!(
            out,
            "Target faults: {} request(s) got no answer (the first: {}); what they were for is not judged",
            traffic.faults,
            traffic.first_fault.as_deref().unwrap_or("no answer")
        );
    }
    out
}

/// The fuzzer's totals, then each finding with its minimal case and cURL line.
pub fn fuzz_summary(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Fuzz: {} cases, seed {}, {:.2} s ({} requests sent, {} of them repeats of findings, {:.0}/s); {} judged ({} answered from the memory of refusals, not sent again), {} without a failed task, {} transport errors; {} finding(s)",
        summary.cases,
        summary.seed,
        summary.elapsed.as_secs_f64(),
        summary.sent,
        summary.repeated,
        summary.cases_per_second(),
        summary.judged,
        summary.from_memory,
        summary.without_task,
        summary.transport_errors,
        summary.findings.len()
    );
    if let Some(e) = &summary.first_transport_error {
        let _ = writeln!(out, "  first transport error: {e}");
    }
    for f in &summary.findings {
        let n = summary.violations.get(&f.clause).copied().unwrap_or(1);
        let _ = writeln!(
            out,
            "FINDING {} [{}]: {}; {} case(s); minimal case (seed {}, case {}, {} shrink steps):",
            f.clause,
            f.level,
            f.reproduction.label(),
            n,
            f.seed,
            f.case_index,
            f.shrink_steps
        );
        for v in f.verdict.violations.iter().filter(|v| v.clause == f.clause) {
            let _ = writeln!(out, "  expected {}; got {}", v.expected, v.evidence);
        }
        let _ = writeln!(out, "  {} {}", f.method, shorten(&f.url));
        if f.ephemeral_target {
            // Its port closed with the run: a cURL line would reach nothing.
            let _ = writeln!(
                out,
                "  (the built-in stub is gone with the run: `replay`, below, starts one of its own; the cURL line is in the reports)"
            );
        } else {
            let _ = writeln!(out, "  {}", f.curl);
            if let Some(said) = curl_variables(&f.curl) {
                let _ = writeln!(out, "  ({said})");
            }
        }
    }
    out
}

/// What the shell variables of a cURL line stand for, so that it can be run as printed.
fn curl_variables(curl: &str) -> Option<String> {
    let mut said = Vec::new();
    for (at, _) in curl.match_indices('$') {
        let name: String = curl[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let meaning = if name == "CSS_CONFORMANCE_AUTHORIZATION" {
            "$CSS_CONFORMANCE_AUTHORIZATION stands for an AK/SK signature, made anew for each request: `replay` signs it".to_owned()
        } else {
            format!("${name} holds the token, as in the environment of the run")
        };
        if !name.is_empty() && !said.contains(&meaning) {
            said.push(meaning);
        }
    }
    (!said.is_empty()).then(|| said.join("; "))
}

/// What changed since the baseline, for the console: the counts, then each change (naming
/// its target when the run had several).
pub fn diff_console(diff: &Diff, targets: bool) -> String {
    let mut out = format!("{}\n", diff.headline());
    for d in diff.changed() {
        let target = if targets {
            format!("{:<16} ", d.target)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:<19} {:<13} {target}{} -> {}",
            d.change.label(),
            d.clause,
            d.before.as_deref().unwrap_or("-"),
            d.now
        );
    }
    out
}
