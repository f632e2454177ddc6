//! Text from a council's PDF (a charging policy, a factsheet), by poppler's
//! `pdftotext` run as a separate process with a time limit, page by page,
//! so that an answer can say which page a fact is on. A PDF with no text
//! (a scan) is flagged, not indexed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;

/// A PDF's text, one string per page.
#[derive(Debug, Clone)]
pub struct PdfText {
    pub pages: Vec<String>,
    /// The document's title, from its properties or its first line of text.
    pub title: String,
    /// Whether the title came from the document's properties.
    pub title_from_properties: bool,
}

impl PdfText {
    pub fn words(&self) -> usize {
        self.pages.iter().map(|p| crate::text::word_count(p)).sum()
    }
}

/// Runs a poppler tool as `tool ARGS FILE AFTER`, stopping it after
/// `limit`, and returns what it printed (at most 20 MiB).
fn run_limited(
    tool: &str,
    args: &[&str],
    path: &Path,
    after: &[&str],
    limit: Duration,
) -> Result<Vec<u8>, String> {
    let mut child = Command::new(tool)
        .args(args)
        .arg(path)
        .args(after)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {tool} ({e}): install poppler-utils (./setup.sh does)"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.by_ref().take(20 * 1024 * 1024).read_to_end(&mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{tool} took longer than {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("{tool} failed: {e}")),
        }
    };
    let bytes = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!(
            "the PDF could not be read: {}",
            err.lines().next().unwrap_or("the PDF tool failed")
        ));
    }
    Ok(bytes)
}

/// The title in the document's properties, if it has one.
fn metadata_title(path: &Path, limit: Duration) -> Option<String> {
    let info = run_limited("pdfinfo", &["-enc", "UTF-8"], path, &[], limit).ok()?;
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("Title:"))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty() && t.chars().count() <= 200)
}

/// Runs `pdftotext -layout` on the file, stopping it after `limit`. The
/// title is the one in the document's properties, or its first line.
pub fn text_of(path: &Path, limit: Duration) -> Result<PdfText, String> {
    let bytes = run_limited(
        "pdftotext",
        &["-layout", "-enc", "UTF-8"],
        path,
        &["-"],
        limit,
    )?;
    let text = String::from_utf8_lossy(&bytes);
    let mut pages: Vec<String> = text
        .split('\u{c}')
        .map(|p| {
            p.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    while pages.last().is_some_and(|p| p.is_empty()) {
        pages.pop();
    }
    let first_line = pages.iter().flat_map(|p| p.lines()).next().unwrap_or("");
    let from_properties = metadata_title(path, limit);
    let title_from_properties = from_properties.is_some();
    let title = from_properties.unwrap_or_else(|| first_line.to_string());
    Ok(PdfText {
        pages,
        title,
        title_from_properties,
    })
}

/// A numbered section heading in a policy document ("5. Disability-related
/// expenditure (DRE)", "3 Capital limits"): a number, then a short title
/// with no closing punctuation.
static NUMBERED_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{1,2}\.?|[A-Z]\.|Part \d+:?|Section \d+:?)\s+\p{Lu}[^.!?:;]{1,80}$").unwrap()
});

/// A numbered clause ("5.1 Where a person ..."): it starts a paragraph, and
/// its number is dropped from the quoted text as list numbering is.
static CLAUSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\(?\d{1,2}\.\d{1,2}(?:\.\d{1,2})?\)?\s+").unwrap());

/// A running header or footer ("Charging Policy v4.2 – page 1 of 2").
static RUNNING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bpage \d+ of \d+\b|^\d{1,3}$").unwrap());

/// The PDF's text as a page body: a section per page (so an answer can say
/// which page a fact is on), numbered section headings kept as headings,
/// running headers and footers dropped, and lines joined into paragraphs
/// where a line does not end a sentence. A numbered clause starts its own
/// paragraph.
pub fn to_markdown(t: &PdfText) -> String {
    let mut out = String::new();
    let flush = |out: &mut String, para: &mut String| {
        if !para.is_empty() {
            out.push_str(para);
            out.push_str("\n\n");
            para.clear();
        }
    };
    for (i, page) in t.pages.iter().enumerate() {
        if page.trim().is_empty() {
            continue;
        }
        out.push_str(&format!("## Page {}\n\n", i + 1));
        let mut para = String::new();
        // The first page opens with a title block (the council's name, the
        // document's name), short lines with no full stop: headings.
        let mut title_block = i == 0;
        for line in page.lines().map(str::trim) {
            if line.is_empty() || RUNNING.is_match(line) {
                continue;
            }
            if title_block {
                if line.split_whitespace().count() <= 10
                    && !line.ends_with(['.', ':', '?', '!', ',', ';'])
                {
                    out.push_str(&format!("### {line}\n\n"));
                    continue;
                }
                title_block = false;
            }
            if para.is_empty()
                && NUMBERED_HEADING.is_match(line)
                && line.split_whitespace().count() <= 12
            {
                out.push_str(&format!("### {line}\n\n"));
                continue;
            }
            let line = match CLAUSE.find(line) {
                Some(m) => {
                    flush(&mut out, &mut para);
                    &line[m.end()..]
                }
                None => line,
            };
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line);
            if line.ends_with(['.', ':', '?', '!']) {
                flush(&mut out, &mut para);
            }
        }
        flush(&mut out, &mut para);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_keeps_its_headings_and_pages_and_drops_its_furniture() {
        let t = PdfText {
            title: "Charging Policy".into(),
            title_from_properties: true,
            pages: vec![
                "Anytown Council\nCharging Policy\nVersion 2. Approved in March 2026.\n1. Purpose\n1.1 This policy sets out how we charge for care\nand support.\n1.2 Charges are fair.\nCharging Policy v2 – page 1 of 2".into(),
                "5. Disability-related expenditure (DRE)\n5.1 We allow £21.60 a week\nwithout receipts.\n2".into(),
            ],
        };
        let md = to_markdown(&t);
        for want in [
            "## Page 1\n\n### Anytown Council\n\n### Charging Policy\n\nVersion 2. Approved in March 2026.\n\n### 1. Purpose\n\n",
            "This policy sets out how we charge for care and support.\n\nCharges are fair.\n\n",
            "## Page 2\n\n### 5. Disability-related expenditure (DRE)\n\nWe allow £21.60 a week without receipts.\n\n",
        ] {
            assert!(md.contains(want), "{want:?} not in:\n{md}");
        }
        assert!(!md.contains("page 1 of 2"), "{md}");
        assert!(!md.contains("\n2\n"), "{md}");
    }
}
