//! reStructuredText as the vendor's docs repository writes its API pages: titles underlined,
//! `.. table::` captions over grid tables whose cells run over several lines, bullets, code
//! blocks, paragraphs. What is read is what a rule can rest on; directives it does not know
//! are read for the paragraphs inside them. A grid table's spanned cells are read into the
//! first column they span.

use super::statement::{Form, Statement, words};

/// What stops a page from being read: its line (1-based) and why.
pub(super) type Unreadable = (usize, String);

/// The longest line read (a page's widest table is some hundreds of characters).
const MAX_LINE: usize = 64 * 1024;

/// The statements of `text`, in the page's order.
pub(super) fn statements(text: &str) -> Result<Vec<Statement>, Unreadable> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = text.lines().position(|l| l.len() > MAX_LINE) {
        return Err((at + 1, format!("a line longer than {MAX_LINE} bytes")));
    }
    // Tabs stand for spaces to the next multiple of 8, as reStructuredText reads them.
    let expanded: Vec<std::borrow::Cow<'_, str>> = text.lines().map(expand_tabs).collect();
    let lines: Vec<&str> = expanded.iter().map(|l| l.as_ref()).collect();
    let mut reader = Reader {
        lines: &lines,
        at: 0,
        section: String::new(),
        caption: None,
        out: Vec::new(),
    };
    reader.read()?;
    Ok(reader.out)
}

struct Reader<'a> {
    lines: &'a [&'a str],
    at: usize,
    section: String,
    /// The caption of the table the next grid belongs to (`.. table::`).
    caption: Option<String>,
    out: Vec<Statement>,
}

impl<'a> Reader<'a> {
    fn line(&self, at: usize) -> &'a str {
        self.lines.get(at).copied().unwrap_or("")
    }

    fn read(&mut self) -> Result<(), Unreadable> {
        while self.at < self.lines.len() {
            let line = self.line(self.at);
            let trimmed = line.trim();
            if trimmed.is_empty() || is_field(line) {
                self.at += 1;
            } else if let Some(title) = self.heading() {
                self.section = title;
                self.caption = None;
            } else if let Some(directive) = trimmed.strip_prefix("..") {
                self.directive(directive.trim())?;
            } else if trimmed.starts_with('+') {
                self.grid()?;
            } else {
                self.paragraph();
            }
        }
        Ok(())
    }

    /// A title underlined (or over- and underlined) with one punctuation character: the
    /// lines it takes are passed.
    fn heading(&mut self) -> Option<String> {
        let (first, second, third) = (
            self.line(self.at),
            self.line(self.at + 1),
            self.line(self.at + 2),
        );
        if !first.starts_with(char::is_whitespace)
            && !is_rule(first)
            && is_rule(second)
            && second.trim().chars().count() >= first.trim().chars().count()
        {
            self.at += 2;
            return Some(words(first));
        }
        if is_rule(first) && !second.trim().is_empty() && is_rule(third) {
            self.at += 3;
            return Some(words(second));
        }
        None
    }

    fn directive(&mut self, directive: &str) -> Result<(), Unreadable> {
        let start = self.at;
        self.at += 1;
        let (name, argument) = directive.split_once("::").unwrap_or(("", directive));
        match name.trim() {
            "table" | "list-table" | "csv-table" => {
                let caption = words(argument);
                let caption = strip_table_number(&caption);
                self.caption = (!caption.is_empty()).then(|| caption.to_owned());
                // Its options (`:name:`, `:widths:`) are no statements.
                while is_field(self.line(self.at)) {
                    self.at += 1;
                }
            }
            "code-block" | "code" | "sourcecode" => {
                let indent = indent_of(self.line(start));
                let mut code = Vec::new();
                let mut first = None;
                while self.at < self.lines.len() {
                    let line = self.line(self.at);
                    if !line.trim().is_empty() && indent_of(line) <= indent {
                        break;
                    }
                    if is_field(line) && code.is_empty() {
                        self.at += 1;
                        continue;
                    }
                    if !line.trim().is_empty() {
                        first.get_or_insert(self.at);
                        code.push(line.trim());
                    }
                    self.at += 1;
                }
                if let Some(first) = first {
                    self.push(None, None, code.join("\n"), Form::Code, first);
                }
            }
            // A label (`.. _name:`), a comment, or a directive whose body is read as the
            // section's own text (`.. note::`): its first line says nothing.
            _ => {}
        }
        Ok(())
    }

    /// A paragraph, or a bullet's text: its sentences. A request line (`PUT /v1.0/...`) is
    /// one statement, matched whole.
    fn paragraph(&mut self) {
        let start = self.at;
        let mut text = String::new();
        while self.at < self.lines.len() {
            let line = self.line(self.at);
            let trimmed = line.trim();
            if trimmed.is_empty()
                || (self.at > start
                    && (trimmed.starts_with("..")
                        || trimmed.starts_with('+')
                        || is_bullet(trimmed)))
            {
                break;
            }
            text.push(' ');
            text.push_str(bullet_text(trimmed));
            self.at += 1;
        }
        let text = words(&text);
        if is_request_line(&text) {
            self.push(None, None, text, Form::Code, start);
            return;
        }
        for sentence in sentences(&text) {
            self.push(None, None, sentence, Form::Sentence, start);
        }
    }

    /// A grid table: each row's first cell (its key) and each other cell, under the table's
    /// caption (or the section, without one).
    fn grid(&mut self) -> Result<(), Unreadable> {
        let start = self.at;
        let border = self.line(start);
        let offset = indent_of(border);
        let bounds = grid_bounds(border, offset).map_err(|why| (start + 1, why.to_owned()))?;
        let section = self.caption.take().unwrap_or_else(|| self.section.clone());
        let mut header: Vec<String> = Vec::new();
        let mut rows: Vec<Row> = Vec::new();
        let mut current: Option<Row> = None;
        self.at += 1;
        while self.at < self.lines.len() {
            let line: Vec<char> = self.line(self.at).chars().skip(offset).collect();
            match line.first() {
                Some('+' | '|') if is_partial_border(&line, &bounds) => {
                    let Some(row) = current.take() else {
                        return Err((
                            self.at + 1,
                            "a grid table's row separator before any row".to_owned(),
                        ));
                    };
                    current = Some(spanned(row, &line, &bounds, self.at + 1, &mut rows));
                }
                Some('+') if is_border(&line) => {
                    if let Some(row) = current.take() {
                        if line.contains(&'=') && header.is_empty() {
                            header = row.1.iter().map(|cell| words(&cell.join(" "))).collect();
                        } else {
                            rows.push(row);
                        }
                    }
                }
                Some('|') => {
                    let row = current
                        .get_or_insert_with(|| (self.at, vec![Vec::new(); bounds.len() - 1]));
                    for (column, cell) in cells(&line, &bounds) {
                        row.1[column].push(cell);
                    }
                }
                _ => break,
            }
            self.at += 1;
        }
        if current.is_some() {
            return Err((
                self.at + 1,
                "a grid table that ends without its closing border".to_owned(),
            ));
        }
        for (line, row) in rows {
            self.row(&section, &header, line, row);
        }
        Ok(())
    }

    fn row(&mut self, section: &str, header: &[String], line: usize, row: Vec<Vec<String>>) {
        let column_name = |i: usize| {
            header
                .get(i)
                .filter(|h| !h.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("column {}", i + 1))
        };
        let key = words(&row[0].join(" "));
        if key.is_empty() {
            return;
        }
        let section = section.to_owned();
        let mut put = |column: usize, text: String, form: Form| {
            self.out.push(Statement {
                section: section.clone(),
                row: Some(key.clone()),
                column: Some(column_name(column)),
                text,
                form,
                line: line + 1,
            });
        };
        put(0, key.clone(), Form::Cell);
        for (column, cell) in row.iter().enumerate().skip(1) {
            let paragraphs = paragraphs(cell);
            let prose = paragraphs
                .iter()
                .any(|p| p.ends_with(['.', '!', '?']) || p.ends_with(':'));
            if !prose {
                let text = paragraphs.join(" ");
                if !text.is_empty() {
                    put(column, text, Form::Cell);
                }
                continue;
            }
            for paragraph in labelled(paragraphs) {
                for sentence in sentences(&paragraph) {
                    put(column, sentence, Form::Sentence);
                }
            }
        }
    }

    fn push(
        &mut self,
        row: Option<String>,
        column: Option<String>,
        text: String,
        form: Form,
        at: usize,
    ) {
        if text.is_empty() {
            return;
        }
        self.out.push(Statement {
            section: self.section.clone(),
            row,
            column,
            text,
            form,
            line: at + 1,
        });
    }
}

/// A grid table's row being read: the index of its first line, each column's lines.
type Row = (usize, Vec<Vec<String>>);

/// The columns' bounds a grid table's top border (from `offset`) gives.
fn grid_bounds(border: &str, offset: usize) -> Result<Vec<usize>, &'static str> {
    let chars: Vec<char> = border.chars().skip(offset).collect();
    if !is_border(&chars) {
        return Err("a line that starts with `+` and is no grid table's border");
    }
    let bounds: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == '+')
        .map(|(i, _)| i)
        .collect();
    if bounds.len() < 2 {
        return Err("a grid table's border with fewer than two `+`");
    }
    Ok(bounds)
}

/// `row` at a separator some cells span (`line`). Under the first column it ends the row
/// (pushed to `rows`) and the spanning cells go on into the next, which starts at `next`;
/// elsewhere the row goes on, and a cell closed here is followed by another in its column.
fn spanned(mut row: Row, line: &[char], bounds: &[usize], next: usize, rows: &mut Vec<Row>) -> Row {
    let closed = |k: usize| segment(line, bounds, k).is_none_or(|s| is_rule_segment(&s));
    for (column, cell) in row.1.iter_mut().enumerate() {
        let text = segment(line, bounds, column).unwrap_or_default();
        cell.push(if closed(column) {
            String::new()
        } else {
            text.trim().to_owned()
        });
    }
    if !closed(0) {
        return row;
    }
    let carried = (0..bounds.len() - 1)
        .map(|k| {
            if closed(k) {
                Vec::new()
            } else {
                row.1[k].clone()
            }
        })
        .collect();
    rows.push(row);
    (next, carried)
}

/// The cells of one line of a grid table's row, by the columns' bounds; a bound the line does
/// not mark with `|` joins the cells beside it (a spanned cell), read into the first.
fn cells(line: &[char], bounds: &[usize]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut from = (0, bounds[0]);
    for (column, &bound) in bounds.iter().enumerate().skip(1) {
        let last = column == bounds.len() - 1;
        if line.get(bound) == Some(&'|') || last {
            let end = bound.min(line.len());
            let start = (from.1 + 1).min(end);
            out.push((
                from.0,
                line[start..end]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_owned(),
            ));
            from = (column, bound);
        }
    }
    out
}

/// A cell's lines as paragraphs (a blank line between them, or a bullet each), their markup
/// gone.
fn paragraphs(cell: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let p = words(current);
        if !p.is_empty() {
            out.push(p);
        }
        current.clear();
    };
    for line in cell {
        if line.is_empty() || is_bullet(line) {
            flush(&mut current);
        }
        current.push(' ');
        current.push_str(bullet_text(line));
    }
    flush(&mut current);
    out
}

/// The text of column `column` of a grid line, between its bounds.
fn segment(line: &[char], bounds: &[usize], column: usize) -> Option<String> {
    let (from, to) = (bounds[column] + 1, bounds[column + 1]);
    (to <= line.len()).then(|| line[from..to].iter().collect())
}

/// A run of `-` or `=` (a cell's closing border).
fn is_rule_segment(s: &str) -> bool {
    !s.is_empty() && (s.chars().all(|c| c == '-') || s.chars().all(|c| c == '='))
}

/// A row separator some cells span: `+` or `|` at every bound, a rule under some columns and
/// the spanning cells' text under the others.
fn is_partial_border(line: &[char], bounds: &[usize]) -> bool {
    let at_bounds = bounds
        .iter()
        .all(|&b| matches!(line.get(b), Some('+' | '|')));
    let segments: Vec<Option<String>> = (0..bounds.len() - 1)
        .map(|k| segment(line, bounds, k))
        .collect();
    let ruled = segments
        .iter()
        .flatten()
        .filter(|s| is_rule_segment(s))
        .count();
    at_bounds
        && bounds.iter().any(|&b| line.get(b) == Some(&'+'))
        && segments.iter().all(Option::is_some)
        && ruled > 0
        && ruled < segments.len()
}

/// `line` with each tab replaced by spaces to the next multiple of 8.
fn expand_tabs(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\t') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + 16);
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            out.push(c);
            column += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Paragraphs with a label (`Definition:`, a paragraph of its own) joined to the one after.
fn labelled(paragraphs: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut label: Option<String> = None;
    for p in paragraphs {
        let is_label = p.ends_with(':') && p.split_whitespace().count() <= 4;
        match (label.take(), is_label) {
            (Some(l), true) => {
                out.push(l);
                label = Some(p);
            }
            (None, true) => label = Some(p),
            (Some(l), false) => out.push(format!("{l} {p}")),
            (None, false) => out.push(p),
        }
    }
    out.extend(label);
    out
}

/// The sentences of `text`: cut after `.`, `!` or `?` followed by a space and a capital
/// or a quote (not a digit: "approx. 5 min.").
pub(super) fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for w in chars.windows(3) {
        let [(_, end), (_, space), (next_at, next)] = [w[0], w[1], w[2]];
        if matches!(end, '.' | '!' | '?') && space == ' ' && (next.is_uppercase() || next == '"') {
            out.push(text[start..next_at].trim().to_owned());
            start = next_at;
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last.to_owned());
    }
    out
}

/// `Table 2 Query Parameters` as `Query Parameters`.
fn strip_table_number(caption: &str) -> &str {
    let Some(rest) = caption.strip_prefix("Table ") else {
        return caption;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    rest.trim_start()
}

/// A line of one punctuation character repeated (a title's underline).
fn is_rule(line: &str) -> bool {
    let t = line.trim_end();
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if "=-~^\"'`#*+_.:".contains(c) && !line.starts_with(char::is_whitespace) => {
            t.chars().count() >= 3 && chars.all(|x| x == c)
        }
        _ => false,
    }
}

/// A grid table's border: `+` and runs of `-` or `=`.
fn is_border(line: &[char]) -> bool {
    line.len() >= 3
        && line.first() == Some(&'+')
        && line.iter().rev().find(|c| !c.is_whitespace()) == Some(&'+')
        && line
            .iter()
            .all(|c| matches!(c, '+' | '-' | '=') || c.is_whitespace())
}

/// A field (`:original_name: x`, a directive's `:name: y`).
fn is_field(line: &str) -> bool {
    let t = line.trim();
    t.starts_with(':')
        && t[1..].find(':').is_some_and(|end| {
            end > 0 && !t[1..1 + end].contains(' ') && !t[1..].starts_with("ref:")
        })
}

fn is_bullet(trimmed: &str) -> bool {
    ["- ", "* ", "+ "].iter().any(|b| trimmed.starts_with(b)) || trimmed == "-"
}

/// A bullet's text without its marker.
fn bullet_text(trimmed: &str) -> &str {
    if is_bullet(trimmed) {
        trimmed[1..].trim_start()
    } else {
        trimmed
    }
}

fn is_request_line(text: &str) -> bool {
    ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
        .iter()
        .any(|m| {
            text.strip_prefix(m)
                .is_some_and(|rest| rest.starts_with(" /"))
        })
}

fn indent_of(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_cut_where_one_ends_and_the_next_begins() {
        assert_eq!(
            sentences("Project ID. For details, see x. 2 more? Yes"),
            ["Project ID.", "For details, see x. 2 more?", "Yes"]
        );
        assert_eq!(
            sentences("It takes approx. 5 min. Then"),
            ["It takes approx. 5 min.", "Then"]
        );
        assert_eq!(
            sentences("v1.0 is a version. e.g. this"),
            ["v1.0 is a version. e.g. this"]
        );
    }

    /// Each statement as `place | words`.
    fn shown(statements: &[Statement]) -> Vec<String> {
        statements
            .iter()
            .map(|s| format!("{} | {}", s.place(), s.text))
            .collect()
    }

    #[test]
    fn a_grid_table_is_read_cell_by_cell_under_its_caption() {
        let page = "\
URI
---

.. table:: **Table 9** Things

   +------+-----------+-----------------------+
   | Name | Mandatory | Description           |
   +======+===========+=======================+
   | a_id | Yes       | First line of         |
   |      |           | a cell. Second one.   |
   |      |           |                       |
   |      |           | **Definition**:       |
   |      |           |                       |
   |      |           | What it is.           |
   +------+-----------+-----------------------+
";
        let got = statements(page).unwrap();
        let shown = shown(&got);
        assert_eq!(
            shown,
            [
                "Things · a_id · Name | a_id",
                "Things · a_id · Mandatory | Yes",
                "Things · a_id · Description | First line of a cell.",
                "Things · a_id · Description | Second one.",
                "Things · a_id · Description | Definition: What it is.",
            ]
        );
        assert_eq!(got[0].line, 9);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Whatever a file holds, it is read or refused with a line, never a panic: the seed
        /// page cut, spliced and sprinkled with table and markup characters.
        #[test]
        fn any_text_is_read_or_refused_never_a_panic(
            cut in 0usize..6_000,
            splice in "[+|=:`*. \n-a-zé]{0,80}",
            at in 0usize..6_000,
        ) {
            let seed = super::super::edition::SEED;
            let cut = seed.char_indices().map(|(i, _)| i).find(|&i| i >= cut.min(seed.len())).unwrap_or(seed.len());
            let at = seed.char_indices().map(|(i, _)| i).find(|&i| i >= at.min(seed.len())).unwrap_or(seed.len());
            let text = format!("{}{splice}{}", &seed[..at.min(cut)], &seed[cut.max(at)..]);
            if let Err((line, _)) = statements(&text) {
                proptest::prop_assert!(line >= 1 && line <= text.lines().count() + 1);
            }
        }
    }

    #[test]
    fn a_cell_that_spans_rows_is_read_into_each_and_tabs_a_bom_and_bullets_are_read_as_rst_does() {
        let page = "\u{feff}Things\n======\n\n\t+------+-----+------------------+\n\t| Name | Man | Description      |\n\t+======+=====+==================+\n\t| a_id | Yes | -  one: first.   |\n\t+------+     | -  two: second.  |\n\t| b_id |     +------------------+\n\t|      |     | Approx. 5 min.   |\n\t+------+-----+------------------+\n";
        let shown = shown(&statements(page).unwrap());
        assert_eq!(
            shown,
            [
                "Things · a_id · Name | a_id",
                "Things · a_id · Man | Yes",
                "Things · a_id · Description | one: first.",
                "Things · a_id · Description | two: second.",
                "Things · b_id · Name | b_id",
                "Things · b_id · Man | Yes",
                // The description of a_id spans into b_id's row, above b_id's own.
                "Things · b_id · Description | one: first.",
                "Things · b_id · Description | two: second.",
                "Things · b_id · Description | Approx. 5 min.",
            ]
        );
    }

    #[test]
    fn a_table_without_its_closing_border_is_unreadable_at_its_end() {
        let page = "S\n-\n\n+---+---+\n| a | b |\n";
        let (line, why) = statements(page).unwrap_err();
        assert_eq!(line, 6, "{why}");
    }
}
