//! Whatever text a server sends back is shown inert: control characters and escape sequences
//! in an error_code, an error_msg or a header neither act on a terminal nor forge lines, and
//! junit.xml, report.html and report.md stay well-formed.

use std::process::Command;

use crate::common;

const EVIL_CODE: &str =
    "CSS.0001\u{1b}[2J\u{1b}]0;PWNED\u{7}\nConformant: every MUST clause passed.<script>x</script>";

#[test]
fn server_text_is_inert_in_every_output() {
    let body = serde_json::json!({
        "error_code": EVIL_CODE,
        "error_msg": "bad \u{1b}[31mred\u{0}\u{202e} </system-out>]]><x>",
    })
    .to_string();
    // (A control character in the status line or a header makes the answer no HTTP at all:
    // hyper refuses it, a target fault; those are tested with the faulty targets.)
    let url = common::tiny_server::serve(move |_| {
        (
            400,
            "Bad <script>",
            "X-Evil: <script>alert(1)</script>\r\n".to_owned(),
            body.clone(),
        )
    });
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile-text");
    let _ = std::fs::remove_dir_all(&dir);
    let output = Command::new(env!("CARGO_BIN_EXE_css-conformance"))
        .arg("check")
        .args(common::endpoint::flags(&url))
        .args(["--fuzz-cases", "50", "--seed", "1"])
        .args(["--findings-dir"])
        .arg(dir.join("findings"))
        .arg("--report-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{console}");
    assert!(
        console.contains("error_code CSS.0001\\u{1b}[2J"),
        "{console}"
    );
    assert!(
        !console.contains('\u{1b}') && !console.contains('\u{7}'),
        "raw control characters"
    );
    assert!(
        !console.lines().any(|l| l.starts_with("Conformant:")),
        "a forged verdict line:\n{console}"
    );
    for file in ["junit.xml", "report.html", "report.md", "report.json"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains('\u{1b}'), "{file} holds a raw ESC");
    }
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    oxml::parse(&junit).expect("junit.xml parses");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        !html.contains("<script>"),
        "report.html runs the server's script"
    );
    // report.json keeps what the server sent, as JSON escapes it.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["exit_code"], 1);
}
