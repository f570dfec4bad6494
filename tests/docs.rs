//! The documentation as users read it: every command shown in the README and in `docs/` is
//! run as written (trycmd: each `console` block, its exit code and its output), the ones of
//! a live endpoint against a stub served as a separate process; no command of the tool is
//! shown outside such a block; the README stays short and names the two commands CI runs;
//! the reference's tables agree with the code (profile keys, stub deviations and variants).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// The documentation pages, relative to the repository.
const PAGES: [&str; 5] = [
    "README.md",
    "docs/guide.md",
    "docs/live-endpoint.md",
    "docs/reference.md",
    "docs/design.md",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn every_command_of_the_docs_runs_as_written() {
    // The commands write reports and profiles where they run: a directory of the test's own,
    // holding what the pages name (docs/examples).
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs-commands");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("docs/examples"), &dir.join("docs/examples"));
    std::env::set_current_dir(&dir).unwrap();
    let bin = trycmd::cargo::cargo_bin!("css-conformance");

    // The pages that need no endpoint.
    let pages = trycmd::TestCases::new();
    pages.register_bin("css-conformance", bin);
    for page in PAGES.iter().filter(|p| !p.contains("live-endpoint")) {
        pages.case(root().join(page));
    }
    pages.run();

    // The live endpoint's page, against a stub served as a separate process that routes on
    // the raw path (as the vendor's gateway may: an ID the tool wrote with an unreserved
    // character encoded would name nothing), cuts the read API's pages short and compresses
    // its answers: each command runs as written all the same.
    let stub = css_conformance::servers::stub::Standalone::start_with(
        bin,
        300,
        &["--stub-variant", "raw-path,short-pages,gzip,chunked"],
    )
    .unwrap();
    let live = trycmd::TestCases::new();
    live.register_bin("css-conformance", bin)
        .env("CSS_CONFORMANCE_ENDPOINT", stub.url())
        .env(
            "CSS_CONFORMANCE_TOKEN",
            css_conformance::servers::stub::STUB_TOKEN,
        )
        // The built-in profiles' polite 2 requests/s, lifted for a stub on this machine.
        .env("CSS_CONFORMANCE_SAFETY_MAX_REQUESTS_PER_SECOND", "0")
        .insert_var("[ENDPOINT]", stub.url().to_owned())
        .unwrap();
    live.case(root().join("docs/live-endpoint.md"));
    live.run();
}

#[test]
fn no_command_of_the_tool_is_shown_outside_a_block_that_runs_it() {
    for page in PAGES {
        let mut fence: Option<String> = None;
        for (n, line) in read(page).lines().enumerate() {
            if let Some(info) = line.strip_prefix("```") {
                fence = match fence {
                    Some(_) => None,
                    None => Some(info.trim().to_owned()),
                };
                continue;
            }
            // Shell blocks (and blocks that say nothing) hold commands; data blocks do not.
            let Some(info) = fence
                .as_deref()
                .filter(|i| matches!(*i, "" | "sh" | "bash" | "shell" | "console"))
            else {
                continue;
            };
            let command = line
                .split_whitespace()
                .find(|w| !w.contains('='))
                .unwrap_or("");
            if command == "css-conformance" || command == "$" {
                assert_eq!(
                    info,
                    "console",
                    "{page}:{}: a command of the tool outside a `console` block, which the tests would not run: {line}",
                    n + 1
                );
            }
        }
    }
}

#[test]
fn the_readme_is_short_and_names_the_commands_ci_runs() {
    let readme = read("README.md");
    assert!(
        readme.len() <= 10 * 1024,
        "README.md is {} bytes",
        readme.len()
    );
    assert!(readme.contains("cargo run --release --locked -- check "));
    assert!(readme.contains("cargo test --locked "));
    // CI runs the README's test command.
    assert!(
        read(".ci/run")
            .lines()
            .any(|l| l.trim() == "cargo test --locked")
    );
    // Every page the README links is there.
    for page in PAGES {
        assert!(root().join(page).is_file(), "{page}");
    }
}

#[test]
fn the_reference_lists_every_setting_as_the_table_makes_it_and_every_stub_deviation() {
    let reference = read("docs/reference.md");
    let (begin, end) = (
        "<!-- settings: made by Profile::reference() -->\n",
        "<!-- settings: end -->",
    );
    let (Some(a), Some(b)) = (reference.find(begin), reference.find(end)) else {
        panic!("docs/reference.md has no `{begin}` ... `{end}` block");
    };
    let made = css_conformance::config::profile::Profile::reference();
    let written = &reference[a + begin.len()..b];
    if written != made {
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let updated = format!("{}{made}{}", &reference[..a + begin.len()], &reference[b..]);
            std::fs::write(root().join("docs/reference.md"), updated).unwrap();
        } else {
            panic!(
                "docs/reference.md's table of settings is not what the code makes (UPDATE_GOLDEN=1 cargo test --test docs rewrites it):\n{made}"
            );
        }
    }
    for setting in css_conformance::settings::SETTINGS {
        assert!(
            made.contains(&format!("| `{}` |", setting.key)),
            "{}",
            setting.key
        );
    }
    for deviation in css_conformance::servers::stub::Deviation::ALL {
        let row = format!("| `{}` | {} |", deviation.name(), deviation.describe());
        assert!(
            reference.contains(&row),
            "deviation not in the reference: {row}"
        );
    }
    for variant in css_conformance::servers::stub::Variant::ALL {
        let row = format!("| `{}` | {} |", variant.name(), variant.describe());
        assert!(
            reference.contains(&row),
            "variant not in the reference: {row}"
        );
    }
}
