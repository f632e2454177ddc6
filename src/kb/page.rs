//! One advice page: YAML front matter, Markdown body, heading-aware chunks.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_norway::Value;
use time::Date;

use super::{Chunk, Contact, FieldLines, Page, Problem};

const REQUIRED: [&str; 6] = ["slug", "title", "summary", "topics", "url", "last_reviewed"];
const OPTIONAL: [&str; 4] = ["contacts", "related", "last_checked", "source"];

/// Longest chunk, in words, before a section is split in two.
const CHUNK_MAX_WORDS: usize = 160;

/// Parses one page file. Problems are pushed to `problems`; `None` means the
/// page has an error and cannot be used.
pub(super) fn parse_page(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Option<Page> {
    let err = |line: usize, msg: String| Problem::error(path, line, msg);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        problems.push(err(
            1,
            "no front matter: start the file with a line '---', the page's fields, then another '---'".into(),
        ));
        return None;
    };
    // The closing '---' line.
    let mut yaml_end = None;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            yaml_end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_len, body_start)) = yaml_end else {
        problems.push(err(
            1,
            "front matter is not closed: add a line '---' after the last field".into(),
        ));
        return None;
    };
    let yaml = &rest[..yaml_len];
    let body = &rest[body_start..];
    // File line of the first YAML line, and of the first body line.
    let yaml_line0 = 2;
    let body_line0 = yaml_line0 + yaml.matches('\n').count() + 1;
    let key_line = |key: &str| -> usize {
        yaml.lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .map(|i| yaml_line0 + i)
            .unwrap_or(1)
    };

    let value: Value = match serde_norway::from_str(yaml) {
        Ok(v) => v,
        Err(e) => {
            let (line, msg) = yaml_error(&e.to_string(), yaml_line0);
            problems.push(err(line, format!("front matter is not valid YAML: {msg}")));
            return None;
        }
    };
    let Value::Mapping(map) = value else {
        problems.push(err(
            yaml_line0,
            "front matter must be 'field: value' lines".into(),
        ));
        return None;
    };

    let before = problems.len();
    for key in REQUIRED {
        if !map.contains_key(key) {
            problems.push(err(1, format!("missing field '{key}' in the front matter")));
        }
    }
    for (k, _) in map.iter() {
        let name = k.as_str().unwrap_or("?");
        if !REQUIRED.contains(&name) && !OPTIONAL.contains(&name) {
            problems.push(Problem::warning(
                path,
                key_line(name),
                format!(
                    "unknown field '{name}' is ignored (known fields: {}, {})",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ),
            ));
        }
    }
    let mut string_field = |key: &str| -> String {
        match map.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => {
                problems.push(err(
                    key_line(key),
                    format!("'{key}' must be a non-empty line of text"),
                ));
                String::new()
            }
            None => String::new(),
        }
    };
    let slug = string_field("slug");
    let title = string_field("title");
    let summary = string_field("summary");
    let url = string_field("url");
    let last_reviewed_text = string_field("last_reviewed");

    if !slug.is_empty() {
        if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            problems.push(err(
                key_line("slug"),
                format!("slug '{slug}' may only use lower-case letters, digits and hyphens"),
            ));
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != slug {
            problems.push(Problem::warning(
                path,
                key_line("slug"),
                format!("slug '{slug}' does not match the file name '{stem}.md': rename one so they agree"),
            ));
        }
    }
    let web_address = url.starts_with("https://") || url.starts_with("http://");
    if !url.is_empty() && !web_address {
        problems.push(err(
            key_line("url"),
            format!("url '{url}' must start with https://"),
        ));
    }
    let last_reviewed = if last_reviewed_text.is_empty() {
        None
    } else {
        match Date::parse(
            &last_reviewed_text,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(err(
                    key_line("last_reviewed"),
                    format!("last_reviewed '{last_reviewed_text}' is not a date: write it as YYYY-MM-DD"),
                ));
                None
            }
        }
    };
    // When an imported page was last fetched and found unchanged or updated.
    let last_checked = match map.get("last_checked") {
        Some(Value::String(t)) => match Date::parse(
            t.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        ) {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(err(
                    key_line("last_checked"),
                    format!("last_checked '{t}' is not a date: write it as YYYY-MM-DD"),
                ));
                None
            }
        },
        Some(_) => {
            problems.push(err(
                key_line("last_checked"),
                "last_checked must be a date, YYYY-MM-DD".into(),
            ));
            None
        }
        None => None,
    };
    let topics = string_list(&map, "topics", &key_line, path, problems);
    let related = string_list(&map, "related", &key_line, path, problems);
    let contacts = parse_contacts(&map, &key_line, path, problems);

    let mut chunks = chunk_body(&slug, &title, body);
    let about = format!("{summary} {}", topics.join(" ").replace('-', " "));
    for c in &mut chunks {
        c.about.clone_from(&about);
    }
    if chunks.iter().all(|c| c.units.is_empty()) {
        problems.push(err(
            body_line0,
            "the page has no text after the front matter".into(),
        ));
    }
    if problems[before..].iter().any(|p| p.is_error()) {
        return None;
    }
    Some(Page {
        slug,
        title,
        summary,
        topics,
        url,
        last_reviewed: last_reviewed?,
        last_checked,
        contacts,
        related,
        path: path.to_path_buf(),
        lines: FieldLines {
            slug: key_line("slug"),
            related: key_line("related"),
            last_reviewed: key_line("last_reviewed"),
            body: body_line0,
        },
        body: body.to_string(),
        chunks,
    })
}

/// Rewrites the YAML parser's line numbers (counted from the first front
/// matter line) as file lines, and picks the earliest one: where the broken
/// construct starts.
fn yaml_error(message: &str, first_line: usize) -> (usize, String) {
    static AT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"line (\d+) column (\d+)").unwrap());
    let mut earliest = usize::MAX;
    let text = AT.replace_all(message, |c: &regex::Captures| {
        let n: usize = c[1].parse().unwrap_or(1);
        let file_line = first_line + n - 1;
        earliest = earliest.min(file_line);
        format!("line {file_line} column {}", &c[2])
    });
    let line = if earliest == usize::MAX {
        first_line
    } else {
        earliest
    };
    (line, text.into_owned())
}

fn string_list(
    map: &serde_norway::Mapping,
    key: &str,
    key_line: &dyn Fn(&str) -> usize,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    match map.get(key) {
        None => Vec::new(),
        Some(Value::Sequence(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                    _ => problems.push(Problem::error(
                        path,
                        key_line(key),
                        format!("every item in '{key}' must be a word or slug"),
                    )),
                }
            }
            out
        }
        Some(_) => {
            problems.push(Problem::error(
                path,
                key_line(key),
                format!("'{key}' must be a list, for example [one, two]"),
            ));
            Vec::new()
        }
    }
}

fn parse_contacts(
    map: &serde_norway::Mapping,
    key_line: &dyn Fn(&str) -> usize,
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Vec<Contact> {
    let Some(v) = map.get("contacts") else {
        return Vec::new();
    };
    let line = key_line("contacts");
    let Value::Sequence(items) = v else {
        problems.push(Problem::error(
            path,
            line,
            "'contacts' must be a list of entries with name, phone, email and hours".into(),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let get = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .map(|s| s.trim().to_string())
        };
        let Some(name) = get("name") else {
            problems.push(Problem::error(
                path,
                line,
                format!("contact {} has no 'name'", i + 1),
            ));
            continue;
        };
        out.push(Contact {
            name,
            phone: get("phone"),
            email: get("email"),
            hours: get("hours"),
        });
    }
    out
}

/// Splits a page body into heading-aware chunks of whole sentences.
pub(super) fn chunk_body(slug: &str, title: &str, body: &str) -> Vec<Chunk> {
    let mut sections: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new())];
    let mut path: Vec<(HeadingLevel, String)> = Vec::new();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut para = String::new();
    let mut in_item = 0usize;
    // Index of the unit a list attaches to (a lead-in ending with ':').
    // The sentence ending in ':' that leads a list: (section, unit). A
    // heading inside a list item starts a new section before the list ends.
    let mut list_lead: Option<(usize, usize)> = None;
    let mut list_items: Vec<String> = Vec::new();

    let flush_para = |para: &mut String, units: &mut Vec<String>| {
        let t = clean(para);
        para.clear();
        if !t.is_empty() {
            units.extend(split_sentences(&t));
        }
    };
    // A paragraph that opens with a short bold run-in label ("**Health and
    // welfare.** This covers…") or is only one ("**Capital**", a glossary's
    // term, then its definition): the label's length in `para` while it is
    // read, then the label itself, given to the paragraph's first sentence
    // ("Health and welfare: This covers…", "Capital: Savings, investments…")
    // so that the sentence can be quoted on its own.
    let mut in_bold_lead = false;
    let mut run_in: Option<usize> = None;
    let mut label: Option<String> = None;

    // A table: its header cells, and the cells of the row being read. Each
    // row becomes one unit that names its columns ("Service: Day centre;
    // Cost: £45 a day."), so it can be quoted on its own.
    let mut header: Vec<String> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut in_table = false;

    for event in Parser::new_ext(body, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Table(_)) => {
                let units = &mut sections.last_mut().unwrap().1;
                units.extend(label.take().map(|l| leads(&l)));
                flush_para(&mut para, units);
                in_table = true;
                header.clear();
                row.clear();
            }
            Event::Start(Tag::TableCell) => para.clear(),
            Event::End(TagEnd::TableCell) => {
                row.push(clean(&para));
                para.clear();
            }
            Event::End(TagEnd::TableHead) => header = std::mem::take(&mut row),
            Event::End(TagEnd::TableRow) => {
                let cells = std::mem::take(&mut row);
                let named = header.len() == cells.len() && header.iter().all(|h| !h.is_empty());
                // A fee table that gives this year's figures beside last
                // year's is quoted with this year's only.
                let current = if named {
                    current_columns(&header)
                } else {
                    Vec::new()
                };
                let parts: Vec<String> = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .filter(|(i, _)| current.is_empty() || current[*i])
                    .map(|(i, c)| {
                        let c = c.trim_end_matches(['.', ';']);
                        if named {
                            format!("{}: {c}", header[i])
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                if !parts.is_empty() {
                    sections
                        .last_mut()
                        .unwrap()
                        .1
                        .push(end_with_stop(&parts.join("; ")));
                }
            }
            Event::End(TagEnd::Table) => {
                in_table = false;
                para.clear();
            }
            Event::Start(Tag::Heading { level, .. }) => {
                let units = &mut sections.last_mut().unwrap().1;
                units.extend(label.take().map(|l| end_with_stop(&l)));
                flush_para(&mut para, units);
                heading = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some((_, text)) = heading.take() {
                    if level == HeadingLevel::H1 {
                        continue;
                    }
                    path.retain(|(l, _)| *l < level);
                    path.push((level, clean(&text)));
                    sections.push((path.iter().map(|(_, t)| t.clone()).collect(), Vec::new()));
                }
            }
            Event::Start(Tag::List(_)) if in_item == 0 => {
                let units = &mut sections.last_mut().unwrap().1;
                flush_para(&mut para, units);
                // A label leads the list it names.
                units.extend(label.take().map(|l| leads(&l)));
                let lead = units
                    .last()
                    .filter(|u| u.ends_with(':'))
                    .map(|_| units.len() - 1);
                list_lead = lead.map(|u| (sections.len() - 1, u));
                list_items.clear();
            }
            Event::Start(Tag::Item) => {
                in_item += 1;
                if in_item == 1 {
                    para.clear();
                }
            }
            Event::End(TagEnd::Item) => {
                in_item = in_item.saturating_sub(1);
                if in_item == 0 {
                    let t = clean(&para);
                    para.clear();
                    if !t.is_empty() {
                        list_items.push(t);
                    }
                }
            }
            Event::End(TagEnd::List(_)) if in_item == 0 => {
                let items = std::mem::take(&mut list_items);
                let lead = list_lead.take().filter(|(section, unit)| {
                    sections.get(*section).is_some_and(|s| *unit < s.1.len())
                });
                match lead {
                    Some((section, i)) => {
                        let units = &mut sections[section].1;
                        let joined = items
                            .iter()
                            .map(|s| s.trim_end_matches(['.', ';']).to_string())
                            .collect::<Vec<_>>()
                            .join("; ");
                        units[i] = format!("{} {}.", units[i], joined);
                    }
                    None => {
                        let units = &mut sections.last_mut().unwrap().1;
                        units.extend(items.into_iter().map(|s| end_with_stop(&s)));
                    }
                }
            }
            Event::End(TagEnd::Paragraph) if in_item == 0 && !in_table => {
                let units = &mut sections.last_mut().unwrap().1;
                let own = run_in
                    .take()
                    .map(|n| (clean(&para[..n]), clean(&para[n..])))
                    .filter(|(l, _)| !l.is_empty() && word_count(l) <= 8);
                // The label for this paragraph's first sentence, and its text.
                let (given, mut text) = match own {
                    // Only a label: it names the next paragraph.
                    Some((l, rest)) if rest.is_empty() => {
                        units.extend(label.replace(l).map(|old| end_with_stop(&old)));
                        para.clear();
                        continue;
                    }
                    Some((l, rest)) => {
                        units.extend(label.take().map(|old| end_with_stop(&old)));
                        (Some(l), rest)
                    }
                    None => (label.take(), std::mem::take(&mut para)),
                };
                para.clear();
                let before = units.len();
                flush_para(&mut text, units);
                if let (Some(l), Some(first)) = (given, units.get_mut(before)) {
                    *first = labelled(&l, first);
                }
            }
            Event::Start(Tag::Paragraph) if in_item == 0 => run_in = None,
            Event::Start(Tag::Strong)
                if in_item == 0 && !in_table && heading.is_none() && para.trim().is_empty() =>
            {
                in_bold_lead = true;
            }
            Event::End(TagEnd::Strong) if in_bold_lead => {
                in_bold_lead = false;
                run_in = Some(para.len());
            }
            Event::Text(t) | Event::Code(t) => match heading.as_mut() {
                Some((_, h)) => h.push_str(&t),
                None => para.push_str(&t),
            },
            Event::SoftBreak | Event::HardBreak => para.push(' '),
            Event::End(TagEnd::Paragraph) if in_item > 0 => para.push(' '),
            _ => {}
        }
    }
    let units = &mut sections.last_mut().unwrap().1;
    flush_para(&mut para, units);
    units.extend(label.take().map(|l| end_with_stop(&l)));

    let mut chunks = Vec::new();
    let mut first_unit_of_page = true;
    for (headings, units) in sections {
        if units.is_empty() {
            continue;
        }
        let mut start = 0;
        while start < units.len() {
            let mut end = start;
            let mut words = 0;
            while end < units.len()
                && (end == start || words + word_count(&units[end]) <= CHUNK_MAX_WORDS)
            {
                words += word_count(&units[end]);
                end += 1;
            }
            chunks.push(Chunk {
                id: format!("{slug}#{}", chunks.len()),
                slug: slug.to_string(),
                title: title.to_string(),
                headings: headings.clone(),
                units: units[start..end].to_vec(),
                page_start: first_unit_of_page,
                position: chunks.len(),
                about: String::new(),
            });
            first_unit_of_page = false;
            start = end;
        }
    }
    chunks
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// For a table's header cells, which columns to quote when some name years
/// ("2026 to 2027", "2025 to 2026 (per week)") and not all the same: the
/// ones that name no year, and the ones for the latest year. Empty when no
/// two columns name different years.
fn current_columns(header: &[String]) -> Vec<bool> {
    static YEAR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(?:19|20)\d\d\b").expect("a valid pattern")
    });
    let years: Vec<Option<u32>> = header
        .iter()
        .map(|h| {
            YEAR.find_iter(h)
                .filter_map(|m| m.as_str().parse().ok())
                .max()
        })
        .collect();
    let named: Vec<u32> = years.iter().flatten().copied().collect();
    let (Some(&latest), Some(&earliest)) = (named.iter().max(), named.iter().min()) else {
        return Vec::new();
    };
    if latest == earliest {
        return Vec::new();
    }
    years
        .iter()
        .map(|y| y.is_none_or(|y| y == latest))
        .collect()
}

/// A label that leads what follows it (a list, a table): "Documents:".
fn leads(label: &str) -> String {
    format!("{}:", label.trim_end_matches(['.', ':']))
}

/// A sentence given its run-in label: "Capital: Savings, investments…", or
/// for a label that asks a question, "Do I have to pay? No, …".
fn labelled(label: &str, sentence: &str) -> String {
    let l = label.trim();
    if l.ends_with('?') {
        format!("{l} {sentence}")
    } else {
        format!("{}: {sentence}", l.trim_end_matches(['.', ':', ';', ',']))
    }
}

fn end_with_stop(s: &str) -> String {
    if s.ends_with(['.', '!', '?', ':']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// Splits text into sentences at '.', '!' or '?' followed by a space and a
/// capital letter, digit, '£' or quote, keeping abbreviations such as "e.g." whole.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut start = 0;
    for i in 0..chars.len() {
        let (pos, c) = chars[i];
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let next = chars.get(i + 1).map(|x| x.1);
        let after = chars.get(i + 2).map(|x| x.1);
        if next != Some(' ') {
            continue;
        }
        let Some(a) = after else { continue };
        if !(a.is_uppercase() || a.is_ascii_digit() || matches!(a, '£' | '"' | '\u{201c}' | '(')) {
            continue;
        }
        let sentence = text[start..pos + c.len_utf8()].trim();
        let last_word = sentence.rsplit(' ').next().unwrap_or("").to_lowercase();
        if matches!(
            last_word.as_str(),
            "e.g." | "i.e." | "etc." | "mr." | "mrs." | "dr." | "no."
        ) {
            continue;
        }
        if !sentence.is_empty() {
            out.push(sentence.to_string());
        }
        start = pos + c.len_utf8();
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every unit of a page body, in order.
    fn all_units(body: &str) -> Vec<String> {
        chunk_body("p", "Page", body)
            .into_iter()
            .flat_map(|c| c.units)
            .collect()
    }

    #[test]
    fn sentences_split_on_stops_but_not_abbreviations_or_addresses() {
        let s = split_sentences(
            "A badge costs £10. Go to www.northbay.example/care for more, e.g. Forms. It lasts 3 years!",
        );
        assert_eq!(
            s,
            vec![
                "A badge costs £10.",
                "Go to www.northbay.example/care for more, e.g. Forms.",
                "It lasts 3 years!"
            ]
        );
    }

    #[test]
    fn a_heading_inside_a_list_item_neither_panics_nor_loses_the_lead() {
        // Found by the kb_files fuzzer: the list's lead sentence is in the
        // section before the heading the list itself starts.
        let body = "You will need:\n\n- # Documents\n- proof of address\n";
        let units = all_units(body);
        assert!(
            units
                .iter()
                .any(|u| u.starts_with("You will need:") && u.contains("proof of address")),
            "{units:?}"
        );
    }

    #[test]
    fn a_fee_table_is_quoted_with_this_years_column_only() {
        let body = "| Service | Unit | 2026 to 2027 | 2025 to 2026 |\n| --- | --- | --- | --- |\n| Home care | per hour | £27.40 | £26.10 |\n\n| Year | Cost |\n| --- | --- |\n| 2026 | £5 |\n";
        let units = all_units(body);
        assert_eq!(
            units,
            vec![
                "Service: Home care; Unit: per hour; 2026 to 2027: £27.40.",
                // Years in the cells, not the header: every column is kept.
                "Year: 2026; Cost: £5.",
            ]
        );
    }

    #[test]
    fn bold_run_in_labels_and_glossary_terms_label_their_sentence() {
        let body = "There are two types.\n\n**Health and welfare.** This covers your care. It is used later.\n\n**Capital**\n\nSavings and property.\n\n**Do I pay?** No, it is free.\n\n**Documents**\n\n- a bank statement\n\n**This whole warning is in bold and far too long to be a label.** Then more.\n\n**Orphan**\n";
        let units = all_units(body);
        assert_eq!(
            units,
            vec![
                "There are two types.",
                "Health and welfare: This covers your care.",
                "It is used later.",
                "Capital: Savings and property.",
                "Do I pay? No, it is free.",
                "Documents: a bank statement.",
                "This whole warning is in bold and far too long to be a label.",
                "Then more.",
                "Orphan.",
            ]
        );
    }

    #[test]
    fn table_rows_become_sentences_that_name_their_columns() {
        let body = "## Charges\n\nOur charges from April 2026:\n\n| Service | Cost |\n| --- | --- |\n| Day centre | £45.00 a day |\n| Meals at home | £6.20 a meal. |\n|  | |\n\nAfter the table.\n";
        let units = all_units(body);
        assert_eq!(
            units,
            vec![
                "Our charges from April 2026:",
                "Service: Day centre; Cost: £45.00 a day.",
                "Service: Meals at home; Cost: £6.20 a meal.",
                "After the table."
            ]
        );
        // With no column names, the cells alone.
        let chunks = chunk_body(
            "p",
            "Page",
            "| | |\n| --- | --- |\n| Monday | 9am to 5pm |\n",
        );
        assert_eq!(chunks[0].units, vec!["Monday; 9am to 5pm."]);
    }

    #[test]
    fn chunks_keep_heading_path_and_join_lists_to_their_lead_in() {
        let body = "# Title\n\nIntro sentence one. Intro two.\n\n## Who can get it\n\nYou can get it if you:\n\n- are over 60\n- live here\n\n### Details\n\nMore text.\n\n- loose item\n";
        let chunks = chunk_body("p", "Page", body);
        assert_eq!(chunks.len(), 3);
        assert!(chunks[0].headings.is_empty());
        assert!(chunks[0].page_start);
        assert_eq!(chunks[0].units, vec!["Intro sentence one.", "Intro two."]);
        assert_eq!(chunks[1].headings, vec!["Who can get it"]);
        assert_eq!(
            chunks[1].units,
            vec!["You can get it if you: are over 60; live here."]
        );
        assert_eq!(chunks[2].headings, vec!["Who can get it", "Details"]);
        assert_eq!(chunks[2].units, vec!["More text.", "loose item."]);
    }

    #[test]
    fn long_sections_are_split() {
        let para = "This is a sentence with exactly ten words in it here. ".repeat(40);
        let chunks = chunk_body("p", "Page", &format!("## Long\n\n{para}\n"));
        assert!(chunks.len() >= 2, "{}", chunks.len());
        assert!(chunks.iter().all(|c| c.headings == vec!["Long"]));
    }
}
