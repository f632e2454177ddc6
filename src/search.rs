//! Retrieval: a tantivy index of knowledge-base chunks with English stemming,
//! stop words, title and heading boosts, and phrase boosts for adjacent words.
//!
//! The index lives under `<data_dir>/index/<content-hash>/`; `CURRENT` names
//! the live one. A changed knowledge base is indexed in a `.build-*` folder
//! aside, renamed into place, and only then does `CURRENT` switch (by an
//! atomic rename), so a crash mid-build never leaves a broken index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::config::SearchSettings;
use crate::kb::{Chunk, Kb, Service};
use crate::progress::Progress;

const ANALYZER: &str = "en_signpost";

/// How a query marks the words the synonyms added ("[+ capital savings +]"),
/// which weigh `synonym_weight` beside the resident's own words.
pub const ADDED: (&str, &str) = ("[+", "+]");

/// A query's parts in order, each with whether the synonyms added it.
pub fn segments(query: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = query;
    while let Some(i) = rest.find(ADDED.0) {
        out.push((&rest[..i], false));
        let after = &rest[i + ADDED.0.len()..];
        let end = after.find(ADDED.1).unwrap_or(after.len());
        out.push((&after[..end], true));
        rest = after.get(end + ADDED.1.len()..).unwrap_or("");
    }
    out.push((rest, false));
    out
}

/// Bump when the schema, analyser or what is indexed changes, so an index
/// built by an older Signpost is never reused.
const SCHEMA_VERSION: u32 = 3;

/// Words that carry no topic: Lucene's English stop words plus the question
/// and function words residents use ("how do i get...", "can my mum...").
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "but",
    "by",
    "for",
    "if",
    "in",
    "into",
    "is",
    "it",
    "no",
    "not",
    "of",
    "on",
    "or",
    "such",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "will",
    "with",
    "i",
    "im",
    "ive",
    "id",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "us",
    "you",
    "your",
    "yours",
    "he",
    "him",
    "his",
    "she",
    "her",
    "hers",
    "them",
    "its",
    "what",
    "whats",
    "which",
    "who",
    "whom",
    "when",
    "where",
    "why",
    "how",
    "do",
    "does",
    "did",
    "doing",
    "done",
    "can",
    "could",
    "would",
    "should",
    "shall",
    "may",
    "might",
    "must",
    "am",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "get",
    "gets",
    "getting",
    "got",
    "much",
    "many",
    "any",
    "some",
    "about",
    "please",
    "tell",
    "know",
    "want",
    "wants",
    "like",
    "just",
    "also",
    "so",
    "too",
    "very",
    "there",
    "here",
    "than",
    "from",
    "up",
    "out",
    "over",
    "dont",
    "cant",
    "wont",
    "isnt",
    "hi",
    "hello",
    "thanks",
    "thank",
    "anyone",
    "someone",
    "something",
    "anything",
    "thing",
    "things",
    "bit",
    "lot",
    "really",
    "still",
    "ok",
    "okay",
    "s",
    "t",
    "d",
    "ll",
    "m",
    "re",
    "ve",
];

/// A retrieved chunk and its BM25 score.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index into [`SearchIndex::chunks`].
    pub chunk: usize,
    pub score: f32,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    kind: Field,
    title: Field,
    /// The page's summary and topics, on every chunk of the page.
    about: Field,
    headings: Field,
    body: Field,
}

/// The open index plus the chunks it was built from.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    analyzer: TextAnalyzer,
    pub chunks: Vec<Chunk>,
    /// The local services directory, searched separately from the pages.
    pub services: Vec<Service>,
    /// Stored document id to position in `chunks` / `services`, built once.
    chunk_by_id: HashMap<String, usize>,
    service_by_id: HashMap<String, usize>,
    settings: SearchSettings,
    /// Where the live index is, for `kb` status and tests.
    pub path: PathBuf,
    /// Whether this call built the index (false when an existing one was reused).
    pub built: bool,
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: b.add_text_field("chunk", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        title: b.add_text_field("title", text.clone()),
        about: b.add_text_field("about", text.clone()),
        headings: b.add_text_field("headings", text.clone()),
        body: b.add_text_field("body", text),
    };
    (b.build(), fields)
}

impl SearchIndex {
    /// Opens the index for this knowledge base, building it first when the
    /// content has changed (or no index exists yet).
    pub fn open_or_build(kb: &Kb, data_dir: &Path, settings: &SearchSettings) -> Result<Self> {
        let root = data_dir.join("index");
        std::fs::create_dir_all(&root).with_context(|| {
            format!(
                "cannot create the index folder {}: check SIGNPOST_DATA_DIR points somewhere writable",
                root.display()
            )
        })?;
        let chunks: Vec<Chunk> = kb.chunks().cloned().collect();
        let services = kb.services.clone();
        let expected_docs = chunks.len() + services.len();
        let key = format!("{}-v{SCHEMA_VERSION}", kb.content_hash);
        let target = root.join(&key);
        let current = std::fs::read_to_string(root.join("CURRENT")).unwrap_or_default();
        let mut built = false;
        let reuse = current.trim() == key && target.is_dir();
        let index = match reuse.then(|| open_existing(&target, expected_docs)) {
            Some(Ok(index)) => index,
            other => {
                if let Some(Err(e)) = other {
                    tracing::warn!(error = %e, "existing index unusable; rebuilding");
                }
                if target.exists() {
                    // Not live (or broken): safe to replace.
                    let _ = std::fs::remove_dir_all(&target);
                }
                built = true;
                build(&root, &target, &chunks, &services)?
            }
        };
        switch_current(&root, &key)?;
        clean_old(&root, &key);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("cannot open an index reader")?;
        let (_, fields) = schema();
        let chunk_by_id = chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let service_by_id = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Ok(Self {
            reader,
            fields,
            analyzer: analyzer(),
            chunks,
            services,
            chunk_by_id,
            service_by_id,
            settings: settings.clone(),
            path: target,
            built,
        })
    }

    /// Weight of the words the synonyms add to a query.
    pub fn synonym_weight(&self) -> f32 {
        self.settings.synonym_weight
    }

    /// Analysed terms of a text (lower-cased, stop words removed, stemmed), in order.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut a = self.analyzer.clone();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// Inverse document frequency of an analysed term over chunk bodies and titles.
    pub fn idf(&self, term: &str) -> f32 {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        let df = [self.fields.body, self.fields.title, self.fields.headings]
            .iter()
            .map(|f| {
                searcher
                    .doc_freq(&Term::from_field_text(*f, term))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0) as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The best `k` chunks for a query. Words are OR-ed across title, headings
    /// and body (with boosts); adjacent words also score as a phrase, and any
    /// "quoted phrase" in the query is searched as one.
    pub fn search(&self, query: &str, k: usize) -> Result<Vec<Hit>> {
        self.search_kind(query, k, "page")
    }

    /// The best `k` services from the local directory for a query; `Hit::chunk`
    /// indexes [`SearchIndex::services`].
    pub fn search_services(&self, query: &str, k: usize) -> Result<Vec<Hit>> {
        self.search_kind(query, k, "service")
    }

    fn search_kind(&self, query: &str, k: usize, kind: &str) -> Result<Vec<Hit>> {
        // Each token with its position (parts apart, so no phrase spans
        // two) and its weight: the resident's words 1, the synonyms' less.
        let mut a = self.analyzer.clone();
        let mut tokens: Vec<(usize, String, f32)> = Vec::new();
        let mut base = 0;
        for (text, added) in segments(query) {
            let w = if added {
                self.settings.synonym_weight
            } else {
                1.0
            };
            let mut last = base;
            let mut stream = a.token_stream(text);
            while stream.advance() {
                let t = stream.token();
                last = base + t.position;
                tokens.push((last, t.text.clone(), w));
            }
            base = last + 2;
        }
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let boosts = [
            (f.title, self.settings.title_boost),
            (f.headings, self.settings.heading_boost),
            (f.about, 0.7),
            (f.body, 1.0),
        ];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // The resident's own word first, so it keeps its full weight.
        let mut order: Vec<&(usize, String, f32)> = tokens.iter().collect();
        order.sort_by(|a, b| b.2.total_cmp(&a.2));
        for (_, t, w) in order {
            if !seen.insert(t.clone()) || *w <= 0.0 {
                continue;
            }
            for (field, boost) in boosts {
                let q = TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), boost * w)),
                ));
            }
        }
        // Adjacent words (after stop words) as phrases: "blue badge", "care home".
        for w in tokens.windows(2) {
            if w[1].0 == w[0].0 + 1 && w[0].2 > 0.0 {
                for (field, boost) in [
                    (f.title, self.settings.title_boost * w[0].2),
                    (f.body, w[0].2),
                ] {
                    let q = PhraseQuery::new(vec![
                        Term::from_field_text(field, &w[0].1),
                        Term::from_field_text(field, &w[1].1),
                    ]);
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
                }
            }
        }
        // Explicit "quoted phrases".
        for phrase in query.split('"').skip(1).step_by(2) {
            let terms = self.terms(phrase);
            if terms.len() >= 2 {
                let q = PhraseQuery::new(
                    terms
                        .iter()
                        .map(|t| Term::from_field_text(f.body, t))
                        .collect(),
                );
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), 2.0))));
            }
        }
        let any = BooleanQuery::new(clauses);
        let query = BooleanQuery::new(vec![
            (Occur::Must, Box::new(any) as Box<dyn Query>),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.kind, kind),
                    IndexRecordOption::Basic,
                )),
            ),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(k).order_by_score())
            .context("search failed")?;
        let by_id = if kind == "page" {
            &self.chunk_by_id
        } else {
            &self.service_by_id
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let id = doc
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if let Some(&chunk) = by_id.get(id) {
                hits.push(Hit { chunk, score });
            }
        }
        Ok(hits)
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn register(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

fn open_existing(dir: &Path, expected_docs: usize) -> Result<Index> {
    let index =
        Index::open_in_dir(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    register(&index);
    let n = index.reader()?.searcher().num_docs();
    anyhow::ensure!(
        n as usize == expected_docs,
        "index has {n} passages, expected {expected_docs}"
    );
    Ok(index)
}

fn build(root: &Path, target: &Path, chunks: &[Chunk], services: &[Service]) -> Result<Index> {
    let tmp = root.join(format!(".build-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&tmp)?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(&tmp, schema)
        .with_context(|| format!("cannot create an index in {}", tmp.display()))?;
    register(&index);
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, 30_000_000)
        .context("cannot start the index writer")?;
    let total = chunks.len() + services.len();
    let mut progress = Progress::new("index", total as u64);
    for s in services {
        writer.add_document(doc!(
            f.id => s.id.as_str(),
            f.kind => "service",
            f.title => s.name.as_str(),
            f.headings => format!("{} {}", s.categories.join(" ").replace('-', " "), s.areas.join(" ")),
            f.body => format!(
                "{} {} {} {}",
                s.description,
                s.organization,
                s.eligibility.as_deref().unwrap_or_default(),
                s.address.as_deref().unwrap_or_default()
            ),
        ))?;
        progress.inc(1);
    }
    for c in chunks {
        writer.add_document(doc!(
            f.id => c.id.as_str(),
            f.kind => "page",
            f.title => c.title.as_str(),
            f.about => c.about.as_str(),
            f.headings => c.headings.join(" / "),
            f.body => c.text(),
        ))?;
        progress.inc(1);
    }
    writer.commit().context("cannot write the index")?;
    writer.wait_merging_threads()?;
    progress.finish(&format!(
        "{} passages and {} services indexed",
        chunks.len(),
        services.len()
    ));
    drop(index);
    match std::fs::rename(&tmp, target) {
        Ok(()) => {}
        // Another process finished the same build first: use theirs.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e)
                .with_context(|| format!("cannot move the new index to {}", target.display()));
        }
    }
    open_existing(target, total)
}

fn switch_current(root: &Path, hash: &str) -> Result<()> {
    let current = root.join("CURRENT");
    if std::fs::read_to_string(&current)
        .map(|s| s.trim() == hash)
        .unwrap_or(false)
    {
        return Ok(());
    }
    let tmp = root.join(format!(".CURRENT-{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, format!("{hash}\n"))?;
    std::fs::rename(&tmp, &current).context("cannot switch to the new index")?;
    Ok(())
}

/// Removes indexes for old content, and build folders left by a crash
/// (older than ten minutes, so a build in progress elsewhere is kept).
fn clean_old(root: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let path = e.path();
        if name == keep || name == "CURRENT" || !path.is_dir() {
            continue;
        }
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .map(|t| {
                SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(600)
            })
            .unwrap_or(true);
        if !name.starts_with('.') || stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
