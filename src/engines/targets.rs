//! Opening a target: a live endpoint from a profile (secrets read from the variables it
//! names), or a fresh built-in stub and the target that reaches it. The runner sees only the
//! `Target`.

use std::sync::Arc;
use std::time::Duration;

use crate::config::profile::{self, AuthMethod, Missing, Origins, Profile, ProfileError};
use crate::contract::spec::Spec;
use crate::fixtures::Fixtures;
use crate::secret::Secret;
use crate::servers::stub::{self, Deviation, Stub};
use crate::settings;

use crate::transport::target::{
    Auth, Politeness, Target, TargetError, Transport, parse_endpoint, without_userinfo,
};

use crate::settings::flag;

/// A target to run against, with the profile it came from.
pub struct Opened {
    /// The built-in stub, when it is the target; it serves while this is kept.
    pub stub: Option<Stub>,
    pub target: Target,
    pub profile: Profile,
}

/// The target `profile` names, or a fresh built-in stub (conforming unless `deviation`) when it
/// names no endpoint.
pub async fn target(
    spec: &Arc<Spec>,
    profile: Profile,
    origins: &Origins,
    deviation: Option<Deviation>,
) -> Result<Opened, ProfileError> {
    if profile.is_live() {
        let target = live(&profile, origins)?;
        return Ok(Opened {
            stub: None,
            target,
            profile,
        });
    }
    // The built-in stub is held to the same settings as a live target: a value no run could
    // use is said, not ignored.
    profile.validate(origins)?;
    let (stub, target) = stub_target(Arc::clone(spec), deviation, profile.auth.method).await;
    let settle = match profile.timeouts.settle_ms {
        Some(ms) => Duration::from_millis(ms),
        None => target.settle_period(),
    };
    let target = target
        .with_read_api(profile.read_api)
        .with_read_pages(
            profile
                .read_api_pages
                .unwrap_or(crate::config::profile::READ_API_PAGES),
        )
        .with_settle_period(settle);
    Ok(Opened {
        stub: Some(stub),
        target,
        profile,
    })
}

/// The live target `profile` describes. Secrets are read from the variables it names. What
/// it still lacks (project, cluster, credentials) is said all at once, each with every way
/// to give it.
pub fn live(profile: &Profile, origins: &Origins) -> Result<Target, ProfileError> {
    let invalid = |key: &str, message: String| ProfileError::Invalid {
        origin: origins.of(key),
        key: key.to_owned(),
        message,
    };
    let endpoint = profile.endpoint.clone().unwrap_or_default();
    let target_error = |reason: TargetError| invalid("endpoint", reason.to_string());
    // A bad URL is said before anything is asked of the environment.
    parse_endpoint(&endpoint).map_err(target_error)?;
    let mut missing = Vec::new();
    let mut required = |key: &str, what: &str, value: &Option<String>| {
        let given = value.clone().filter(|v| !v.trim().is_empty());
        if given.is_none()
            && let Some(key) = settings::setting(key)
        {
            missing.push(Missing {
                what: what.to_owned(),
                how: key.ways(),
            });
        }
        given.unwrap_or_default()
    };
    let project_id = required(
        "project_id",
        "the project the credentials act on",
        &profile.project_id,
    );
    let cluster_id = required(
        "fixtures.cluster_id",
        "a cluster of that project",
        &profile.fixtures.cluster_id,
    );
    let auth = match credentials(profile, origins) {
        Ok(auth) => Some(auth),
        Err(unset) => {
            missing.extend(unset);
            None
        }
    };
    let Some(auth) = auth.filter(|_| missing.is_empty()) else {
        return Err(ProfileError::Incomplete {
            endpoint: without_userinfo(&endpoint),
            origin: origins.source(),
            missing,
            also: profile::Also {
                tasks: profile.fixtures.failed_action_ids.len() >= 2,
                mutations: profile.safety.allow_mutations,
                read_api: profile.read_api,
            },
        });
    };
    let fixtures = fixtures_of(profile, project_id, cluster_id);
    profile.validate(origins)?;
    let transport = transport(profile, origins)?;
    let target = Target::with_transport(&endpoint, &endpoint, auth, fixtures, &transport)
        .map_err(target_error)?;
    Ok(target
        .allow_mutations(profile.safety.allow_mutations)
        .with_politeness(politeness(profile, &endpoint))
        .with_token_env(&profile.auth.token_env)
        .with_read_api(profile.read_api)
        .with_read_pages(
            profile
                .read_api_pages
                .unwrap_or(crate::config::profile::READ_API_PAGES),
        )
        .with_settle_period(Duration::from_millis(
            profile
                .timeouts
                .settle_ms
                .unwrap_or(profile::LIVE_SETTLE_MS),
        )))
}

/// The fixtures of a live target: the profile's, in the project and cluster given.
fn fixtures_of(profile: &Profile, project_id: String, cluster_id: String) -> Fixtures {
    Fixtures {
        project_id,
        cluster_id,
        failed_action_ids: profile.fixtures.failed_action_ids.clone(),
        not_failed_action_id: profile.fixtures.not_failed_action_id.clone(),
        // Without a project of another account, one that names nothing stands in for it
        // (RUT-AUTH-03: the credentials belong to neither; the fuzzer sends it too).
        foreign_project_id: Some(
            profile
                .fixtures
                .foreign_project_id
                .clone()
                .unwrap_or_else(|| crate::fixtures::UNKNOWN_PROJECT_ID.to_owned()),
        ),
        generated_failed_tasks: false,
    }
}

/// The credentials, read from the environment variables the profile names; or each variable
/// that is unset or empty.
pub fn credentials(profile: &Profile, origins: &Origins) -> Result<Auth, Vec<Missing>> {
    let method = profile.auth.method.name();
    let read = |key: &str, var: &str, what: &str| {
        let set = crate::secret::is_variable_name(var)
            .then(|| std::env::var(var).ok())
            .flatten();
        match set {
            Some(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
            _ => Err(Missing {
                what: format!("the {what} (auth.method is {method})"),
                how: match crate::secret::shown_variable(var) {
                    Some(var) => format!(
                        "the environment variable {var}, unset or empty ({}; {} for another method)",
                        match origins.set_at(key) {
                            Some(at) => format!("named by `{key}` at {at}"),
                            None => format!("the default of `{key}`"),
                        },
                        const { flag("auth.method") }
                    ),
                    None if crate::secret::is_variable_name(var) => format!(
                        "the environment variable `{key}` names ({}; its name has small letters and is not shown, in case it is the secret itself), unset or empty",
                        origins.of(key)
                    ),
                    None => format!(
                        "`{key}` ({}) {}",
                        origins.of(key),
                        crate::secret::NOT_A_VARIABLE
                    ),
                },
            }),
        }
    };
    let auth = &profile.auth;
    Ok(match auth.method {
        AuthMethod::None => Auth::None,
        AuthMethod::Token => {
            Auth::Token(read("auth.token_env", &auth.token_env, "token").map_err(|m| vec![m])?)
        }
        AuthMethod::Aksk => {
            let ak = read("auth.ak_env", &auth.ak_env, "access key");
            let sk = read("auth.sk_env", &auth.sk_env, "secret key");
            match (ak, sk) {
                (Ok(ak), Ok(sk)) => Auth::AkSk { ak, sk },
                (ak, sk) => return Err([ak.err(), sk.err()].into_iter().flatten().collect()),
            }
        }
    })
}

/// How to connect: timeouts and TLS.
pub fn transport(profile: &Profile, origins: &Origins) -> Result<Transport, ProfileError> {
    let ca_bundle = match &profile.tls.ca_bundle {
        None => None,
        Some(file) => Some(std::fs::read(file).map_err(|e| ProfileError::Invalid {
            origin: origins.of("tls.ca_bundle"),
            key: "tls.ca_bundle".to_owned(),
            message: format!("{}: {e}", file.display()),
        })?),
    };
    Ok(Transport {
        connect_timeout: Duration::from_millis(profile.timeouts.connect_ms),
        request_timeout: Duration::from_millis(profile.timeouts.request_ms),
        ca_bundle,
        insecure: profile.tls.insecure,
    })
}

/// Whether `endpoint` is a server on this machine (a stub, a local implementation under test).
pub fn on_this_machine(endpoint: &str) -> bool {
    reqwest::Url::parse(endpoint)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(crate::transport::target::loopback::is_loopback)
        })
        .unwrap_or(false)
}

/// How politely to send to `endpoint`: at the profile's rate, or when it sets none, at the
/// live default unless the endpoint is on this machine.
pub fn politeness(profile: &Profile, endpoint: &str) -> Politeness {
    let on_this_machine = on_this_machine(endpoint);
    let rps = profile
        .safety
        .max_requests_per_second
        .unwrap_or(if on_this_machine {
            0.0
        } else {
            crate::config::profile::LIVE_MAX_REQUESTS_PER_SECOND
        });
    Politeness {
        max_requests_per_second: (rps > 0.0).then_some(rps),
        retries: profile.retries.max,
        backoff: Duration::from_millis(profile.retries.backoff_ms),
        max_retry_after: Duration::from_secs(profile.retries.max_retry_after_s),
    }
}

/// What a target of the built-in stub is called (reports, findings), before its deviation.
pub(crate) const BUILT_IN_STUB: &str = "built-in stub";

/// A fresh built-in stub (conforming unless `deviation`) and the target that reaches it,
/// signing in as `auth` says. The stub serves for as long as it is kept.
pub async fn stub_target(
    spec: Arc<Spec>,
    deviation: Option<Deviation>,
    auth: AuthMethod,
) -> (Stub, Target) {
    let fixtures = Fixtures::builtin();
    let stub = Stub::builder()
        .spec(spec)
        .fixtures(fixtures.clone())
        .deviation(deviation)
        .start()
        .await;
    let mut name = match deviation {
        None => BUILT_IN_STUB.to_owned(),
        Some(d) => format!("{BUILT_IN_STUB}, deviating: {}", d.name()),
    };
    let auth = match auth {
        AuthMethod::Token => Auth::Token(Secret::new(stub::STUB_TOKEN)),
        AuthMethod::Aksk => {
            name.push_str(", AK/SK signed");
            Auth::AkSk {
                ak: Secret::new(stub::STUB_ACCESS_KEY),
                sk: Secret::new(stub::STUB_SECRET_KEY),
            }
        }
        AuthMethod::None => {
            name.push_str(", without credentials");
            Auth::None
        }
    };
    let target = Target::new(name, &stub.base_url(), auth, fixtures)
        .unwrap_or_else(|e| unreachable!("the stub's own URL is valid: {e}"))
        .ephemeral()
        .owned_by_us()
        // The stub knows how late its effects land.
        .with_settle_period(deviation.map_or(Duration::ZERO, Deviation::settle));
    (stub, target)
}
