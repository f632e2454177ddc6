//! The knowledge base: advice pages (Markdown with YAML front matter), their
//! heading-aware chunks, and the local services directory. Loading never
//! panics on bad content: every problem is reported with its file and line.

mod page;
pub mod readability;
pub mod routes;
mod services;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use time::Date;

pub use page::split_sentences;
pub use services::CATEGORIES;

use crate::config::KbSettings;

/// Bumped whenever chunking or indexing changes, so old indexes are rebuilt.
const FORMAT_VERSION: &str = "signpost-kb-3";

#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub hours: Option<String>,
}

/// One advice page.
#[derive(Debug, Clone)]
pub struct Page {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub topics: Vec<String>,
    pub url: String,
    pub last_reviewed: Date,
    /// For an imported page: when its source was last fetched.
    pub last_checked: Option<Date>,
    pub contacts: Vec<Contact>,
    pub related: Vec<String>,
    pub path: PathBuf,
    /// Where fields are in the file, for problem reports.
    pub lines: FieldLines,
    pub body: String,
    pub chunks: Vec<Chunk>,
}

/// File lines of a page's fields.
#[derive(Debug, Clone, Copy)]
pub struct FieldLines {
    pub slug: usize,
    pub related: usize,
    pub last_reviewed: usize,
    pub body: usize,
}

/// A passage for retrieval: whole sentences ("units") under one heading path.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// `slug#n`, unique in the knowledge base.
    pub id: String,
    pub slug: String,
    pub title: String,
    pub headings: Vec<String>,
    /// Sentences (a list joined to its lead-in counts as one).
    pub units: Vec<String>,
    /// True for the first chunk of a page, which holds its key answer.
    pub page_start: bool,
    /// Order of the chunk within its page (0 for the first).
    pub position: usize,
    /// The page's summary and topics, indexed with every chunk of the page.
    pub about: String,
}

impl Chunk {
    pub fn text(&self) -> String {
        self.units.join(" ")
    }
}

/// One service in the local directory.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub organization: String,
    pub categories: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: Option<String>,
    pub address: Option<String>,
    pub areas: Vec<String>,
    pub schedule: Option<String>,
    pub eligibility: Option<String>,
    pub cost: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in the content, with where it is.
#[derive(Debug, Clone)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn error(file: &Path, line: usize, message: String) -> Self {
        Self {
            file: file.to_path_buf(),
            line,
            severity: Severity::Error,
            message,
        }
    }
    pub fn warning(file: &Path, line: usize, message: String) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, line, message)
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A TOML parse error as a problem at the line where it was found.
    pub fn toml(file: &Path, text: &str, e: &toml::de::Error, what: &str) -> Self {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        Self::error(file, line, format!("{what}: {}", e.message()))
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            sev,
            self.message
        )
    }
}

/// The loaded knowledge base. Pages or services with errors are left out.
#[derive(Debug, Clone)]
pub struct Kb {
    pub dir: PathBuf,
    pub pages: Vec<Page>,
    pub services: Vec<Service>,
    /// Residents' phrases (in matching form, see [`crate::text::for_matching`])
    /// and the page words added to a search when they appear.
    pub synonyms: Vec<(String, String)>,
    /// Residents' phrases (in matching form) whose words mean something
    /// else on the pages ("her carers" are paid care workers, where pages
    /// mean family by "carers"), and the words searched for instead.
    pub instead: Vec<(String, String)>,
    /// Labelled example messages for semantic triage.
    pub triage_examples: Vec<(crate::triage::semantic::Label, String)>,
    /// sha256 over every content file and the format version.
    pub content_hash: String,
}

/// Readability of one page, as reported by `kb check`.
#[derive(Debug, Clone)]
pub struct PageReadability {
    pub slug: String,
    pub grade: f64,
    pub words: usize,
}

impl Kb {
    /// Loads and validates the knowledge base in `settings.dir`, as of `today`.
    /// Returns an error only when the folder itself cannot be read.
    pub fn load(settings: &KbSettings, today: Date) -> Result<(Kb, Vec<Problem>)> {
        let dir = &settings.dir;
        if !dir.is_dir() {
            bail!(
                "knowledge base folder {} not found: run from the project folder, or set SIGNPOST_KB_DIR or kb.dir in signpost.toml",
                dir.display()
            );
        }
        let mut problems = Vec::new();
        let mut hasher = Sha256::new();
        hasher.update(FORMAT_VERSION.as_bytes());

        let page_files = list_files(&dir.join("pages"), "md")?;
        let withdrawn = withdrawn(dir);
        let mut pages: Vec<Page> = Vec::new();
        let mut slugs: HashMap<String, PathBuf> = HashMap::new();
        for path in &page_files {
            let Some(text) = read_text(path, &mut hasher, &mut problems) else {
                continue;
            };
            let Some(p) = page::parse_page(path, &text, &mut problems) else {
                continue;
            };
            if withdrawn.contains(&p.slug) {
                problems.push(Problem::warning(
                    path,
                    1,
                    "withdrawn from answers (withdrawn.txt): its source is gone; approve its removal or take it off the list".into(),
                ));
                continue;
            }
            if let Some(first) = slugs.get(&p.slug) {
                problems.push(Problem::error(
                    path,
                    p.lines.slug,
                    format!(
                        "duplicate slug '{}': {} already uses it",
                        p.slug,
                        first.display()
                    ),
                ));
                continue;
            }
            slugs.insert(p.slug.clone(), path.clone());
            let mut p = p;
            for c in &mut p.chunks {
                c.units.retain(|u| {
                    let bad = crate::triage::instruction_like(u);
                    if bad {
                        let probe: String = u.chars().take(40).collect();
                        let line = text.lines().position(|l| l.contains(&probe)).map(|i| i + 1).unwrap_or(1);
                        problems.push(Problem::warning(
                            path,
                            line,
                            "this text reads like instructions to an assistant; Signpost will never show or follow it".into(),
                        ));
                    }
                    !bad
                });
            }
            pages.push(p);
        }
        for p in &pages {
            for r in &p.related {
                if !slugs.contains_key(r) {
                    problems.push(Problem::error(
                        &p.path,
                        p.lines.related,
                        format!("related page '{r}' does not exist: fix the slug or add the page"),
                    ));
                }
            }
            let age = (today - p.last_reviewed).whole_days();
            if age > settings.review_warn_days {
                problems.push(Problem::warning(
                    &p.path,
                    p.lines.last_reviewed,
                    format!(
                        "last reviewed {} ({} days ago): check the page is still right and update last_reviewed",
                        p.last_reviewed, age
                    ),
                ));
            }
            let r = readability::flesch_kincaid(&p.body);
            if r.grade > settings.max_reading_grade {
                problems.push(Problem::warning(
                    &p.path,
                    p.lines.body,
                    format!(
                        "reading grade {:.1} is above the limit {:.1}: use shorter sentences and simpler words",
                        r.grade, settings.max_reading_grade
                    ),
                ));
            }
        }

        let mut services = Vec::new();
        let mut seen_ids = HashMap::new();
        for path in list_files(&dir.join("services"), "json")? {
            let Some(text) = read_text(&path, &mut hasher, &mut problems) else {
                continue;
            };
            services.extend(services::parse_services(
                &path,
                &text,
                &mut seen_ids,
                &mut problems,
            ));
        }
        // Signpost's everyday words every council shares, then the
        // council's own, which replace a built-in entry for the same phrase.
        let (mut synonyms, mut instead) = parse_synonyms(
            Path::new(BUILT_IN_WORDS_PATH),
            BUILT_IN_WORDS,
            &mut problems,
        );
        let synonyms_path = dir.join("synonyms.toml");
        if synonyms_path.exists() {
            let (own, own_instead) = read_text(&synonyms_path, &mut hasher, &mut problems)
                .map(|t| parse_synonyms(&synonyms_path, &t, &mut problems))
                .unwrap_or_default();
            synonyms = with_own(synonyms, own);
            instead = with_own(instead, own_instead);
        }
        // The built-in bank every council shares, then the council's own.
        let mut triage_examples = parse_examples(
            Path::new(BUILT_IN_EXAMPLES_PATH),
            BUILT_IN_EXAMPLES,
            &mut problems,
        );
        let examples_path = dir.join("triage-examples.jsonl");
        if examples_path.exists() {
            triage_examples.extend(
                read_text(&examples_path, &mut hasher, &mut problems)
                    .map(|t| parse_examples(&examples_path, &t, &mut problems))
                    .unwrap_or_default(),
            );
        }
        let content_hash = crate::text::hex(&hasher.finalize());
        Ok((
            Kb {
                dir: dir.clone(),
                pages,
                services,
                synonyms,
                instead,
                triage_examples,
                content_hash,
            },
            problems,
        ))
    }

    pub fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.pages.iter().flat_map(|p| p.chunks.iter())
    }

    pub fn page(&self, slug: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.slug == slug)
    }

    pub fn readability(&self) -> Vec<PageReadability> {
        self.pages
            .iter()
            .map(|p| {
                let r = readability::flesch_kincaid(&p.body);
                PageReadability {
                    slug: p.slug.clone(),
                    grade: r.grade,
                    words: r.words,
                }
            })
            .collect()
    }
}

fn list_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()) == Some(ext))
        .collect();
    files.sort();
    Ok(files)
}

/// The slugs listed in `withdrawn.txt` (one per line, `#` starts a note):
/// pages whose source has gone, out of answers until a person decides.
fn withdrawn(dir: &Path) -> std::collections::HashSet<String> {
    std::fs::read_to_string(dir.join("withdrawn.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Reads one page's text as `kb check` would, without loading the rest:
/// the page, or `None` when it has an error; problems are pushed.
pub fn check_page_text(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Option<Page> {
    page::parse_page(path, text, problems)
}

fn read_text(path: &Path, hasher: &mut Sha256, problems: &mut Vec<Problem>) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
            match String::from_utf8(bytes) {
                Ok(t) => Some(t),
                Err(e) => {
                    let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1;
                    problems.push(Problem::error(
                        path,
                        line,
                        "the file is not UTF-8 text: save it as UTF-8".into(),
                    ));
                    None
                }
            }
        }
        Err(e) => {
            problems.push(Problem::error(
                path,
                1,
                format!("cannot read the file: {e}"),
            ));
            None
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsFile {
    #[serde(default)]
    expand: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    instead: std::collections::BTreeMap<String, String>,
}

/// The built-in everyday words with a council's own added, its entry for a
/// phrase replacing the built-in one.
fn with_own(built_in: Vec<(String, String)>, own: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = built_in
        .into_iter()
        .filter(|(p, _)| !own.iter().any(|(q, _)| q == p))
        .collect();
    out.extend(own);
    out
}

/// A synonyms file's `[expand]` entries (phrase, words added) and its
/// `[instead]` entries (phrase, words searched for in its place), phrases in
/// matching form.
type Words = (Vec<(String, String)>, Vec<(String, String)>);

fn parse_synonyms(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Words {
    let mut checked = |table: std::collections::BTreeMap<String, String>, what: &str| {
        table
            .into_iter()
            .filter_map(|(phrase, words)| {
                let key = crate::text::for_matching(&phrase);
                if key.trim().is_empty() || words.trim().is_empty() {
                    let line = text
                        .lines()
                        .position(|l| l.contains(&phrase))
                        .map(|i| i + 1)
                        .unwrap_or(1);
                    problems.push(Problem::error(
                        path,
                        line,
                        format!("synonym '{phrase}' needs a phrase and the words {what}"),
                    ));
                    None
                } else {
                    Some((key, words))
                }
            })
            .collect::<Vec<_>>()
    };
    match toml::from_str::<SynonymsFile>(text) {
        Ok(f) => (
            checked(f.expand, "to add"),
            checked(f.instead, "to search for instead"),
        ),
        Err(e) => {
            problems.push(Problem::toml(path, text, &e, "not valid TOML"));
            (Vec::new(), Vec::new())
        }
    }
}

fn parse_examples(
    path: &Path,
    text: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(crate::triage::semantic::Label, String)> {
    use crate::triage::semantic::Label;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Example {
        label: String,
        text: String,
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match serde_json::from_str::<Example>(t) {
            Ok(e) => match Label::parse(&e.label) {
                Some(l) if !e.text.trim().is_empty() => out.push((l, e.text)),
                Some(_) => problems.push(Problem::error(path, i + 1, "empty example text".into())),
                None => problems.push(Problem::error(
                    path,
                    i + 1,
                    format!(
                        "unknown label '{}': use answer, escalate:KIND or decline:KIND",
                        e.label
                    ),
                )),
            },
            Err(e) => problems.push(Problem::error(
                path,
                i + 1,
                format!("not a valid example: {e}"),
            )),
        }
    }
    out
}

/// The line of `path` where `sentence` starts (found by its first 40
/// characters), for problem reports.
pub(crate) fn line_of(path: &Path, sentence: &str) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let probe: String = sentence.chars().take(40).collect();
    text.lines().position(|l| l.contains(&probe)).map(|i| i + 1)
}

/// Signpost's triage example bank: messages that must escalate or be
/// declined, and ordinary questions that sound close to them, for every
/// council. A council's `triage-examples.jsonl` adds to it.
const BUILT_IN_EXAMPLES: &str = include_str!("../triage/examples.jsonl");
const BUILT_IN_EXAMPLES_PATH: &str =
    "(Signpost's built-in triage examples) src/triage/examples.jsonl";

/// Signpost's everyday words: residents' words and the words councils'
/// pages use for the same thing, for every council. A council's
/// `synonyms.toml` adds to them.
const BUILT_IN_WORDS: &str = include_str!("everyday-words.toml");
const BUILT_IN_WORDS_PATH: &str = "(Signpost's built-in everyday words) src/kb/everyday-words.toml";

/// A cheap fingerprint of every file under the knowledge-base folder (name,
/// size and time changed), for noticing that something changed.
pub fn fingerprint(dir: &Path) -> String {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                walk(&path, out);
            } else {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                out.push(format!("{}\t{}\t{modified}", path.display(), meta.len()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    crate::text::hex(&Sha256::digest(files.join("\n").as_bytes()))
}

/// A page made from Markdown, for other modules' unit tests.
#[cfg(test)]
pub(crate) fn test_page(slug: &str, title: &str, body: &str) -> Page {
    let text = format!(
        "---\nslug: {slug}\ntitle: {title}\nsummary: A page for a test.\ntopics: [test]\nurl: https://council.example/{slug}\nlast_reviewed: 2026-11-29\n---\n\n{body}\n"
    );
    let mut problems = Vec::new();
    let path = Path::new("pages").join(format!("{slug}.md"));
    page::parse_page(&path, &text, &mut problems)
        .unwrap_or_else(|| panic!("test page {slug}: {problems:?}"))
}

/// One page file's text and one services file's text, parsed as
/// [`Kb::load`] parses them; the problems found. For the fuzzers
/// (`fuzz/`), which must never see a panic whatever the text.
#[doc(hidden)]
pub fn parse_files_for_fuzzing(page: &str, services: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let _ = page::parse_page(Path::new("fuzz.md"), page, &mut problems);
    let mut seen = HashMap::new();
    let _ = services::parse_services(Path::new("fuzz.json"), services, &mut seen, &mut problems);
    problems
}

#[cfg(test)]
mod words_tests {
    use super::*;

    #[test]
    fn the_built_in_everyday_words_parse_and_a_council_can_replace_one() {
        let mut problems = Vec::new();
        let (built_in, instead) = parse_synonyms(
            Path::new(BUILT_IN_WORDS_PATH),
            BUILT_IN_WORDS,
            &mut problems,
        );
        assert!(instead.iter().any(|(p, _)| p == " her carers "));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(built_in.len() > 50);
        assert!(built_in
            .iter()
            .any(|(p, w)| p.trim() == "power of attorney" && w == "lasting power of attorney"));
        let (own, _) = parse_synonyms(
            Path::new("synonyms.toml"),
            "[expand]\n\"power of attorney\" = \"lpa\"\n\"key safe\" = \"keysafe\"\n",
            &mut problems,
        );
        let merged = with_own(built_in.clone(), own);
        let poa: Vec<&String> = merged
            .iter()
            .filter(|(p, _)| p.trim() == "power of attorney")
            .map(|(_, w)| w)
            .collect();
        assert_eq!(poa, vec!["lpa"]);
        assert_eq!(merged.len(), built_in.len() + 1);
        // An entry without its words is reported with its line.
        let mut problems = Vec::new();
        parse_synonyms(
            Path::new("synonyms.toml"),
            "[instead]\n\"her carers\" = \"home care\"\n\"the helpers\" = \"\"\n",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = format!("{:?}", problems[0]);
        assert!(
            p.contains("search for instead") && p.contains("line: 3"),
            "{p}"
        );
    }
}
