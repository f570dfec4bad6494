//! The JUnit XML report: one testsuite per feature, one testcase per scenario named with the
//! clause IDs it checks, and a `fuzz` testsuite with a testcase per violated clause. What
//! counts as a failure follows the clause grades of the `Report`, so the JUnit file and the
//! exit code agree: a violation of a FAIL clause fails its scenario, one of a NON-STRICT or
//! XFAIL clause is only noted; a scenario that got no answer is an `error` (a target fault),
//! not a failure. A failure's `message` says what was expected and what came back; the
//! requests with their cURL lines are in the testcase's `system-out` (the `failure` element
//! stays empty, as every JUnit consumer reads it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use junit_report::{TestCase, TestCaseBuilder, TestSuite, TestSuiteBuilder};

use crate::grading::report::{Grade, Report, RunVerdict, ScenarioResult};
use crate::records::findings::Summary;
use crate::records::judgement::ScenarioOutcome;
use crate::records::judgement::ScenarioRecord;

use super::document::Document;
use super::many_targets::ManyTargets;
use super::render::Writer;

/// `junit.xml`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JUnit;

impl Writer for JUnit {
    fn render(&self, doc: &Document) -> String {
        xml(suites(
            &doc.report,
            &doc.records,
            doc.fuzz.as_ref(),
            doc.started,
        ))
    }

    /// `junit.xml`: one testsuite per target, a testcase per clause as graded and one for the
    /// target's verdict.
    fn render_many(&self, many: &ManyTargets<'_>) -> String {
        let suites = many
            .runs
            .iter()
            .map(|(name, d)| {
                TestSuiteBuilder::new(name)
                    .set_timestamp(many.started)
                    .add_testcases(clause_cases(&d.report))
                    .build()
            })
            .collect();
        xml(suites)
    }
}

/// The testsuites of one run: its scenarios by feature, then the fuzz budget. Suite names end
/// with the target's name, so the suites of several runs can share one file.
pub fn suites(
    report: &Report,
    records: &[ScenarioRecord],
    fuzz: Option<&Summary>,
    timestamp: time::OffsetDateTime,
) -> Vec<TestSuite> {
    // In file order, whatever order the scenarios finished in.
    let mut records: Vec<&ScenarioRecord> = records.iter().collect();
    records.sort_by(|a, b| a.file_order().cmp(&b.file_order()));
    let mut by_feature: BTreeMap<&str, Vec<TestCase>> = BTreeMap::new();
    for r in records {
        by_feature
            .entry(&r.feature)
            .or_default()
            .push(testcase(report, r));
    }
    let mut suites: Vec<TestSuite> = by_feature
        .into_iter()
        .map(|(feature, cases)| {
            TestSuiteBuilder::new(&format!("{feature} ({})", report.target))
                .set_timestamp(timestamp)
                .add_testcases(cases)
                .build()
        })
        .collect();
    suites.push(
        TestSuiteBuilder::new(&format!("clauses ({})", report.target))
            .set_timestamp(timestamp)
            .add_testcases(clause_cases(report))
            .build(),
    );
    if let Some(summary) = fuzz {
        suites.push(
            TestSuiteBuilder::new(&format!("fuzz ({})", report.target))
                .set_timestamp(timestamp)
                .add_testcases(fuzz_cases(report, summary))
                .build(),
        );
    }
    suites
}

/// A failure's `type`: an intermittent one apart from the rest.
fn failure_type(grade: Grade) -> &'static str {
    if grade == Grade::Intermittent {
        "intermittent-non-conformance"
    } else {
        "non-conformance"
    }
}

/// Text for a CDATA section (junit-report writes `system-out` as one): `]]>`, which would end
/// it, broken apart.
fn cdata_safe(text: &str) -> String {
    text.replace("]]>", "]] >")
}

/// The XML document of `suites`.
pub fn xml(suites: Vec<TestSuite>) -> String {
    let report = junit_report::ReportBuilder::new()
        .add_testsuites(suites)
        .build();
    let mut out = Vec::new();
    report
        .write_xml(&mut out)
        .unwrap_or_else(|e| unreachable!("writing XML into memory: {e}"));
    let xml =
        String::from_utf8(out).unwrap_or_else(|e| unreachable!("quick-xml writes UTF-8: {e}"));
    // Whatever a server's text held, the file parses.
    crate::shown::xml_safe(xml)
}

/// `[RUT-QUERY-03 RUT-QUERY-04] ABORT is rejected`.
fn name(clauses: &[String], title: &str) -> String {
    format!("[{}] {title}", clauses.join(" "))
}

fn testcase(report: &Report, r: &ScenarioRecord) -> TestCase {
    let name = name(&r.clauses, &r.scenario);
    let time = time::Duration::try_from(r.duration).unwrap_or(time::Duration::ZERO);
    let grade = |id: &str| report.clause(id).map(|c| c.grade);
    // Every violation the scenario saw, split by whether its clause counts.
    let mut counted = String::new();
    let mut noted = String::new();
    for j in &r.judgements {
        if let Some(note) = &j.verdict.note {
            let _ = writeln!(noted, "INFO: {} {}\n{note}\n", j.method, j.url);
        }
        for v in &j.verdict.violations {
            let into = match grade(&v.clause) {
                Some(g) if g.counts() => &mut counted,
                None => &mut counted,
                Some(g) => {
                    let _ = write!(noted, "{}: ", g.label());
                    &mut noted
                }
            };
            let _ = writeln!(into, "{} {}\n{v}\n{}\n", j.method, j.url, j.curl);
        }
    }
    let mut case = match &r.outcome {
        ScenarioOutcome::Passed => TestCaseBuilder::success(&name, time),
        ScenarioOutcome::Skipped(why) => {
            TestCaseBuilder::skipped_with_cause(&name, "skipped", &why.to_string())
        }
        ScenarioOutcome::NoAnswer(why) => TestCaseBuilder::error(&name, time, "target-fault", why),
        ScenarioOutcome::Unjudged(why) => {
            TestCaseBuilder::skipped_with_cause(&name, "not judged", why)
        }
        // Failed as the report counts it (the console's count), noted otherwise.
        ScenarioOutcome::Failed(why) => match report.result_of(&r.location) {
            Some(ScenarioResult::Failed) | None => {
                TestCaseBuilder::failure(&name, time, "non-conformance", why)
            }
            Some(_) => TestCaseBuilder::success(&name, time),
        },
    };
    case.set_classname(&r.feature).set_filepath(&r.location);
    let mut out = counted;
    if !noted.is_empty() {
        let _ = write!(out, "what does not count against conformance:\n{noted}");
    }
    if !out.is_empty() {
        case.set_system_out(&cdata_safe(out.trim_end()));
    }
    case.build()
}

/// One testcase per clause, as graded: a FAIL fails; a clause no scenario judged is skipped
/// (it fails when `--require-complete` makes an unjudged MUST clause fail the run); the rest
/// pass, with what does not count noted. Then one for the run's verdict, which is never a
/// success unless the run is conformant and complete.
pub(super) fn clause_cases(report: &Report) -> Vec<TestCase> {
    let zero = time::Duration::ZERO;
    let unjudged_must = report.unjudged_must();
    let mut cases: Vec<TestCase> = report
        .clauses
        .iter()
        .map(|c| {
            let name = format!("[{}] {} {}", c.id, c.level, c.statement);
            let evidence = c.evidence.join("\n");
            let mut case = match c.grade {
                Grade::Fail | Grade::Intermittent => {
                    let mut case = TestCaseBuilder::failure(
                        &name,
                        zero,
                        failure_type(c.grade),
                        c.grade.label(),
                    );
                    case.set_system_out(&cdata_safe(&evidence));
                    case
                }
                Grade::Skip | Grade::Info
                    if report.require_complete && unjudged_must.contains(&c.id.as_str()) =>
                {
                    TestCaseBuilder::failure(&name, zero, "not-judged", &evidence)
                }
                Grade::Skip | Grade::Info => {
                    TestCaseBuilder::skipped_with_cause(&name, "not judged", &evidence)
                }
                g => {
                    let mut case = TestCaseBuilder::success(&name, zero);
                    if g != Grade::Pass {
                        case.set_system_out(&cdata_safe(&format!("{}\n{evidence}", g.label())));
                    }
                    case
                }
            };
            case.set_classname("clauses");
            case.build()
        })
        .collect();
    let verdict = super::console::verdict_line(report);
    let mut case = match report.verdict() {
        RunVerdict::Conformant => TestCaseBuilder::success("[verdict] the run", zero),
        // --fail-on new: a failure the baseline knew; the clauses' testcases still fail.
        RunVerdict::NotConformant if report.forgiven() => {
            TestCaseBuilder::success("[verdict] the run", zero)
        }
        RunVerdict::NotConformant => {
            TestCaseBuilder::failure("[verdict] the run", zero, "non-conformance", &verdict)
        }
        RunVerdict::FixtureError => {
            TestCaseBuilder::error("[verdict] the run", zero, "fixture-error", &verdict)
        }
        RunVerdict::Incomplete if report.require_complete => {
            TestCaseBuilder::failure("[verdict] the run", zero, "incomplete", &verdict)
        }
        RunVerdict::Incomplete => {
            TestCaseBuilder::skipped_with_cause("[verdict] the run", "incomplete", &verdict)
        }
        RunVerdict::NotJudged => {
            TestCaseBuilder::error("[verdict] the run", zero, "target-fault", &verdict)
        }
        RunVerdict::Interrupted => {
            TestCaseBuilder::error("[verdict] the run", zero, "interrupted", &verdict)
        }
    };
    case.set_classname("clauses");
    if let Some(page) = report.page_line() {
        case.set_system_out(&cdata_safe(&page));
    }
    cases.push(case.build());
    cases
}

/// One testcase per clause the fuzzer violated (failing as the clause's grade says), or one
/// passing testcase when it violated none.
fn fuzz_cases(report: &Report, summary: &Summary) -> Vec<TestCase> {
    let time = time::Duration::try_from(summary.elapsed).unwrap_or(time::Duration::ZERO);
    let title = format!("{} generated cases, seed {}", summary.cases, summary.seed);
    if summary.violations.is_empty() {
        let mut case = TestCaseBuilder::success(&name(&[], &title), time);
        case.set_classname("fuzz");
        if summary.transport_errors > 0 {
            case.set_system_out(&cdata_safe(&format!(
                "{} transport errors; the first: {}",
                summary.transport_errors,
                summary.first_transport_error.as_deref().unwrap_or("")
            )));
        }
        return vec![case.build()];
    }
    summary
        .violations
        .iter()
        .map(|(clause, n)| {
            let name = name(std::slice::from_ref(clause), &title);
            let finding = summary.findings.iter().find(|f| &f.clause == clause);
            let evidence = match finding {
                Some(f) => format!(
                    "minimal case (case {}, {} shrink steps): {} {}\n{}\n{}",
                    f.case_index,
                    f.shrink_steps,
                    f.method,
                    f.url,
                    f.verdict
                        .violations
                        .iter()
                        .filter(|v| &v.clause == clause)
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n"),
                    f.curl
                ),
                None => "the first failing case did not fail again when re-sent".to_owned(),
            };
            let mut message = format!("{n} generated case(s) violated {clause}");
            if let Some(f) = finding {
                let _ = write!(message, "; {}", f.reproduction.label());
            }
            let grade = report.clause(clause).map_or(Grade::Fail, |c| c.grade);
            let mut case = match grade {
                g if g.counts() => {
                    let mut case = TestCaseBuilder::failure(&name, time, failure_type(g), &message);
                    case.set_system_out(&cdata_safe(&evidence));
                    case
                }
                g => {
                    let mut case = TestCaseBuilder::success(&name, time);
                    case.set_system_out(&cdata_safe(&format!(
                        "{}: {message}\n{evidence}",
                        g.label()
                    )));
                    case
                }
            };
            case.set_classname("fuzz");
            case.build()
        })
        .collect()
}
