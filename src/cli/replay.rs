//! `css-conformance replay FINDING.json`: a finding's case, sent again and judged anew.

use std::sync::Arc;

use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz::{self, Finding, Replay};
use css_conformance::engines::targets::Opened;

use super::{CONFORMANT, NOT_CONFORMANT, NOT_JUDGED, ReplayArgs, open_target};

pub async fn run(args: ReplayArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let finding = Finding::load(&args.finding)?;
    let (target_args, note) = args.target.or_origin(&finding.origin, &args.finding)?;
    let (
        Opened {
            stub: _stub,
            target,
            ..
        },
        _,
    ) = open_target(&spec, &target_args).await?;
    if let Some(note) = note {
        println!("{note}");
    }
    println!(
        "Replaying {} [{}] (seed {}, case {}) against {}",
        finding.clause,
        finding.level,
        finding.seed,
        finding.case_index,
        target.name()
    );
    let replayed = match fuzz::replay(&spec, &target, &finding).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the target did not answer, so nothing was judged: {e}");
            return Ok(NOT_JUDGED);
        }
    };
    match replayed {
        Replay::NoTask => {
            anyhow::bail!("the case needs a failed task and the target has none left")
        }
        Replay::NeedsConsent => anyhow::bail!(
            "the case may retry or abort a task of {} (one of its failed tasks, or a task ID the finding names itself): give --allow-mutations to send it",
            target.name()
        ),
        Replay::Judged {
            method,
            url,
            verdict,
        } => {
            println!("{method} {url}\n{verdict}");
            Ok(if verdict.violates(&finding.clause) {
                println!("{} is still violated.", finding.clause);
                NOT_CONFORMANT
            } else {
                println!("{} now holds.", finding.clause);
                CONFORMANT
            })
        }
    }
}
