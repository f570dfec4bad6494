//! The target options of `check`, `fuzz`, `replay` and `profile init`: `--profile`, a flag
//! for each setting that has one (made from the settings table, `settings`), `--set`
//! for any key, `--stub-deviation`; and the profile and target they make.

use std::path::PathBuf;
use std::sync::Arc;

use clap::builder::{EnumValueParser, PossibleValue, ValueParser};
use clap::{Arg, ArgAction, ArgMatches, ValueEnum};

use css_conformance::config::profile::{AuthMethod, Origins, Profile};
use css_conformance::contract::spec::Spec;
use css_conformance::engines::fuzz as fuzzer;
use css_conformance::engines::targets::{self, Opened};
use css_conformance::records::findings::Origin;
use css_conformance::servers::stub::Deviation;
use css_conformance::settings::{KeyType, SETTINGS, Setting, options};
use css_conformance::transport::target::without_userinfo;

#[derive(clap::Args, Clone)]
pub struct TargetArgs {
    /// A target profile: a YAML file or a built-in one by name (`profile list`): endpoint,
    /// project_id, auth, fixtures, safety, timeouts, tls, retries, expected_deviations.
    /// Without one (and without CSS_CONFORMANCE_ENDPOINT) the target is the built-in stub.
    #[arg(long = options::PROFILE.0, value_name = "FILE|NAME")]
    pub profile: Vec<PathBuf>,
    #[command(flatten)]
    pub settings: SettingFlags,
    /// Set a profile key that has no flag of its own, e.g. --set timeouts.request_ms=30000
    /// (repeatable; `profile keys` lists them).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub deviation: StubDeviation,
}

/// `--stub-deviation`, the one definition `check`, `fuzz`, `replay` and `stub` share.
#[derive(clap::Args, Clone, Copy, Default)]
pub struct StubDeviation {
    /// Serve a built-in stub that deviates from the contract on purpose: to see what a finding
    /// looks like, or how a client copes (`css-conformance deviations` lists them).
    #[arg(
        long,
        value_enum,
        value_name = "DEVIATION",
        hide_possible_values = true
    )]
    pub stub_deviation: Option<DeviationArg>,
}

/// The settings' flags given, each with its value in the form `--set` takes, in the order
/// of the table.
#[derive(Debug, Clone, Default)]
pub struct SettingFlags(Vec<(&'static Setting, String)>);

impl SettingFlags {
    /// Whether a flag set `key`.
    pub fn sets(&self, key: &str) -> bool {
        self.0.iter().any(|(s, _)| s.key == key)
    }
}

/// A setting's flag as clap takes it: its value parsed as the key's type.
fn arg(setting: &Setting) -> Option<Arg> {
    let flag = setting.flag?;
    let arg = Arg::new(setting.key)
        .long(flag.long)
        .help(flag.help)
        .required(false);
    let arg = match flag.value_name {
        Some(name) => arg.value_name(name),
        None => arg,
    };
    let parser: ValueParser = match setting.value {
        KeyType::Bool => return Some(arg.action(ArgAction::SetTrue)),
        KeyType::Text | KeyType::Yaml | KeyType::List => clap::value_parser!(String),
        KeyType::Path => clap::value_parser!(PathBuf),
        KeyType::Number => clap::value_parser!(f64).into(),
        KeyType::Whole => clap::value_parser!(u64).into(),
        KeyType::Method => EnumValueParser::<AuthArg>::new().into(),
    };
    // A negative number is the flag's value, refused by its parser or the setting's check
    // with the flag named (not "unexpected argument").
    let arg = arg.allow_negative_numbers(matches!(setting.value, KeyType::Number | KeyType::Whole));
    let action = if setting.value == KeyType::List {
        ArgAction::Append
    } else {
        ArgAction::Set
    };
    Some(arg.action(action).value_parser(parser))
}

/// The value a setting's flag was given, in the form `--set` takes (read as [`arg`] parsed it).
fn given(matches: &ArgMatches, setting: &Setting) -> Option<String> {
    let id = setting.key;
    match setting.value {
        KeyType::Bool => matches.get_flag(id).then(|| "true".to_owned()),
        KeyType::List => {
            let each: Vec<&String> = matches.get_many::<String>(id)?.collect();
            let joined: Vec<&str> = each.iter().map(|s| s.as_str()).collect();
            Some(joined.join(","))
        }
        KeyType::Text | KeyType::Yaml => matches.get_one::<String>(id).cloned(),
        KeyType::Path => matches
            .get_one::<PathBuf>(id)
            .map(|p| p.display().to_string()),
        KeyType::Number => matches.get_one::<f64>(id).map(f64::to_string),
        KeyType::Whole => matches.get_one::<u64>(id).map(u64::to_string),
        KeyType::Method => matches
            .get_one::<AuthArg>(id)
            .map(|a| a.0.name().to_owned()),
    }
}

impl clap::Args for SettingFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(SETTINGS.iter().filter_map(arg))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for SettingFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = SETTINGS
            .iter()
            .filter(|s| s.flag.is_some())
            .filter_map(|s| Some((s, given(matches, s)?)))
            .collect();
        Ok(SettingFlags(given))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl TargetArgs {
    /// The profile keys the flags set, as (flag, key, value); flags win over everything.
    pub fn overrides(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let mut out: Vec<(String, String, String)> = self
            .settings
            .0
            .iter()
            .filter_map(|(s, value)| {
                let flag = s.flag?;
                Some((format!("--{}", flag.long), s.key.to_owned(), value.clone()))
            })
            .collect();
        for set in &self.set {
            let Some((key, value)) = set.split_once('=') else {
                anyhow::bail!("--set {set}: expected KEY=VALUE, e.g. --set retries.max=0");
            };
            out.push((
                format!("--set {key}"),
                key.trim().to_owned(),
                value.trim().to_owned(),
            ));
        }
        Ok(out)
    }

    /// The target `replay` sends a finding's case to: the one these arguments (and the
    /// environment) name, as for `check`; a finding file is data, never settings, so what it
    /// records of its target (endpoint, profile, credentials' variables, TLS, consent) is
    /// only compared and shown. Without a target named, a finding of the built-in stub is
    /// replayed on a fresh built-in stub with the deviation it records; one of an endpoint is
    /// refused, with the command that names it. Also a note to show: where the finding was
    /// recorded, when that is not the target now.
    pub fn or_origin(
        &self,
        origin: &fuzzer::Origin,
        file: &std::path::Path,
    ) -> anyhow::Result<(TargetArgs, Option<String>)> {
        let mut args = self.clone();
        let env_endpoint =
            std::env::var_os("CSS_CONFORMANCE_ENDPOINT").is_some_and(|v| !v.is_empty());
        let names_a_target =
            args.settings.sets("endpoint") || !args.profile.is_empty() || env_endpoint;
        let recorded = origin.endpoint().map(css_conformance::shown::inert);
        if names_a_target {
            let note = recorded.map(|e| {
                format!(
                    "The finding was recorded against {e}; replaying against the target the command line names (a finding file's settings are never used)."
                )
            });
            return Ok((args, note));
        }
        if recorded.is_some() || origin.profile.is_some() {
            let flags: Vec<String> = replay_flags(origin)
                .iter()
                .map(|f| css_conformance::shown::shell_word(f).into_owned())
                .collect();
            anyhow::bail!(
                "{} was found on {}: a finding file is data, not settings, so name the target as for check (endpoint, credentials, consent), e.g.\n  css-conformance replay {} {}",
                file.display(),
                recorded.as_deref().unwrap_or("the profile it records"),
                css_conformance::shown::shell_word(&file.display().to_string()),
                flags.join(" ")
            );
        }
        if args.deviation.stub_deviation.is_none()
            && let Some(name) = &origin.stub_deviation
        {
            let deviation = Deviation::from_name(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "the finding names an unknown stub deviation `{}`",
                    css_conformance::shown::inert(name)
                )
            })?;
            args.deviation.stub_deviation = Some(DeviationArg(deviation, None));
        }
        Ok((args, None))
    }
}

/// `--auth`: the library's `AuthMethod`, named for the command line.
#[derive(Debug, Clone, Copy)]
pub struct AuthArg(pub AuthMethod);

impl ValueEnum for AuthArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            AuthArg(AuthMethod::Token),
            AuthArg(AuthMethod::Aksk),
            AuthArg(AuthMethod::None),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self.0 {
            AuthMethod::Token => {
                "An IAM token in `X-Auth-Token`, read from the variable `token_env` names"
            }
            AuthMethod::Aksk => {
                "AK/SK request signing (SDK-HMAC-SHA256), keys read from `ak_env` and `sk_env`"
            }
            AuthMethod::None => "No credentials at all",
        };
        Some(PossibleValue::new(self.0.name()).help(help))
    }
}

/// `--stub-deviation`: the library's `Deviation`, named for the command line; for
/// `acts-through`, the family of the grammar it acts through (`acts-through=FAMILY`, its place
/// in the embedded spec's grammar), or every family.
#[derive(Debug, Clone, Copy)]
pub struct DeviationArg(pub Deviation, pub Option<u16>);

impl DeviationArg {
    /// Its name on the command line.
    pub fn name(&self) -> String {
        match self.1.and_then(family_name) {
            Some(family) => format!("{}={family}", self.0.name()),
            None => self.0.name().to_owned(),
        }
    }
}

/// The name of the embedded grammar's family at `index`.
fn family_name(index: u16) -> Option<String> {
    Spec::embedded()
        .families()
        .nth(usize::from(index))
        .map(|(name, _)| name)
}

impl ValueEnum for DeviationArg {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<DeviationArg>> = std::sync::LazyLock::new(|| {
            let families = Spec::embedded().families().count();
            let through = (0..families)
                .filter_map(|i| u16::try_from(i).ok())
                .map(|i| DeviationArg(Deviation::ActsThrough, Some(i)));
            Deviation::ALL
                .into_iter()
                .map(|d| DeviationArg(d, None))
                .chain(through)
                .collect()
        });
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self.1 {
            // One name each, kept for the life of the process (the list is made once).
            Some(_) => {
                let name: &'static str = Box::leak(self.name().into_boxed_str());
                Some(PossibleValue::new(name).hide(true))
            }
            None => Some(PossibleValue::new(self.0.name()).help(self.0.describe())),
        }
    }
}

/// The profile (a file or a built-in one), the environment and the flags (flags win).
pub fn load_profile(args: &TargetArgs) -> anyhow::Result<(Profile, Origins)> {
    let (mut profile, mut origins) = match args.profile.as_slice() {
        [] => (Profile::default(), Origins::default()),
        [file] => Profile::load(file)?,
        several => anyhow::bail!(
            "--profile is given {} times; only `check` runs several targets",
            several.len()
        ),
    };
    profile.apply_env(&mut origins)?;
    for (flag, key, value) in args.overrides()? {
        profile.apply_flag(&mut origins, &key, &value, &flag)?;
    }
    Ok((profile, origins))
}

/// Says which of the user's fixtures a run against the built-in stub does not use (it serves
/// its own project, cluster and tasks): a forgotten endpoint is not a silent one.
fn warn_unused_fixtures(profile: &Profile, origins: &Origins) {
    if profile.is_live() {
        return;
    }
    let keys = [
        "project_id",
        "fixtures.cluster_id",
        "fixtures.failed_action_ids",
        "fixtures.not_failed_action_id",
        "fixtures.foreign_project_id",
    ];
    let unused: Vec<String> = keys
        .into_iter()
        .filter(|key| profile.value_text(key).is_some_and(|v| !v.is_empty()))
        .map(|key| format!("`{key}` ({})", origins.of(key)))
        .collect();
    if !unused.is_empty() {
        eprintln!(
            "warning: no endpoint is given, so the target is the built-in stub, which serves its own project, cluster and tasks: {} not used (--endpoint names the target to check)",
            unused.join(", ")
        );
    }
}

/// The target the profile, the environment and the flags name (flags win), or a fresh
/// built-in stub when none names an endpoint.
pub async fn open_target(
    spec: &Arc<Spec>,
    args: &TargetArgs,
) -> anyhow::Result<(Opened, fuzzer::Origin)> {
    let (profile, origins) = load_profile(args)?;
    profile.check_against(spec, &origins)?;
    if profile.tls.insecure {
        eprintln!(
            "warning: TLS certificates are NOT verified ({}); use only against a test server",
            origins.of("tls.insecure")
        );
    }
    warn_unused_fixtures(&profile, &origins);
    if profile.is_live() && args.deviation.stub_deviation.is_some() {
        anyhow::bail!(
            "--stub-deviation applies to the built-in stub, but an endpoint is set ({})",
            origins.of("endpoint")
        );
    }
    if let Some(d) = args.deviation.stub_deviation.filter(|d| d.1.is_some()) {
        anyhow::bail!(
            "--stub-deviation {}: one family is served by `css-conformance stub` (the built-in stub of check and fuzz acts through every family with `acts-through`)",
            d.name()
        );
    }
    let deviation = args.deviation.stub_deviation.map(|d| d.0);
    let origin = fuzzer::Origin {
        stub_deviation: deviation.map(|d| d.name().to_owned()),
        // A file by its absolute path; a built-in profile by its name.
        profile: args.profile.first().map(|p| {
            if p.exists() {
                std::path::absolute(p).unwrap_or_else(|_| p.clone())
            } else {
                p.clone()
            }
        }),
        // Whatever set them, the endpoint (none: the built-in stub) and the auth method are
        // recorded: a finding says what it was found on.
        settings: origins
            .overridden()
            .chain(["endpoint", "auth.method"])
            .filter_map(|key| {
                let value = profile.value_text(key)?;
                let value = match key {
                    "endpoint" => without_userinfo(&value),
                    _ => value,
                };
                Some((key.to_owned(), value))
            })
            .collect(),
    };
    Ok((
        targets::target(spec, profile, &origins, deviation).await?,
        origin,
    ))
}

/// The flags of `replay` that name the same target again (the file's origin is shown and
/// printed, never used as settings: a finding file is data).
pub fn replay_flags(origin: &Origin) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(d) = &origin.stub_deviation {
        flags.extend(["--stub-deviation".to_owned(), d.clone()]);
    }
    if let Some(p) = &origin.profile {
        flags.extend(["--profile".to_owned(), p.display().to_string()]);
    }
    for (key, value) in &origin.settings {
        match css_conformance::settings::setting(key).and_then(|s| s.flag.map(|f| (s, f))) {
            Some((s, f)) if s.value == css_conformance::settings::KeyType::Bool => {
                if value == "true" {
                    flags.push(format!("--{}", f.long));
                }
            }
            Some((s, f)) if s.value == css_conformance::settings::KeyType::List => {
                for item in value.split(',').filter(|i| !i.is_empty()) {
                    flags.extend([format!("--{}", f.long), item.to_owned()]);
                }
            }
            Some((_, f)) => flags.extend([format!("--{}", f.long), value.clone()]),
            None => flags.extend(["--set".to_owned(), format!("{key}={value}")]),
        }
    }
    flags
}
