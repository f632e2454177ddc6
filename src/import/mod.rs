//! Bringing a council's own website and services directory into Signpost,
//! and keeping them fresh: a polite crawl ([`fetch`], [`discover`]), pages
//! read by profile ([`extract`]) and PDFs by `pdftotext` ([`pdf`]), Open
//! Referral UK feeds in version 1 or 3 ([`oruk`]), and every run's changes
//! staged for staff to approve ([`state`]). A page gone twice is withdrawn
//! from answers at once; removing it needs a person.

pub mod discover;
pub mod extract;
pub mod fetch;
pub mod oruk;
pub mod pdf;
pub mod schedule;
pub mod state;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use extract::{Extracted, Flag};
use fetch::{FetchError, FetchSettings, Fetcher};
pub use state::Place;
use state::{Change, Known, State};

/// How to import a site.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    pub start: Url,
    /// Path prefixes the crawl stays under (default: the start address's path).
    pub allow: Vec<String>,
    /// Path prefixes never fetched, and removed if they were imported before.
    pub exclude: Vec<String>,
    /// The knowledge-base folder changes are written to.
    pub kb: PathBuf,
    /// Where the import's record lives.
    pub record: Place,
    pub max_pages: usize,
    pub min_interval: Duration,
    pub allow_private: bool,
    /// Apply additions and changes without waiting for a person (never
    /// removals, never flagged pages).
    pub auto_apply: bool,
    pub contact: String,
}

impl SiteOptions {
    /// The options `[import]` in the settings gives, for the site at `url`.
    pub fn from_settings(
        s: &crate::config::ImportSettings,
        url: &str,
        kb: PathBuf,
        record: Place,
    ) -> Result<SiteOptions> {
        let start = Url::parse(url).with_context(|| {
            format!("'{url}' is not a web address: give the whole address, starting https://")
        })?;
        let mut opts = SiteOptions::new(start, kb, record);
        opts.allow = s.allow.clone();
        opts.exclude = s.exclude.clone();
        opts.max_pages = s.max_pages;
        opts.min_interval = Duration::from_millis(s.interval_ms);
        opts.allow_private = s.allow_private_addresses;
        opts.auto_apply = s.auto_apply;
        opts.contact = s.contact.clone();
        Ok(opts)
    }

    pub fn new(start: Url, kb: PathBuf, record: Place) -> SiteOptions {
        SiteOptions {
            start,
            allow: Vec::new(),
            exclude: Vec::new(),
            kb,
            record,
            max_pages: 500,
            min_interval: Duration::from_secs(1),
            allow_private: false,
            auto_apply: false,
            contact: String::new(),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub run: i64,
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub withdrawn: usize,
    pub removed: usize,
    pub flagged: usize,
    pub applied: usize,
    pub requests: usize,
    pub seconds: f64,
    pub notes: Vec<String>,
}

impl Report {
    pub fn line(&self) -> String {
        format!(
            "run {}: {} added, {} changed, {} unchanged, {} failed, {} withdrawn, {} to remove, {} flagged for review; {} applied; {} requests in {:.1} s",
            self.run,
            self.added,
            self.changed,
            self.unchanged,
            self.failed,
            self.withdrawn,
            self.removed,
            self.flagged,
            self.applied,
            self.requests,
            self.seconds
        )
    }
}

/// The user agent: who is asking, and how to reach them.
pub fn user_agent(contact: &str) -> String {
    let contact = if contact.trim().is_empty() {
        "no contact set: see import.contact".to_string()
    } else {
        contact.trim().to_string()
    };
    format!(
        "{}/{} (+{contact})",
        discover::ROBOT_NAME,
        env!("CARGO_PKG_VERSION")
    )
}

/// One page read this run, before it is compared with what was there.
struct Candidate {
    /// The address fetched: the key in the import's records. (Residents
    /// are shown the page's canonical link, in its front matter.)
    key: Url,
    slug: String,
    /// The whole page file.
    file: String,
    hash: String,
    flags: Vec<Flag>,
    /// Paragraphs, for finding boilerplate.
    paragraphs: Vec<String>,
}

/// Imports (or re-checks) a site into `opts.kb`, staging every change.
pub fn import_site(opts: &SiteOptions) -> Result<Report> {
    let state = State::open(&opts.record)?;
    let _lock = state.lock_runs()?;
    state.interrupted()?;
    let run = state.start_run("site", opts.start.as_str())?;
    let started = Instant::now();
    let result = crawl(opts, &state, run);
    let (status, mut report) = match result {
        Ok(r) => ("finished", r),
        Err(e) => {
            state.finish_run(run, "failed", &format!("{e:#}"))?;
            return Err(e);
        }
    };
    report.run = run;
    report.seconds = started.elapsed().as_secs_f64();
    if opts.auto_apply {
        let ids: Vec<i64> = state
            .changes(Some(run), true)
            .context("cannot read the change set")?
            .into_iter()
            .filter(|c| matches!(c.kind.as_str(), "added" | "changed"))
            .map(|c| c.id)
            .collect();
        report.applied = apply(&opts.kb, &opts.record, &ids, "automatic")?;
    }
    state.finish_run(run, status, &report.line())?;
    Ok(report)
}

fn crawl(opts: &SiteOptions, state: &State, run: i64) -> Result<Report> {
    let host = opts
        .start
        .host_str()
        .context("the site address has no host")?
        .to_ascii_lowercase();
    let mut fetcher = Fetcher::new(FetchSettings {
        user_agent: user_agent(&opts.contact),
        min_interval: opts.min_interval,
        hosts: vec![host.clone()],
        allow_private: opts.allow_private,
        timeout: Duration::from_secs(30),
        max_redirects: 5,
        max_retries: 3,
        max_retry_after: Duration::from_secs(120),
    });
    fetcher
        .check(&opts.start)
        .map_err(|e| anyhow::anyhow!("{}: {e}", opts.start))?;
    let allow: Vec<String> = if opts.allow.is_empty() {
        vec![opts.start.path().trim_end_matches('/').to_string()]
    } else {
        opts.allow.clone()
    };
    let under = |u: &Url| {
        let p = u.path();
        allow.iter().any(|a| {
            a.is_empty()
                || a == "/"
                || p == a
                || p.starts_with(&format!("{}/", a.trim_end_matches('/')))
        }) && !opts.exclude.iter().any(|x| p.starts_with(x.as_str()))
    };
    let mut report = Report::default();
    // Pages imported before under a path now excluded: out of answers at
    // once, and staged for a person to remove.
    for k in state.all_known()? {
        let Ok(u) = Url::parse(&k.url) else { continue };
        let excluded = u.host_str() == opts.start.host_str()
            && opts
                .exclude
                .iter()
                .any(|x| u.path().starts_with(x.as_str()));
        if !excluded || k.status != "active" {
            continue;
        }
        withdraw_and_stage_removal(
            opts,
            state,
            run,
            &k.slug,
            &k.url,
            "excluded from the import",
            "under an excluded path (import.exclude or --exclude): withdrawn from answers now; approve to delete the page",
            &mut report,
        )?;
        state.remember(&Known {
            status: "withdrawn".into(),
            ..k
        })?;
    }
    let robots = discover::Robots::fetch(&mut fetcher, &opts.start).map_err(anyhow::Error::msg)?;
    let mut sitemap_urls: Vec<Url> = robots
        .sitemaps
        .iter()
        .filter_map(|s| opts.start.join(s).ok())
        .collect();
    if let Ok(u) = opts.start.join("/sitemap.xml") {
        if !sitemap_urls.contains(&u) {
            sitemap_urls.push(u);
        }
    }
    let (listed, notes) = discover::sitemaps(&mut fetcher, &sitemap_urls, 50);
    report.notes.extend(notes);
    let lastmod: HashMap<Url, String> = listed
        .iter()
        .filter_map(|l| Some((discover::clean(&l.url)?, l.lastmod.clone()?)))
        .collect();

    let mut queue: VecDeque<(Url, bool)> = VecDeque::new();
    let mut queued: HashSet<Url> = HashSet::new();
    let mut push = |queue: &mut VecDeque<(Url, bool)>, u: Url, document: bool| {
        if queued.insert(u.clone()) {
            queue.push_back((u, document));
        }
    };
    if let Some(u) = discover::clean(&opts.start) {
        push(&mut queue, u, false);
    }
    for l in &listed {
        if let Some(u) = discover::clean(&l.url) {
            if u.host_str() == Some(host.as_str()) && under(&u) {
                push(&mut queue, u, false);
            }
        }
    }
    // Pages imported before are checked again even if nothing links to them.
    for k in state.all_known()? {
        if let Ok(u) = Url::parse(&k.url) {
            if u.host_str() != Some(host.as_str()) {
                continue;
            }
            if under(&u) || k.url.to_ascii_lowercase().ends_with(".pdf") {
                push(&mut queue, u, k.url.to_ascii_lowercase().ends_with(".pdf"));
            }
        }
    }

    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen_pages: HashSet<Url> = HashSet::new();
    let mut slugs_taken: HashMap<String, String> = state
        .all_known()?
        .into_iter()
        .map(|k| (k.slug, k.url))
        .collect();
    let mut progress = crate::progress::Progress::new("import", 0);
    let today = today();
    while let Some((url, document)) = queue.pop_front() {
        if seen_pages.len() >= opts.max_pages {
            report
                .notes
                .push(format!("stopped at {} pages (--max-pages)", opts.max_pages));
            break;
        }
        if !robots.allowed(&url) {
            continue;
        }
        let known = state.known(url.as_str())?;
        // Ask "has it changed?" only about a page that is in the knowledge
        // base: a run killed after fetching a page but before applying it
        // must fetch it whole again, or the page would never arrive.
        let (etag, lm) = match &known {
            Some(k) if k.status == "active" && written(&opts.kb, k) => {
                (k.etag.clone(), k.last_modified.clone())
            }
            _ => (None, None),
        };
        let cap = if document {
            20 * 1024 * 1024
        } else {
            5 * 1024 * 1024
        };
        progress.inc(1);
        let fetched = match fetcher.get(&url, etag.as_deref(), lm.as_deref(), cap) {
            Ok(f) => f,
            Err(e) => {
                report.failed += 1;
                let safety = matches!(e, FetchError::Refused(_));
                report.notes.push(format!("{url}: {e}"));
                if !safety {
                    stage_failed(state, run, &url, &e.to_string())?;
                }
                continue;
            }
        };
        seen_pages.insert(url.clone());
        match fetched.status {
            304 => {
                let k = known.clone().unwrap_or_default();
                report.unchanged += 1;
                for l in &k.links {
                    if let Some(u) = Url::parse(l).ok().and_then(|u| discover::clean(&u)) {
                        if u.host_str() == Some(host.as_str()) && under(&u) {
                            push(&mut queue, u, false);
                        }
                    }
                }
                state.remember(&Known {
                    missing: 0,
                    last_checked: Some(today.clone()),
                    ..k
                })?;
                continue;
            }
            404 | 410 => {
                gone(opts, state, run, &url, known.as_ref(), &mut report)?;
                continue;
            }
            s if !(200..300).contains(&s) => {
                report.failed += 1;
                report.notes.push(format!("{url}: the server gave {s}"));
                stage_failed(state, run, &url, &format!("the server gave {s}"))?;
                continue;
            }
            _ => {}
        }
        // A permanent redirect moves the page: it keeps its slug.
        let final_url = fetched.url.clone();
        let known = if fetched.moved_permanently && final_url != url {
            let moved = known.clone();
            if let Some(k) = &moved {
                state.forget(&k.url)?;
                report.notes.push(format!(
                    "{url} moved to {final_url}: the page keeps its slug"
                ));
            }
            moved.map(|k| Known {
                url: final_url.to_string(),
                ..k
            })
        } else {
            known
        };
        if final_url.host_str() != Some(host.as_str()) {
            continue;
        }
        let ct = fetched
            .content_type
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let is_pdf = ct.contains("pdf") || final_url.path().to_ascii_lowercase().ends_with(".pdf");
        let is_html = ct.contains("html") || (ct.is_empty() && !is_pdf);
        if !is_pdf && !is_html {
            report.notes.push(format!(
                "{final_url}: not a web page or PDF ({ct}); skipped"
            ));
            continue;
        }
        let slug = match &known {
            Some(k) => k.slug.clone(),
            None => new_slug(&final_url, &mut slugs_taken),
        };
        let (candidate, links) = if is_pdf {
            (
                pdf_candidate(&final_url, &slug, &fetched.body, &today)?,
                Vec::new(),
            )
        } else {
            let html = String::from_utf8_lossy(&fetched.body);
            let e = extract::extract(&html, &final_url);
            // The same page under another address (its canonical link).
            if e.url != final_url && seen_pages.contains(&e.url) {
                continue;
            }
            for l in &e.links {
                if let Some(u) = discover::clean(l) {
                    if u.host_str() == Some(host.as_str()) && under(&u) {
                        push(&mut queue, u, false);
                    }
                }
            }
            for (d, _) in &e.documents {
                if d.host_str() == Some(host.as_str()) {
                    push(&mut queue, d.clone(), true);
                }
            }
            let reviewed = e
                .reviewed
                .clone()
                .map(|d| (d, "the page"))
                .or_else(|| {
                    lastmod
                        .get(&final_url)
                        .and_then(|d| extract::iso_date(d))
                        .map(|d| (d, "sitemap lastmod"))
                })
                .or_else(|| {
                    fetched
                        .last_modified
                        .as_deref()
                        .and_then(http_date)
                        .map(|d| (d, "Last-Modified header"))
                })
                .unwrap_or((today.clone(), "first seen"));
            let mut c = page_candidate(&e, &slug, &reviewed.0, reviewed.1, &today);
            c.key = final_url.clone();
            (c, e.links.iter().map(|u| u.to_string()).collect())
        };
        state.remember(&Known {
            url: final_url.to_string(),
            slug: slug.clone(),
            etag: fetched.etag.clone(),
            last_modified: fetched.last_modified.clone(),
            hash: known.as_ref().map(|k| k.hash.clone()).unwrap_or_default(),
            status: known
                .as_ref()
                .map(|k| k.status.clone())
                .filter(|s| s != "withdrawn")
                .unwrap_or_else(|| "active".into()),
            missing: 0,
            last_checked: Some(today.clone()),
            links,
        })?;
        candidates.push(candidate);
    }
    progress.finish(&format!("{} addresses checked", seen_pages.len()));
    report.requests = fetcher.requests;

    // Boilerplate: a paragraph on more than half the pages is furniture the
    // profile missed.
    if candidates.len() >= 6 {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for c in &candidates {
            let distinct: HashSet<&str> = c.paragraphs.iter().map(String::as_str).collect();
            for p in distinct {
                *count.entry(p).or_default() += 1;
            }
        }
        let common: HashSet<String> = count
            .into_iter()
            .filter(|(_, n)| *n * 2 > candidates.len())
            .map(|(p, _)| p.to_string())
            .collect();
        for c in &mut candidates {
            if c.paragraphs.iter().any(|p| common.contains(p)) {
                c.flags.push(Flag::Boilerplate);
            }
        }
    }

    let rules = council_rules(&opts.kb);
    for c in candidates {
        stage_page(opts, state, run, c, &rules, &mut report)?;
    }
    Ok(report)
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// "Wed, 21 Oct 2026 07:28:00 GMT" as a date.
fn http_date(s: &str) -> Option<String> {
    let fmt = time::format_description::well_known::Rfc2822;
    let d = time::OffsetDateTime::parse(s.trim(), &fmt).ok()?.date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        d.year(),
        d.month() as u8,
        d.day()
    ))
}

/// A slug from the address: its last part (a PDF: its file name), the parent
/// added when that is taken, then a number.
fn new_slug(url: &Url, taken: &mut HashMap<String, String>) -> String {
    let clean = |s: &str| {
        let s = s
            .trim_end_matches(".pdf")
            .trim_end_matches(".PDF")
            .to_ascii_lowercase();
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    };
    let segs: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|x| !x.is_empty()).map(clean).collect())
        .unwrap_or_default();
    let last = segs
        .last()
        .cloned()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "home".into());
    let mut options = vec![last.clone()];
    if segs.len() >= 2 {
        options.push(format!("{}-{}", segs[segs.len() - 2], last));
    }
    let mut slug = options
        .iter()
        .find(|s| taken.get(*s).is_none_or(|u| u == url.as_str()))
        .cloned();
    let mut n = 2;
    while slug.is_none() {
        let s = format!("{last}-{n}");
        if taken.get(&s).is_none_or(|u| u == url.as_str()) {
            slug = Some(s);
        }
        n += 1;
    }
    let slug = slug.unwrap_or(last);
    taken.insert(slug.clone(), url.to_string());
    slug
}

#[derive(Serialize)]
struct FrontMatter<'a> {
    slug: &'a str,
    title: &'a str,
    summary: &'a str,
    topics: Vec<String>,
    url: String,
    last_reviewed: &'a str,
    last_checked: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contacts: Vec<BTreeMap<&'static str, String>>,
    source: BTreeMap<&'static str, serde_json::Value>,
}

fn topic_tag(s: &str) -> String {
    extract::squash(
        &s.to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
            .collect::<String>(),
    )
    .replace(' ', "-")
}

fn page_candidate(
    e: &Extracted,
    slug: &str,
    reviewed: &str,
    reviewed_from: &str,
    today: &str,
) -> Candidate {
    let mut topics: Vec<String> = e.breadcrumbs.iter().map(|b| topic_tag(b)).collect();
    topics.push(slug.to_string());
    topics.dedup();
    let mut origins: BTreeMap<String, String> = e.origins.clone();
    origins.insert("last_reviewed".into(), reviewed_from.to_string());
    if let Some(o) = e.origins.get("last_reviewed") {
        origins.insert("last_reviewed".into(), o.clone());
    }
    let contacts = e
        .contacts
        .iter()
        .map(|c| {
            let mut m = BTreeMap::new();
            m.insert("name", c.name.clone());
            if let Some(p) = &c.phone {
                m.insert("phone", p.clone());
            }
            if let Some(em) = &c.email {
                m.insert("email", em.clone());
            }
            m
        })
        .collect();
    let fm = FrontMatter {
        slug,
        title: &e.title,
        summary: &e.summary,
        topics,
        url: e.url.to_string(),
        last_reviewed: reviewed,
        last_checked: today,
        contacts,
        source: source(&e.url, e.profile.name(), &origins),
    };
    let body = format!("# {}\n\n{}", e.title, e.body);
    let paragraphs = body
        .split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| crate::text::word_count(p) >= 8)
        .collect();
    Candidate {
        key: e.url.clone(),
        slug: slug.to_string(),
        file: page_file(&fm, &body),
        hash: hash(&format!("{}\n{}\n{}", e.title, e.summary, e.body)),
        flags: e.flags.clone(),
        paragraphs,
    }
}

fn source(
    url: &Url,
    profile: &str,
    origins: &BTreeMap<String, String>,
) -> BTreeMap<&'static str, serde_json::Value> {
    let mut m = BTreeMap::new();
    m.insert("imported_from", serde_json::Value::String(url.to_string()));
    m.insert("profile", serde_json::Value::String(profile.to_string()));
    m.insert(
        "fields_from",
        serde_json::to_value(origins).unwrap_or_default(),
    );
    m
}

fn page_file(fm: &FrontMatter, body: &str) -> String {
    let yaml = serde_norway::to_string(fm).unwrap_or_default();
    format!("---\n{}---\n{}", yaml, body)
}

fn hash(text: &str) -> String {
    crate::text::hex(&Sha256::digest(text.as_bytes()))
}

fn pdf_candidate(url: &Url, slug: &str, bytes: &[u8], today: &str) -> Result<Candidate> {
    let tmp = tempfile::Builder::new().suffix(".pdf").tempfile()?;
    std::fs::write(tmp.path(), bytes)?;
    let (text, flags) = match pdf::text_of(tmp.path(), Duration::from_secs(30)) {
        Ok(t) if t.words() >= 20 => (t, Vec::new()),
        Ok(t) => (t, vec![Flag::NeedsOcr]),
        Err(e) => bail!("{url}: {e}"),
    };
    let file_name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("document.pdf")
        .to_string();
    let title = if text.title.trim().is_empty() {
        file_name.clone()
    } else {
        text.title.clone()
    };
    let body_text = pdf::to_markdown(&text);
    let summary = format!("The document {file_name}, as text, page by page.");
    let mut origins = BTreeMap::new();
    let title_from = if text.title_from_properties {
        "the PDF's properties"
    } else {
        "the PDF's first line"
    };
    origins.insert("title".to_string(), title_from.to_string());
    origins.insert("summary".to_string(), "written by the importer".to_string());
    origins.insert("last_reviewed".to_string(), "first seen".to_string());
    let fm = FrontMatter {
        slug,
        title: &title,
        summary: &summary,
        topics: vec![slug.to_string(), "documents".into()],
        url: url.to_string(),
        last_reviewed: today,
        last_checked: today,
        contacts: Vec::new(),
        source: source(url, "pdf", &origins),
    };
    let body = format!("# {title}\n\n{body_text}");
    Ok(Candidate {
        key: url.clone(),
        slug: slug.to_string(),
        file: page_file(&fm, &body),
        hash: hash(&body_text),
        flags,
        paragraphs: Vec::new(),
    })
}

/// Whether a known page's file is in the knowledge base.
fn written(kb: &Path, k: &Known) -> bool {
    !k.slug.is_empty() && kb.join("pages").join(format!("{}.md", k.slug)).exists()
}

/// A page seen this run: added, changed or unchanged (on the hash of its
/// extracted text), staged with a diff and any problems the page has.
fn stage_page(
    opts: &SiteOptions,
    state: &State,
    run: i64,
    c: Candidate,
    rules: &crate::rules::Rules,
    report: &mut Report,
) -> Result<()> {
    let mut known = state.known(c.key.as_str())?.unwrap_or_default();
    let path = format!("pages/{}.md", c.slug);
    let on_disk = std::fs::read_to_string(opts.kb.join(&path)).ok();
    let withdrawn_before = known.status == "withdrawn";
    if withdrawn_before {
        // It came back: it may be answered from again once approved.
        set_withdrawn(&opts.kb, &c.slug, false, "")?;
        known.status = "active".into();
    }
    let unchanged = known.hash == c.hash && on_disk.is_some() && c.flags.is_empty();
    known.hash = c.hash.clone();
    state.remember(&known)?;
    if unchanged {
        report.unchanged += 1;
        return Ok(());
    }
    let mut problems = Vec::new();
    if let Some(page) = crate::kb::check_page_text(&opts.kb.join(&path), &c.file, &mut problems) {
        rules.check_page(&page, &mut problems);
    }
    let mut note: Vec<String> = c.flags.iter().map(Flag::describe).collect();
    note.extend(problems.iter().map(|p| p.to_string()));
    // A scan has no text to add: it is shown to staff, never written.
    let scan = c.flags.contains(&Flag::NeedsOcr);
    let kind = if !c.flags.is_empty() {
        report.flagged += 1;
        "flagged"
    } else if on_disk.is_none() {
        report.added += 1;
        "added"
    } else {
        report.changed += 1;
        "changed"
    };
    let diff = similar::TextDiff::from_lines(on_disk.as_deref().unwrap_or(""), &c.file)
        .unified_diff()
        .context_radius(2)
        .header("before", "after")
        .to_string();
    state.supersede(&c.slug, run)?;
    state.stage(&Change {
        id: 0,
        run,
        kind: kind.into(),
        target: c.slug.clone(),
        path,
        url: c.key.to_string(),
        content: (!scan).then_some(c.file),
        diff,
        note: note.join("\n"),
        status: "staged".into(),
    })?;
    Ok(())
}

/// The rules a staged page is checked against: the national figures with
/// the council's `rules.toml` over them (its own problems are `kb check`'s).
fn council_rules(kb: &Path) -> crate::rules::Rules {
    let path = kb.join("rules.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let today = time::OffsetDateTime::now_utc().date();
    crate::rules::Rules::parse(&path, &text, today, &mut Vec::new())
}

fn stage_failed(state: &State, run: i64, url: &Url, why: &str) -> Result<()> {
    state.stage(&Change {
        id: 0,
        run,
        kind: "failed".into(),
        target: url.to_string(),
        path: String::new(),
        url: url.to_string(),
        content: None,
        diff: String::new(),
        note: why.to_string(),
        status: "staged".into(),
    })?;
    Ok(())
}

/// Takes a page out of answers at once (withdrawn.txt, with `why`) and
/// stages its removal for a person to approve, with `note` for staff.
#[allow(clippy::too_many_arguments)]
fn withdraw_and_stage_removal(
    opts: &SiteOptions,
    state: &State,
    run: i64,
    slug: &str,
    url: &str,
    why: &str,
    note: &str,
    report: &mut Report,
) -> Result<()> {
    set_withdrawn(&opts.kb, slug, true, why)?;
    report.withdrawn += 1;
    report.removed += 1;
    state.supersede(slug, run)?;
    state.stage(&Change {
        id: 0,
        run,
        kind: "removed".into(),
        target: slug.to_string(),
        path: format!("pages/{slug}.md"),
        url: url.to_string(),
        content: None,
        diff: String::new(),
        note: note.into(),
        status: "staged".into(),
    })?;
    Ok(())
}

/// A 404 or 410: a page imported before is withdrawn from answers after two
/// runs in a row, and its removal is staged for a person to approve.
fn gone(
    opts: &SiteOptions,
    state: &State,
    run: i64,
    url: &Url,
    known: Option<&Known>,
    report: &mut Report,
) -> Result<()> {
    let Some(k) = known else {
        report.failed += 1;
        report.notes.push(format!("{url}: not found"));
        return Ok(());
    };
    let mut k = k.clone();
    k.missing += 1;
    k.last_checked = Some(today());
    if k.missing >= 2 && k.status == "active" {
        k.status = "withdrawn".into();
        withdraw_and_stage_removal(
            opts,
            state,
            run,
            &k.slug,
            url.as_str(),
            url.as_str(),
            "not found on two runs in a row: withdrawn from answers now; approve to delete the page",
            report,
        )?;
    } else {
        report
            .notes
            .push(format!("{url}: not found ({} time)", k.missing));
    }
    state.remember(&k)?;
    Ok(())
}

/// The pages withdrawn from answers, in `withdrawn.txt` in the knowledge
/// base: one slug per line, with why after a `#`.
pub fn set_withdrawn(kb: &Path, slug: &str, on: bool, why: &str) -> Result<()> {
    let path = kb.join("withdrawn.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.split('#').next().unwrap_or("").trim() != slug)
        .map(String::from)
        .collect();
    if on {
        lines.push(format!("{slug}  # gone from {why} on {}", today()));
    }
    let body = if lines
        .iter()
        .all(|l| l.trim().is_empty() || l.starts_with('#'))
        && !on
    {
        lines.join("\n")
    } else {
        lines.join("\n") + "\n"
    };
    crate::derived::write_atomic(&path, |w| {
        Ok(std::io::Write::write_all(w, body.as_bytes())?)
    })
}

/// Applies staged changes `ids` to the knowledge base: writes added and
/// changed pages and service records, deletes removed pages. Returns how
/// many were applied.
pub fn apply(kb: &Path, record: &Place, ids: &[i64], by: &str) -> Result<usize> {
    let state = State::open(record)?;
    let staged = state.changes(None, true)?;
    let mut n = 0;
    for id in ids {
        let Some(c) = staged.iter().find(|c| c.id == *id) else {
            bail!("change {id} is not waiting for approval (see `signpost import review`)");
        };
        match c.kind.as_str() {
            "added" | "changed" | "flagged" if c.target.starts_with("service:") => {
                oruk::apply_record(kb, c)?;
            }
            "added" | "changed" | "flagged" => {
                let Some(content) = c.content.as_deref() else {
                    bail!("change {id} ({}) has no text to add: {}", c.target, c.note);
                };
                crate::derived::write_atomic(&kb.join(&c.path), |w| {
                    Ok(std::io::Write::write_all(w, content.as_bytes())?)
                })?;
            }
            "removed" if c.target.starts_with("service:") => {
                oruk::remove_record(kb, c)?;
            }
            "removed" => {
                let p = kb.join(&c.path);
                if p.exists() {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("cannot remove {}", p.display()))?;
                }
                set_withdrawn(kb, &c.target, false, "")?;
                if let Some(k) = state.known(&c.url)? {
                    state.remember(&Known {
                        status: "removed".into(),
                        ..k
                    })?;
                }
            }
            "failed" => {}
            other => bail!("change {id} is a '{other}', which cannot be applied"),
        }
        state.decide(*id, "applied", by)?;
        n += 1;
    }
    Ok(n)
}

/// Rejects staged changes: they are kept in the record, not applied.
pub fn reject(record: &Place, ids: &[i64], by: &str) -> Result<usize> {
    let state = State::open(record)?;
    let staged = state.changes(None, true)?;
    for id in ids {
        if !staged.iter().any(|c| c.id == *id) {
            bail!("change {id} is not waiting for approval");
        }
        state.decide(*id, "rejected", by)?;
    }
    Ok(ids.len())
}
