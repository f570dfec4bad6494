//! `profile init`, `profile list`, `profile keys`: a profile written from the flags, the
//! built-in profiles, and every key of the settings table.

use css_conformance::config::profile::{BUILT_IN, in_model_order};
use css_conformance::contract::spec::Spec;

use super::CONFORMANT;
use super::target::{TargetArgs, load_profile};

/// `profile init`: the profile the flags make, commented, to stdout or a new file.
pub fn init(args: &TargetArgs, output: Option<&std::path::Path>) -> anyhow::Result<u8> {
    let (profile, origins) = load_profile(args)?;
    profile.check_against(&Spec::embedded(), &origins)?;
    profile.validate(&origins)?;
    let text = profile.commented("css-conformance profile init");
    match output {
        None => print!("{text}"),
        Some(file) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(file)
                .map_err(|e| anyhow::anyhow!("--output {}: {e}", file.display()))?;
            std::io::Write::write_all(&mut f, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("--output {}: {e}", file.display()))?;
            eprintln!(
                "wrote {}; check it with: css-conformance check --profile {}",
                file.display(),
                file.display()
            );
        }
    }
    Ok(CONFORMANT)
}

/// `profile list`: each built-in profile with the first line of its comment.
pub fn list() -> u8 {
    for (name, text) in BUILT_IN {
        let about = text.lines().next().unwrap_or("").trim_start_matches("# ");
        println!("{name:<24} {about}");
    }
    CONFORMANT
}

/// `profile keys`: every key, its flag (or `--set`), its variable, what it is.
pub fn keys() -> u8 {
    for s in in_model_order() {
        let flag = s.flag_usage();
        println!(
            "{:<34}  {:<32}  {:<46}  {}",
            s.key,
            flag.as_deref().unwrap_or("--set KEY=VALUE"),
            s.env_var(),
            s.about
        );
    }
    CONFORMANT
}
