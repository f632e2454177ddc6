//! Text from a council's PDF (a charging policy, a factsheet), by poppler's
//! `pdftotext` run as a separate process with a time limit, page by page,
//! so that an answer can say which page a fact is on. A PDF with no text
//! (a scan) is flagged, not indexed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A PDF's text, one string per page.
#[derive(Debug, Clone)]
pub struct PdfText {
    pub pages: Vec<String>,
    /// The document's title, from its first line of text.
    pub title: String,
}

impl PdfText {
    pub fn words(&self) -> usize {
        self.pages.iter().map(|p| crate::text::word_count(p)).sum()
    }
}

/// Runs `pdftotext -layout` on the file, stopping it after `limit`.
pub fn text_of(path: &Path, limit: Duration) -> Result<PdfText, String> {
    let mut child = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run pdftotext ({e}): install poppler-utils (./setup.sh does)")
        })?;
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
                return Err(format!("pdftotext took longer than {} s", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("pdftotext failed: {e}")),
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
            err.lines().next().unwrap_or("pdftotext failed")
        ));
    }
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
    let title = pages
        .iter()
        .flat_map(|p| p.lines())
        .next()
        .unwrap_or("")
        .to_string();
    Ok(PdfText { pages, title })
}

/// The PDF's text as a page body: a section per page, lines joined into
/// paragraphs where a line does not end a sentence.
pub fn to_markdown(t: &PdfText) -> String {
    let mut out = String::new();
    for (i, page) in t.pages.iter().enumerate() {
        if page.trim().is_empty() {
            continue;
        }
        out.push_str(&format!("## Page {}\n\n", i + 1));
        let mut para = String::new();
        for line in page.lines() {
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(line.trim());
            let ends = line.trim_end().ends_with(['.', ':', '?', '!']);
            if ends {
                out.push_str(&para);
                out.push_str("\n\n");
                para.clear();
            }
        }
        if !para.is_empty() {
            out.push_str(&para);
            out.push_str("\n\n");
        }
    }
    out
}
