//! Text as it is shown to a person: what a server or a client sent, made inert for a
//! terminal, a log or a report, and kept XML-safe; a long URL shortened; an error with its
//! causes in one line.

/// A URL cut in the middle to a readable length, saying how long it was; the start (host,
/// route) and the end (last segment, query) stay visible. Only ever shorter: a URL that the
/// cut would not make shorter stays whole. Never for what is meant to be copied (cURL lines).
pub(crate) fn shorten(url: &str) -> String {
    const HEAD: usize = 110;
    const TAIL: usize = 60;
    let n = url.chars().count();
    let marker = format!("…[{n} characters]…");
    if n <= HEAD + TAIL + marker.chars().count() {
        return url.to_owned();
    }
    let head: String = url.chars().take(HEAD).collect();
    let tail: String = url.chars().skip(n - TAIL).collect();
    format!("{head}{marker}{tail}")
}

/// Text a server or a client sent, made inert for a terminal, a log or a report: control
/// characters (escape sequences, newlines that would forge lines, NUL), the characters that
/// reorder text (bidi controls and marks) and the line and paragraph separators are shown as
/// `\u{..}` instead of acting.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    let acts = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{061c}'
                    | '\u{2028}'
                    | '\u{2029}'
            )
    };
    // Printable ASCII (nearly all of it) is told in one pass over the bytes.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(acts) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `xml` with every character XML 1.0 does not allow (most control characters) replaced by
/// U+FFFD, so that the document parses whatever text it carries.
pub(crate) fn xml_safe(xml: String) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    };
    if xml.chars().all(allowed) {
        return xml;
    }
    xml.chars()
        .map(|c| if allowed(c) { c } else { '\u{fffd}' })
        .collect()
}

/// An error with its causes, which say what actually went wrong (refused, TLS, ...).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A moment as reports and the ledger show it: `2026-11-27T01:46:18Z`.
pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A word as a POSIX shell reads it back: as it is when it holds only characters no shell
/// treats specially, else in single quotes (a quote inside as `'\''`); control characters
/// made inert first.
pub fn shell_word(word: &str) -> std::borrow::Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        return std::borrow::Cow::Borrowed(word);
    }
    let word = inert(word);
    std::borrow::Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")))
}

/// `url` with any `user:password@` taken out, to be shown.
///
/// Whatever stands before the last `@` is taken out, so that a password holding `@` or `/`
/// (which no URL parser reads as the user meant) is never shown: `https://***@host`.
pub fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    match rest.rfind('@') {
        Some(at) if scheme.is_empty() => format!("***@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_only_shortens() {
        for n in [10, 170, 174, 190, 200, 10_000] {
            let url = "x".repeat(n);
            let short = shorten(&url);
            assert!(short.chars().count() <= n, "{n}: {short}");
            assert_eq!(short == url, short.chars().count() == n, "{n}");
        }
        assert!(shorten(&"x".repeat(10_000)).contains("[10000 characters]"));
    }

    #[test]
    fn server_text_is_made_inert() {
        assert_eq!(inert("CSS.0001"), "CSS.0001");
        let forged = "CSS.0001\u{1b}[2J\u{1b}]0;PWNED\u{7}\nConformant: every MUST clause passed.";
        let shown = inert(forged);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(
            shown.contains("\\u{1b}[2J") && shown.contains("\\u{a}Conformant"),
            "{shown}"
        );
        assert_eq!(inert("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(
            xml_safe("<a>\u{1b}x\u{0}</a>".to_owned()),
            "<a>\u{fffd}x\u{fffd}</a>"
        );
    }
}
