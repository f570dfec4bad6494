//! `css-conformance fuzz`: generated cases only, and its soak mode.

use std::sync::Arc;

use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz::{self, soak};
use css_conformance::engines::targets::Opened;
use css_conformance::grading::{exit, writer};
use css_conformance::progress;

use super::{
    CONFORMANT, FuzzArgs, NOT_CONFORMANT, NOT_JUDGED, fuzz_options, open_target, random_seed,
    save_findings,
};

pub async fn run(args: FuzzArgs) -> anyhow::Result<u8> {
    let spec = Arc::new(Spec::embedded());
    let (
        Opened {
            stub: _stub,
            target,
            ..
        },
        origin,
    ) = open_target(&spec, &args.target).await?;
    let mutations = target.mutations_allowed();
    let mut options = fuzz_options(
        &args.fuzz,
        args.cases,
        usize::from(args.concurrency),
        mutations,
    );
    options.origin = origin;
    options.progress = progress::start(Some(args.cases), "fuzz");
    println!(
        "Fuzzing {} with {} cases, seed {} (replay this run with --seed {})",
        target.name(),
        options.cases,
        options.seed,
        options.seed
    );
    let summary = fuzz::run(&spec, &target, &options).await?;
    print!("{}", writer::fuzz_summary(&summary));
    print!("{}", writer::traffic_lines(&target.traffic()));
    let dir = args
        .fuzz
        .findings_dir
        .clone()
        .unwrap_or_else(|| "target/css-conformance/findings".into());
    save_findings(&summary, &dir)?;
    // Nothing judged is never a pass: a target that answered nothing exits 3, as for `check`.
    let traffic = target.traffic();
    if traffic.answered == 0 && traffic.faults > 0 {
        eprintln!(
            "error: the target answered none of {} request(s); the first: {}",
            traffic.faults,
            traffic.first_fault.as_deref().unwrap_or("no answer")
        );
        return Ok(NOT_JUDGED);
    }
    Ok(exit::of_findings(false, !summary.findings.is_empty()))
}

pub async fn soak(args: &FuzzArgs) -> anyhow::Result<u8> {
    let seed = args.fuzz.seed.unwrap_or_else(random_seed);
    println!(
        "fuzz --soak: {} cases in 10 chunks against one built-in stub, seed {seed}",
        args.cases
    );
    let soak = soak::run(args.cases, 10, seed, usize::from(args.concurrency))
        .await
        .ok_or_else(|| anyhow::anyhow!("--soak reads /proc/self, which this system lacks"))?;
    print!("{}", soak.render());
    Ok(if soak.problems().is_empty() {
        CONFORMANT
    } else {
        NOT_CONFORMANT
    })
}
