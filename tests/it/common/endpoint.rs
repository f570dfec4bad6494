//! The flags that make a test's own server the target: no credentials, the built-in
//! fixtures' project and cluster, no rate limit.

use css_conformance::fixtures::Fixtures;

/// `--endpoint URL --auth none --project-id … --set fixtures.cluster_id=…
/// --max-requests-per-second 0`.
pub fn flags(url: &str) -> Vec<String> {
    let f = Fixtures::builtin();
    [
        "--endpoint",
        url,
        "--auth",
        "none",
        "--project-id",
        &f.project_id,
        "--set",
        &format!("fixtures.cluster_id={}", f.cluster_id),
        "--max-requests-per-second",
        "0",
    ]
    .map(str::to_owned)
    .to_vec()
}
