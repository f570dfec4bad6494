//! The shape of the code, kept: the library's files form no import cycle (each file is a node,
//! so a cycle inside a folder counts as much as one between folders), the top-level modules
//! import only from the layers below theirs, and the library knows nothing of the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path: `["stub", "answer"]` for `src/stub/answer.rs`, `[]` for `src/lib.rs`.
type Module = Vec<String>;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module a file under `src` is: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn module_of(relative: &Path) -> Module {
    let mut parts: Module = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments and its test module (tests may use anything).
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        let line = line.split("//").next().unwrap_or("");
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// The index of the brace that closes the one at `open`.
fn closing(text: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The paths a `use` tree names, one per leaf: `a::{b, c::{self, D}}` is `a::b`, `a::c`,
/// `a::c::D`.
fn use_paths(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(open) = tree.find('{') else {
        let leaf = tree.split(" as ").next().unwrap_or("").trim();
        let leaf = leaf.trim_end_matches("::*").trim_end_matches("::self");
        return vec![leaf.to_owned()];
    };
    let prefix = &tree[..open];
    let close = closing(&tree, open);
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| use_paths(p.trim()))
        .map(|leaf| {
            let joined = format!("{prefix}{leaf}");
            joined.trim_end_matches("::self").to_owned()
        })
        .collect()
}

/// Every path a file's code names: each `use` tree's leaves, and the `crate::`, `super::` and
/// `self::` paths written inline.
fn named_paths(code: &str) -> Vec<String> {
    let statement = regex::Regex::new(r"(?s)\buse\s+([^;]+);").unwrap();
    let inline = regex::Regex::new(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+").unwrap();
    statement
        .captures_iter(code)
        .flat_map(|c| use_paths(&c[1]))
        .chain(inline.find_iter(code).map(|m| m.as_str().to_owned()))
        .collect()
}

/// The module `path`, named in `from`, leads to: the deepest module its segments reach.
fn resolve(path: &str, from: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut segments = path.split("::").filter(|s| !s.is_empty()).peekable();
    let mut at: Module = match segments.peek().copied()? {
        "crate" => {
            segments.next();
            Vec::new()
        }
        "self" | "super" => {
            let mut at = from.clone();
            while let Some(s) = segments.next_if(|s| *s == "self" || *s == "super") {
                if s == "super" {
                    at.pop()?;
                }
            }
            at
        }
        // A child module of this file's, named without `self::`.
        child if modules.contains(&[from.clone(), vec![child.to_owned()]].concat()) => from.clone(),
        // Another crate.
        _ => return None,
    };
    for s in segments {
        let next = [at.clone(), vec![s.to_owned()]].concat();
        if !modules.contains(&next) {
            break;
        }
        at = next;
    }
    Some(at)
}

/// Each library file's module and the modules it imports (the command line left out).
fn library_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let files: Vec<(Module, PathBuf)> = rust_files(src)
        .into_iter()
        .filter(|f| {
            let relative = f.strip_prefix(src).unwrap();
            !relative.starts_with("cli") && relative != Path::new("main.rs")
        })
        .map(|f| (module_of(f.strip_prefix(src).unwrap()), f))
        .collect();
    let modules: BTreeSet<Module> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &files {
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let edges: BTreeSet<Module> = named_paths(&code)
            .iter()
            .filter_map(|p| resolve(p, module, &modules))
            .filter(|target| target != module)
            .collect();
        graph.insert(module.clone(), edges);
    }
    graph
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// A cycle of `graph`, if it has one.
fn find_cycle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    // 0: not seen, 1: on the path, 2: done.
    fn visit<N: Ord + Clone>(
        node: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, u8>,
        path: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        match state.get(node).copied().unwrap_or(0) {
            1 => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            2 => return None,
            _ => {}
        }
        state.insert(node.clone(), 1);
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_library_files_form_no_import_cycle() {
    let graph = library_graph(&src());
    assert!(graph.len() >= 40, "the files were not found: {graph:?}");
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    println!("{} files, {edges} edges:", graph.len());
    for (module, uses) in &graph {
        let uses: Vec<String> = uses.iter().map(name).collect();
        println!("  {} -> {}", name(module), uses.join(", "));
    }
    if let Some(cycle) = find_cycle(&graph) {
        let cycle: Vec<String> = cycle.iter().map(name).collect();
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

/// The layers, from the bottom: a file imports only from its own layer and those below it.
const LAYERS: &[&[&str]] = &[
    &[
        "file_error",
        "fixtures",
        "ledger",
        "progress",
        "secret",
        "settings",
        "shown",
    ],
    &["contract"],
    &["records"],
    &["config"],
    &["transport"],
    &["servers"],
    &["engines"],
    &["grading"],
    &["check"],
];

/// Each import of `graph` that reaches a layer above its file's, and each top-level module
/// that is in no layer; the crate root, which only declares the layers, is left out.
fn layer_violations(graph: &BTreeMap<Module, BTreeSet<Module>>, layers: &[&[&str]]) -> Vec<String> {
    let layer_of = |m: &Module| {
        let top = m.first()?;
        layers.iter().position(|l| l.contains(&top.as_str()))
    };
    let mut wrong = Vec::new();
    for (module, uses) in graph.iter().filter(|(m, _)| !m.is_empty()) {
        let Some(own) = layer_of(module) else {
            wrong.push(format!("{} is in no layer", name(module)));
            continue;
        };
        for used in uses {
            match layer_of(used) {
                Some(layer) if layer <= own => {}
                _ => wrong.push(format!(
                    "{} imports {}, a layer above it",
                    name(module),
                    name(used)
                )),
            }
        }
    }
    wrong
}

#[test]
fn each_layer_imports_only_from_the_layers_below() {
    let graph = library_graph(&src());
    let wrong = layer_violations(&graph, LAYERS);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let tops: BTreeSet<&str> = graph
        .keys()
        .filter_map(|m| m.first())
        .map(String::as_str)
        .collect();
    let layered: BTreeSet<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    assert_eq!(
        tops, layered,
        "every top-level module has a layer and every layer a module"
    );
}

/// The fuzzer's generation core, domain-free: it imports nothing of the crate, so it could be
/// lifted into a crate of its own (the contract's cases are built on it in `strategy`).
#[test]
fn the_generation_core_imports_nothing_of_the_crate() {
    let graph = library_graph(&src());
    let core: Module = ["engines", "fuzz", "generation"]
        .map(str::to_owned)
        .to_vec();
    let uses = graph
        .get(&core)
        .expect("src/engines/fuzz/generation.rs is found");
    assert!(
        uses.is_empty(),
        "generation imports {:?}",
        uses.iter().map(name).collect::<Vec<_>>()
    );
    let strategy: Module = ["engines", "fuzz", "strategy"].map(str::to_owned).to_vec();
    assert!(graph[&strategy].contains(&core), "the edge to it is seen");
}

#[test]
fn an_import_from_a_layer_above_is_found() {
    let files = [
        ("lib.rs", "pub mod contract;\npub mod grading;\n"),
        ("contract.rs", "pub fn judge() {}\n"),
        ("grading.rs", "use crate::contract::judge;\n"),
    ];
    let up = Scratch::of(&files, "layers-ok").graph();
    assert_eq!(layer_violations(&up, LAYERS), Vec::<String>::new());
    let mut down = files;
    down[1].1 = "use crate::grading;\npub fn judge() {}\n";
    let wrong = layer_violations(&Scratch::of(&down, "layers-wrong").graph(), LAYERS);
    assert_eq!(wrong, ["contract imports grading, a layer above it"]);
}

/// What `grading/` reads, from the bottom of `LAYERS`: the leaves, the contract, the records
/// and the configuration (and itself); never the engines, the transport or the servers that
/// make the records.
fn grading_reads() -> Vec<&'static str> {
    let below: Vec<&str> = LAYERS
        .iter()
        .take_while(|l| !l.contains(&"transport"))
        .flat_map(|l| l.iter().copied())
        .collect();
    below.into_iter().chain(["grading"]).collect()
}

/// Each import of a `grading` file from outside `grading_reads()`.
fn grading_violations(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<String> {
    let reads = grading_reads();
    let mut wrong = Vec::new();
    for (module, uses) in graph
        .iter()
        .filter(|(m, _)| m.first().is_some_and(|t| t == "grading"))
    {
        for used in uses {
            if !used.first().is_some_and(|t| reads.contains(&t.as_str())) {
                wrong.push(format!(
                    "{} imports {}, which makes records",
                    name(module),
                    name(used)
                ));
            }
        }
    }
    wrong
}

#[test]
fn grading_reads_the_records_not_what_makes_them() {
    let wrong = grading_violations(&library_graph(&src()));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_grading_file_that_reads_the_transport_is_found() {
    let files = [
        (
            "lib.rs",
            "pub mod grading;\npub mod records;\npub mod transport;\n",
        ),
        ("records.rs", "pub struct Traffic;\n"),
        ("transport.rs", "pub use crate::records::Traffic;\n"),
        ("grading.rs", "pub mod writer;\n"),
        ("grading/writer.rs", "use crate::records::Traffic;\n"),
    ];
    let reads = Scratch::of(&files, "grading-ok").graph();
    assert_eq!(grading_violations(&reads), Vec::<String>::new());
    let mut wrong = files;
    wrong[4].1 = "use crate::transport::Traffic;\n";
    let found = grading_violations(&Scratch::of(&wrong, "grading-wrong").graph());
    assert_eq!(
        found,
        ["grading::writer imports transport, which makes records"]
    );
}

/// The files outside `cli/` where a flag is written: the settings table, which defines every
/// setting's flag and names the command line's options the library's texts name; the launcher
/// of the binary's own servers, whose flags are the command line it runs; and the cURL line of
/// a finding, whose flags are cURL's.
const FLAG_HOMES: &[&str] = &[
    "settings.rs",
    "servers/stub/standalone.rs",
    "transport/target/curl.rs",
];

/// A file's text before its test module (tests may write anything).
fn before_tests(text: &str) -> &str {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]"
            && text[at + line.len()..]
                .trim_start()
                .starts_with("mod tests")
        {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// Each string literal of the library's code (outside `cli/`, `main.rs`, `FLAG_HOMES` and
/// the test modules) that names a flag (`--name`, anywhere in it): a text that names a
/// setting's flag or an option of the command line gets it from the table
/// (`settings::flag`, `settings::options`); an error names none (the binary words it).
fn flag_literals(src: &Path) -> Vec<String> {
    let flag = regex::Regex::new(r"--[a-z]").unwrap();
    let mut found = Vec::new();
    for file in rust_files(src) {
        let rel = file.strip_prefix(src).unwrap();
        let shown = rel.to_string_lossy().replace('\\', "/");
        if rel.starts_with("cli") || shown == "main.rs" || FLAG_HOMES.contains(&shown.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = before_tests(&text);
        for (what, range) in stretches(code) {
            let literal = &code[range.clone()];
            if what == Stretch::Literal && flag.is_match(literal) {
                let line = code[..range.start].lines().count().max(1);
                let first = code[..range.start].ends_with('\n') as usize;
                found.push(format!("{shown}:{}: {literal}", line + first));
            }
        }
    }
    found
}

#[test]
fn flags_are_written_only_by_the_command_line_and_the_settings_table() {
    let found = flag_literals(&src());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_flag_written_in_library_code_is_found() {
    let files = [
        ("lib.rs", "pub mod grading;\npub mod cli;\n"),
        (
            "grading.rs",
            "pub const NOT_A_FLAG: &str = \"--\";\n// give --read-api\npub const URL: &str = \"https://x//y\";\n",
        ),
        ("cli/mod.rs", "pub const FLAG: &str = \"--report-dir\";\n"),
    ];
    let scratch = Scratch::of(&files, "flags-ok");
    assert_eq!(flag_literals(&scratch.0.join("src")), Vec::<String>::new());
    let mut wrong = files;
    wrong[1].1 = "pub fn fail() -> String {\n    format!(\"--report-dir {}: unwritable\", 1)\n}\n\npub const HINT: &str =\n    \"give a failed task (--failed-action-id)\";\n";
    let scratch = Scratch::of(&wrong, "flags-wrong");
    assert_eq!(
        flag_literals(&scratch.0.join("src")),
        [
            "grading.rs:2: \"--report-dir {}: unwritable\"",
            "grading.rs:6: \"give a failed task (--failed-action-id)\""
        ]
    );
}

/// The most lines a source file may have before its test module.
const MAX_FILE_LINES: usize = 600;

/// The most lines a function may take, from its `fn` line to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// Each file under `src` longer than `MAX_FILE_LINES` before its test module, with its length.
fn long_files(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(src) {
        let lines = code_of(&std::fs::read_to_string(&file).unwrap())
            .lines()
            .count();
        if lines > MAX_FILE_LINES {
            let rel = file.strip_prefix(src).unwrap().to_string_lossy();
            found.push(format!("{rel}: {lines} lines before its tests"));
        }
    }
    found
}

/// What a stretch of code the scanner found is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stretch {
    Comment,
    /// A string or character literal, its quotes included.
    Literal,
}

/// The comments and the string and character literals of `code`, in order, each with its
/// byte range (every delimiter is ASCII, so each range starts and ends on a character).
fn stretches(code: &str) -> Vec<(Stretch, std::ops::Range<usize>)> {
    let b = code.as_bytes();
    let find = |from: usize, what: &[u8]| {
        (from..b.len())
            .find(|&j| b[j..].starts_with(what))
            .map_or(b.len(), |j| j + what.len())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        let word_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let found = match b[i] {
            b'/' if next == Some(b'/') => Some((Stretch::Comment, find(i, b"\n"))),
            b'/' if next == Some(b'*') => Some((Stretch::Comment, find(i + 2, b"*/"))),
            b'r' if matches!(next, Some(b'"' | b'#')) && !word_before => {
                let hashes = b[i + 1..].iter().take_while(|&&h| h == b'#').count();
                (b.get(i + 1 + hashes) == Some(&b'"')).then(|| {
                    let close: Vec<u8> = std::iter::once(b'"')
                        .chain(std::iter::repeat_n(b'#', hashes))
                        .collect();
                    (Stretch::Literal, find(i + 2 + hashes, &close))
                })
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                Some((Stretch::Literal, (j + 1).min(b.len())))
            }
            b'\'' if next == Some(b'\\') => Some((Stretch::Literal, find(i + 2, b"'"))),
            b'\'' if b.get(i + 2) == Some(&b'\'') => Some((Stretch::Literal, i + 3)),
            _ => None,
        };
        match found {
            Some((what, end)) => {
                out.push((what, i..end));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

/// `code` with the insides of its comments, strings and character literals blanked (newlines
/// kept), so that a brace counted is a brace of the code.
fn blanked(code: &str) -> String {
    let mut out = code.as_bytes().to_vec();
    for (_, range) in stretches(code) {
        for byte in &mut out[range.start + 1..range.end.saturating_sub(1).max(range.start + 1)] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    // Only ASCII bytes were written, over whole stretches of characters.
    String::from_utf8_lossy(&out).into_owned()
}

/// Each function of the files under `src` (tests included) longer than `MAX_FUNCTION_LINES`,
/// with its length.
fn long_functions(src: &Path) -> Vec<String> {
    let item = regex::Regex::new(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)").unwrap();
    let mut found = Vec::new();
    for file in rust_files(src) {
        let code = blanked(&std::fs::read_to_string(&file).unwrap());
        for m in item.captures_iter(&code) {
            let start = m.get(0).unwrap().start();
            // The body's brace, unless a `;` ends the item first (a declaration).
            let Some(open) = code[start..].find(['{', ';']).map(|at| start + at) else {
                continue;
            };
            if code.as_bytes()[open] == b';' {
                continue;
            }
            let close = closing(&code, open);
            let line = code[..start].lines().count().max(1);
            let lines = code[start..=close.min(code.len() - 1)].lines().count();
            if lines > MAX_FUNCTION_LINES {
                let rel = file.strip_prefix(src).unwrap().to_string_lossy();
                found.push(format!("{rel}:{line} {}: {lines} lines", &m[1]));
            }
        }
    }
    found
}

#[test]
fn no_source_file_is_over_600_lines_apart_from_its_tests() {
    let found = long_files(&src());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_function_in_src_is_over_80_lines() {
    let found = long_functions(&src());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_long_file_and_a_long_function_are_found() {
    let body = |n: usize| "    let _ = 1;\n".repeat(n);
    // 80 lines of function, and a long test module, which does not count.
    let short = format!("pub fn short() {{\n{}}}\n", body(78));
    let tests = format!(
        "#[cfg(test)]\nmod tests {{\n{}}}\n",
        "    // a test\n".repeat(700)
    );
    let ok = format!("{short}{tests}");
    let scratch = Scratch::of(&[("lib.rs", &ok)], "long-ok");
    let src = scratch.0.join("src");
    assert_eq!(long_files(&src), Vec::<String>::new());
    assert_eq!(long_functions(&src), Vec::<String>::new());

    // One line more in the function, with braces in a string, a character and a comment that
    // must not end it early; and code instead of the test module.
    let long = format!(
        "pub fn long() {{\n    let _ = \"}}\";\n    let _ = '}}';\n    // }}\n{}}}\n",
        body(76)
    );
    let wrong = format!("{long}{}", "const _: u8 = 0;\n".repeat(600));
    let scratch = Scratch::of(&[("lib.rs", &wrong)], "long-wrong");
    let src = scratch.0.join("src");
    assert_eq!(long_functions(&src), ["lib.rs:1 long: 81 lines"]);
    assert_eq!(long_files(&src), ["lib.rs: 681 lines before its tests"]);
}

/// A small crate of `files` (path, text) under a temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn of(files: &[(&str, &str)], name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "css-conformance-architecture-{}-{name}",
            std::process::id()
        ));
        for (path, text) in files {
            let file = dir.join("src").join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        Scratch(dir)
    }

    fn graph(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        library_graph(&self.0.join("src"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_cycle_inside_a_folder_is_found() {
    let files = [
        ("lib.rs", "pub mod writer;\n"),
        (
            "writer/mod.rs",
            "mod html;\nmod many;\npub use html::Html;\n",
        ),
        (
            "writer/html.rs",
            "use super::many::Many;\npub struct Html;\n",
        ),
        (
            "writer/many.rs",
            "use crate::writer::{html::{self, Html}};\npub struct Many;\n",
        ),
    ];
    let graph = Scratch::of(&files, "cyclic").graph();
    let module = |s: &str| s.split("::").map(str::to_owned).collect::<Module>();
    assert!(graph[&module("writer::html")].contains(&module("writer::many")));
    assert!(graph[&module("writer::many")].contains(&module("writer::html")));
    let cycle = find_cycle(&graph).expect("the cycle inside writer/ is found");
    assert!(cycle.contains(&module("writer::html")), "{cycle:?}");

    // Without the edge back, the same folder is acyclic.
    let mut acyclic = files;
    acyclic[3].1 = "pub struct Many;\n";
    assert_eq!(find_cycle(&Scratch::of(&acyclic, "acyclic").graph()), None);
}

#[test]
fn use_trees_and_inline_paths_are_read_as_written() {
    assert_eq!(
        use_paths("crate::{a::{self, B}, c::D as E, f::*}"),
        ["crate::a", "crate::a::B", "crate::c::D", "crate::f"]
    );
    let code = code_of(
        "use super::x;\n// crate::commented\nfn f() { crate::y::z(); }\n#[cfg(test)]\nmod tests {\n    use crate::tested;\n}\n",
    );
    let paths = named_paths(&code);
    assert!(paths.contains(&"super::x".to_owned()), "{paths:?}");
    assert!(paths.contains(&"crate::y::z".to_owned()), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("commented") || p.contains("tested"))
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a", "d"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(m, e)| (m.to_owned(), e.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let mut acyclic = graph.clone();
    acyclic.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn the_library_knows_nothing_of_the_command_line() {
    let src = src();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        if rel.starts_with("cli") || rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("clap::"), "{} uses clap", rel.display());
    }
}
