//! The oldest Rust the project builds with is declared once (`rust-version` in Cargo.toml),
//! is what every locked dependency needs at least, and is the one the docs name (the README's
//! toolchain, the CI images of docs/guide.md).

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A version `1.89` or `1.89.0` as numbers to compare.
fn version(text: &str) -> Vec<u32> {
    let mut parts: Vec<u32> = text.split('.').map(|p| p.trim().parse().unwrap()).collect();
    parts.resize(3, 0);
    parts
}

#[test]
fn the_declared_rust_version_is_what_every_dependency_needs_and_what_the_docs_say() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let declared = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_owned())
        .expect("Cargo.toml declares rust-version");
    // What the locked dependencies need, on this platform (no download: the build has them).
    let host = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8_lossy(&host.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc names its host");
    let metadata = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        metadata.status.success(),
        "{}",
        String::from_utf8_lossy(&metadata.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let needs: Vec<(Vec<u32>, String)> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            Some((version(v), format!("{} {v}", p["name"].as_str()?)))
        })
        .collect();
    let highest = needs.iter().max().expect("some package declares one");
    assert!(
        highest.0 <= version(&declared),
        "rust-version {declared}, but {} needs more",
        highest.1
    );
    assert!(needs.len() > 10, "{needs:?}");
    // The docs say the same.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("A Rust toolchain ({declared} or newer)")),
        "README.md names another toolchain than {declared}"
    );
    let guide = std::fs::read_to_string(root().join("docs/guide.md")).unwrap();
    let images: Vec<&str> = guide
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: rust:"))
        .collect();
    assert!(!images.is_empty(), "docs/guide.md names no rust image");
    for image in images {
        assert_eq!(image, declared, "docs/guide.md's image rust:{image}");
    }
}
