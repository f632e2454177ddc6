//! The one request path: triage, question understanding, retrieval, answer
//! composition, verification, rendering for the channel. Every channel (CLI,
//! HTTP, evaluation) calls [`Engine::answer`] and only renders its [`Reply`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::channels::{self, Channel};
use crate::config::Config;
use crate::embed::Embedder;
use crate::kb::{Kb, Service};
use crate::rules::calc;
use crate::search::{Hit, SearchIndex};
use crate::triage::semantic::{ExampleBank, Label, Verdict};
use crate::triage::{self, Triage};

/// What kind of reply this is (fixed by the evaluation contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    Answer,
    Escalate,
    Decline,
    Clarify,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Answer => "answer",
            Route::Escalate => "escalate",
            Route::Decline => "decline",
            Route::Clarify => "clarify",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One earlier turn of the conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

/// A question as any channel hands it over.
#[derive(Debug, Clone)]
pub struct Question {
    pub message: String,
    pub history: Vec<Turn>,
    pub channel: Channel,
    /// Set when the person has gone (the connection closed), so model work stops.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Question {
    pub fn new(message: impl Into<String>, channel: Channel) -> Self {
        Self {
            message: message.into(),
            history: Vec::new(),
            channel,
            cancel: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Source {
    pub slug: String,
    pub title: String,
    pub url: String,
}

/// A passage the answer quotes, kept so that verification and the
/// evaluation harness can check every sentence against it.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    pub chunk: String,
    pub slug: String,
    pub text: String,
}

/// What each stage did, for `--explain`, logs and evaluation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Stages {
    /// Triage outcome, e.g. "proceed" or "escalate:fall".
    pub triage: String,
    /// The query retrieval used (the message, or it with the earlier question).
    pub query: String,
    /// For a follow-up, the page the earlier question found.
    pub topic: Option<String>,
    /// The calculator that answered, if any.
    pub calculator: Option<String>,
    /// Kinds of personal data found (and removed) in the message.
    pub personal_data: Vec<String>,
    /// How passages were ranked: "bm25", or "hybrid" with what was fused.
    pub retrieval: String,
    /// Retrieved chunks with scores, best first.
    pub retrieved: Vec<(String, f32)>,
    /// Share of the question's key words (weighted by rarity) in the best passage.
    pub coverage: f32,
    /// Sentences removed by verification.
    pub removed: Vec<String>,
    /// What the local language model did, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelStages>,
}

/// The language model's part in one answer, for `--explain` and evaluation.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ModelStages {
    pub model: String,
    /// The follow-up as a stand-alone question, when the rewrite was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<String>,
    /// Passages judged by the reranker with the model's P(yes), in the new order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranking: Vec<(String, f32)>,
    /// The model's draft of the answer, before checking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// Draft sentences removed by the checks, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// "model draft" or "quoted answer" with the reason.
    pub answer_from: String,
    /// Anything that stopped the model (busy, deadline, gone, error).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Time spent in the model, ms.
    pub ms: f64,
    /// Time to the first token of the draft, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<f64>,
}

/// The reply, ready for any channel to render.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub route: Route,
    /// The whole reply text for the channel asked for.
    pub reply: String,
    /// The answer sentences (quoted from the pages) before the standard note.
    pub answer: Vec<String>,
    pub sources: Vec<Source>,
    /// True when every answer sentence is found in a cited passage.
    pub grounded: bool,
    pub passages: Vec<Passage>,
    pub stages: Stages,
    /// Told to the person when their message held personal data.
    pub notice: Option<String>,
    /// Time to reply, in milliseconds (to 0.01 ms).
    pub ms: f64,
}

/// Loaded knowledge base, index and settings; cheap to share across requests.
pub struct Engine {
    pub config: Config,
    pub kb: Kb,
    pub index: SearchIndex,
    page_by_slug: HashMap<String, usize>,
    /// Analysed terms of each page (title, summary, topics, body), for coverage.
    page_terms: HashMap<String, HashSet<String>>,
    /// Neighbourhood names from the services directory, in matching form.
    areas: Vec<(String, String)>,
    /// Semantic triage, when the embedding model is installed.
    pub semantic: Option<SemanticTriage>,
    /// The local language model, when one is configured.
    pub llm: Option<crate::llm::Llm>,
}

/// The embedding model and the labelled example bank.
pub struct SemanticTriage {
    pub embedder: Embedder,
    pub bank: ExampleBank,
    /// Names the embedding model and its files' digests, for derived files.
    pub model_key: String,
    /// Each page chunk's embedding, for hybrid retrieval (when switched on).
    pub chunk_vectors: Option<Vec<Vec<f32>>>,
}

/// Highest weight one query word can carry in coverage and sentence scores.
const IDF_CAP: f32 = 3.5;

/// Words that suggest a follow-up leaning on an earlier question.
const ANAPHORA: [&str; 14] = [
    "it",
    "that",
    "this",
    "they",
    "them",
    "those",
    "there",
    "she",
    "he",
    "her",
    "his",
    "one",
    "what about",
    "and",
];

impl Engine {
    /// Loads the knowledge base and opens (or builds) its index. Content
    /// errors are logged and the faulty pages left out; the engine still starts.
    pub fn new(config: Config) -> Result<Engine> {
        let today = time::OffsetDateTime::now_utc().date();
        let (kb, problems) = Kb::load(&config.kb, today)?;
        let errors = problems.iter().filter(|p| p.is_error()).count();
        if errors > 0 {
            tracing::warn!(
                errors,
                "knowledge base has errors; the pages or services with errors are left out (run `signpost kb check`)"
            );
        }
        anyhow::ensure!(
            !kb.pages.is_empty(),
            "the knowledge base in {} has no usable pages: run `signpost kb check` to see why",
            config.kb.dir.display()
        );
        let index = SearchIndex::open_or_build(&kb, &config.data_dir, &config.search)?;
        let page_by_slug = kb
            .pages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.slug.clone(), i))
            .collect();
        let page_terms = kb
            .pages
            .iter()
            .map(|p| {
                let text = format!(
                    "{} {} {} {}",
                    p.title,
                    p.summary,
                    p.topics.join(" "),
                    p.body
                );
                (p.slug.clone(), index.terms(&text).into_iter().collect())
            })
            .collect();
        let mut areas: Vec<(String, String)> = kb
            .services
            .iter()
            .flat_map(|s| s.areas.iter())
            .filter(|a| !a.eq_ignore_ascii_case("northbay"))
            .map(|a| (crate::text::for_matching(a), a.clone()))
            .collect();
        areas.sort();
        areas.dedup();
        let mut semantic = load_semantic(&config, &kb);
        if config.search.hybrid {
            if let Some(sem) = semantic.as_mut() {
                let texts: Vec<String> = index
                    .chunks
                    .iter()
                    .map(|c| {
                        format!(
                            "{}. {} {}",
                            c.title,
                            c.headings.join(". "),
                            c.units.join(" ")
                        )
                    })
                    .collect();
                match crate::triage::semantic::embed_cached(
                    &texts,
                    &sem.embedder,
                    &sem.model_key,
                    &config.models.derived(),
                    "passages",
                ) {
                    Ok(v) => sem.chunk_vectors = Some(v),
                    Err(e) => {
                        tracing::error!(error = %e, "hybrid retrieval is off: passages could not be embedded")
                    }
                }
            } else {
                tracing::warn!("hybrid retrieval needs the embedding model; using BM25 alone");
            }
        }
        let llm = load_llm(&config)?;
        Ok(Engine {
            config,
            kb,
            index,
            page_by_slug,
            page_terms,
            areas,
            semantic,
            llm,
        })
    }

    /// For a message that both discloses danger and asks something ordinary
    /// ("Can I get a carer's assessment? I keep thinking about ending it."):
    /// the answer to the ordinary question, if the pages have one.
    fn also_answer(&self, q: &Question) -> Option<Reply> {
        const ASKS: [&str; 16] = [
            "can", "could", "how", "what", "whats", "where", "when", "who", "do", "does", "is",
            "are", "will", "would", "should", "which",
        ];
        let clauses: Vec<String> = q
            .message
            .split_inclusive(['?', '.', '!'])
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if clauses.len() < 2 {
            return None;
        }
        let has_history = q.history.iter().any(|t| t.role == Role::User);
        let questions: Vec<&String> = clauses
            .iter()
            .filter(|c| {
                let first = crate::text::for_matching(c);
                let first = first.split_whitespace().next().unwrap_or("");
                (c.ends_with('?') || ASKS.contains(&first))
                    && matches!(self.triage(c, has_history).0, Triage::Proceed)
            })
            .collect();
        if questions.is_empty() {
            return None;
        }
        let ordinary = Question {
            message: questions
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            history: q.history.clone(),
            channel: q.channel,
            // The model never sees a message that disclosed danger.
            cancel: None,
        };
        let r = self.answer_inner(&ordinary, false);
        (r.route == Route::Answer).then_some(r)
    }

    /// Triage by patterns and, when installed, by meaning. Urgent wins from
    /// either; then the patterns' clarify or decline; then a semantic decline.
    /// The text says how the decision was made, for `--explain`.
    pub fn triage(&self, message: &str, has_history: bool) -> (Triage, String) {
        let by_pattern = triage::triage(message, has_history);
        if matches!(by_pattern, Triage::Escalate(_)) {
            return (by_pattern, String::new());
        }
        let verdict = self.semantic.as_ref().and_then(|s| {
            let parts = crate::triage::semantic::pieces(message);
            let mut texts: Vec<&str> = vec![message];
            texts.extend(parts.iter().map(String::as_str));
            match s.embedder.embed(&texts) {
                Ok(mut vs) => {
                    let whole = vs.remove(0);
                    let pieces: Vec<(String, Vec<f32>)> = parts.into_iter().zip(vs).collect();
                    s.bank
                        .verdict_with_pieces(&whole, &pieces, &self.config.triage)
                }
                Err(e) => {
                    tracing::error!(error = %e, "embedding failed; semantic triage skipped");
                    None
                }
            }
        });
        let how = |v: &Verdict| format!(" (semantic {:.2}: \"{}\")", v.similarity, v.example);
        let strong = |v: &Verdict| v.similarity >= self.config.triage.escalate_over_decline;
        match (&by_pattern, verdict) {
            (
                Triage::Decline(_),
                Some(
                    v @ Verdict {
                        label: Label::Escalate(u),
                        ..
                    },
                ),
            ) if strong(&v) => (Triage::Escalate(u), how(&v)),
            (Triage::Decline(_), _) => (by_pattern, String::new()),
            (
                _,
                Some(
                    v @ Verdict {
                        label: Label::Escalate(u),
                        ..
                    },
                ),
            ) => (Triage::Escalate(u), how(&v)),
            (
                Triage::Proceed,
                Some(
                    v @ Verdict {
                        label: Label::Decline(d),
                        ..
                    },
                ),
            ) => (Triage::Decline(d), how(&v)),
            _ => (by_pattern, String::new()),
        }
    }

    /// Hybrid retrieval: ranks every passage by embedding similarity to the
    /// query and fuses that ranking with BM25's by reciprocal rank fusion.
    /// Scores are rescaled to BM25's best, so later stages' relative weights
    /// keep their meaning. Does nothing when hybrid retrieval is off.
    fn fuse_dense(&self, query: &str, hits: &mut Vec<crate::search::Hit>, k: usize) -> String {
        let bm25 = "bm25".to_string();
        let Some(sem) = &self.semantic else {
            return bm25;
        };
        let Some(vectors) = &sem.chunk_vectors else {
            return bm25;
        };
        let q = match sem.embedder.embed_one(query) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "query embedding failed; BM25 alone");
                return bm25;
            }
        };
        let from_bm25 = hits.len();
        let s = &self.config.search;
        let mut dense: Vec<(usize, f32)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (i, crate::embed::cosine(&q, v)))
            .collect();
        dense.sort_by(|a, b| b.1.total_cmp(&a.1));
        dense.truncate(s.dense_k);
        let mut fused: HashMap<usize, f32> = HashMap::new();
        for (rank, h) in hits.iter().enumerate() {
            *fused.entry(h.chunk).or_default() += 1.0 / (s.rrf_k + rank as f32 + 1.0);
        }
        for (rank, (chunk, _)) in dense.iter().enumerate() {
            *fused.entry(*chunk).or_default() += 1.0 / (s.rrf_k + rank as f32 + 1.0);
        }
        let best = hits.first().map(|h| h.score).unwrap_or(1.0).max(1e-6);
        let mut list: Vec<(usize, f32)> = fused.into_iter().collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = list.first().map(|x| x.1).unwrap_or(1.0).max(1e-9);
        *hits = list
            .into_iter()
            .take(k)
            .map(|(chunk, f)| crate::search::Hit {
                chunk,
                score: best * f / top,
            })
            .collect();
        format!(
            "hybrid: {from_bm25} BM25 and {} embedding passages fused (rrf k {})",
            dense.len(),
            s.rrf_k
        )
    }

    /// A page's title and address, for citing it.
    pub fn source(&self, slug: &str) -> Option<Source> {
        self.page_by_slug.get(slug).map(|&i| {
            let p = &self.kb.pages[i];
            Source {
                slug: p.slug.clone(),
                title: p.title.clone(),
                url: p.url.clone(),
            }
        })
    }

    /// Answers one question through the whole request path.
    pub fn answer(&self, q: &Question) -> Reply {
        let started = Instant::now();
        // Personal data is removed first, so no stage (and no log) ever sees it.
        let found = crate::privacy::kinds(&q.message);
        let q = Question {
            message: crate::privacy::remove(&q.message),
            history: q
                .history
                .iter()
                .map(|t| Turn {
                    role: t.role,
                    text: crate::privacy::remove(&t.text),
                })
                .collect(),
            channel: q.channel,
            cancel: q.cancel.clone(),
        };
        let mut reply = self.answer_inner(&q, true);
        if !found.is_empty() {
            reply.stages.personal_data = found.iter().map(|k| format!("{k:?}")).collect();
            reply.notice = Some(crate::privacy::NOTICE.to_string());
        }
        reply.reply = channels::render(&reply, q.channel, &self.config);
        reply.ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        reply
    }

    fn answer_inner(&self, q: &Question, use_model: bool) -> Reply {
        let council = &self.config.council;
        let mut stages = Stages::default();
        let settings = &self.config.llm;
        let model = self.llm.as_ref().filter(|_| use_model);
        let limits = crate::llm::Limits {
            max_tokens: settings.max_tokens,
            deadline: Some(crate::llm::deadline_in(settings.deadline_ms)),
            cancel: q.cancel.as_deref(),
        };
        let fixed = |route: Route, text: String, slug: Option<&str>, stages: Stages| Reply {
            route,
            reply: String::new(),
            answer: vec![text],
            sources: slug.and_then(|s| self.source(s)).into_iter().collect(),
            grounded: route != Route::Answer,
            passages: Vec::new(),
            stages,
            notice: None,
            ms: 0.0,
        };
        let has_history = q.history.iter().any(|t| t.role == Role::User);
        let (decision, how) = self.triage(&q.message, has_history);
        match decision {
            Triage::Escalate(u) => {
                stages.triage = format!("escalate:{}{how}", u.name());
                let mut reply = fixed(Route::Escalate, u.reply(council), Some(u.page()), stages);
                // Urgent help first; then the answer to any ordinary question asked too.
                if let Some(also) = self.also_answer(q) {
                    reply.answer.extend(also.answer.into_iter().take(2));
                    for s in also.sources {
                        if !reply.sources.contains(&s)
                            && reply.sources.len() < self.config.answer.max_sources
                        {
                            reply.sources.push(s);
                        }
                    }
                    reply.passages = also.passages;
                }
                return reply;
            }
            Triage::Clarify(v) => {
                stages.triage = "clarify".into();
                return fixed(Route::Clarify, v.reply(), None, stages);
            }
            // A semantic guess never overrules an exact calculator answer.
            Triage::Decline(_)
                if !how.is_empty()
                    && matches!(
                        calc::calculate(&q.message, &self.kb.rules, council),
                        calc::Outcome::Answer(_)
                    ) =>
            {
                stages.triage = format!("proceed (calculator over semantic decline{how})");
            }
            Triage::Decline(d) => {
                stages.triage = format!("decline:{}{how}", d.name());
                return fixed(Route::Decline, d.reply(council), None, stages);
            }
            Triage::Proceed => stages.triage = format!("proceed{how}"),
        }

        // Understanding: a short follow-up borrows the earlier question's words,
        // and residents' words gain the words the pages use.
        let (mut standalone, topic) = self.standalone_query(q);
        // The model only starts once triage has let the question through.
        if let Some(m) = model {
            stages.model = Some(ModelStages {
                model: m.name.clone(),
                answer_from: "quoted answer".into(),
                ..Default::default()
            });
        }
        if let (Some(m), Some(ms), Some(prev)) = (
            model.filter(|_| settings.has("rewrite") && standalone != q.message),
            stages.model.as_mut(),
            q.history.iter().rev().find(|t| t.role == Role::User),
        ) {
            let t = Instant::now();
            match crate::llm::roles::rewrite(m, &prev.text, &q.message, limits) {
                Ok((Some(r), _)) => {
                    ms.rewrite = Some(r.clone());
                    standalone = r;
                }
                Ok((None, g)) => ms.notes.push(format!("rewrite not used: {:?}", g.text)),
                Err(e) => ms.notes.push(model_note("rewrite", &e)),
            }
            ms.ms += t.elapsed().as_secs_f64() * 1000.0;
        }
        stages.query = self.expand(&standalone);
        stages.topic = topic.clone();
        let local = self.local_request(&standalone);

        // Calculators: exact answers to money and eligibility questions, from
        // the rules data; a missing fact gets one short question.
        let calculation = match calc::calculate(&standalone, &self.kb.rules, council) {
            calc::Outcome::Clarify { name, question } => {
                stages.calculator = Some(format!("{name} (needs one more fact)"));
                return fixed(Route::Clarify, question, None, stages);
            }
            calc::Outcome::Answer(c) => {
                stages.calculator = Some(c.name.to_string());
                Some(c)
            }
            calc::Outcome::None => None,
        };
        let k = self.config.search.top_k;
        let mut hits = match self
            .index
            .search(&stages.query, if topic.is_some() { k * 3 } else { k })
        {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "search failed");
                Vec::new()
            }
        };
        let bm25_best = hits.first().map(|h| h.score).unwrap_or(0.0);
        stages.retrieval = self.fuse_dense(
            &stages.query,
            &mut hits,
            if topic.is_some() { k * 3 } else { k },
        );
        // A follow-up is about the page the earlier question found.
        if let Some(t) = &topic {
            for h in &mut hits {
                if &self.index.chunks[h.chunk].slug == t {
                    h.score *= 1.6;
                }
            }
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(k);
        }
        if let (Some(m), Some(ms)) = (
            model.filter(|_| settings.has("rerank") && hits.len() > 1),
            stages.model.as_mut(),
        ) {
            let t = Instant::now();
            let n = settings.rerank_passages.min(hits.len());
            let mut judged: Vec<(Hit, f32)> = Vec::new();
            for h in &hits[..n] {
                let c = &self.index.chunks[h.chunk];
                match crate::llm::roles::relevance(
                    m,
                    &standalone,
                    &c.title,
                    &c.units.join(" "),
                    limits,
                ) {
                    Ok(p) => judged.push((h.clone(), p)),
                    Err(e) => {
                        ms.notes.push(model_note("rerank", &e));
                        break;
                    }
                }
            }
            if judged.len() == n {
                judged.sort_by(|a, b| b.1.total_cmp(&a.1));
                ms.ranking = judged
                    .iter()
                    .map(|(h, p)| (self.index.chunks[h.chunk].id.clone(), *p))
                    .collect();
                hits.splice(0..n, judged.into_iter().map(|(h, _)| h));
            }
            ms.ms += t.elapsed().as_secs_f64() * 1000.0;
        }
        stages.retrieved = hits
            .iter()
            .map(|h| (self.index.chunks[h.chunk].id.clone(), h.score))
            .collect();
        let qterms = self.key_terms(&stages.query);
        let services = match &local {
            Some(area) => self.local_services(&stages.query, area.as_deref()),
            None => Vec::new(),
        };
        stages.coverage = self.coverage(&standalone, &hits, &services);
        let best = hits.first().map(|h| h.score).unwrap_or(0.0);
        let pages_ok = bm25_best >= self.config.search.min_score;
        let nothing_found = !pages_ok && services.is_empty();
        let off_topic = nothing_found || stages.coverage < self.config.search.min_coverage;
        if off_topic && calculation.is_none() {
            return fixed(Route::Decline, self.dont_know(), None, stages);
        }

        let retrieved_sentences = match (&calculation, services.is_empty()) {
            (Some(_), _) => 1,
            (None, true) => 4,
            (None, false) => 2,
        };
        let (mut answer, mut passages) = if pages_ok && !off_topic {
            self.compose(&q.message, &qterms, &hits, retrieved_sentences)
        } else {
            (Vec::new(), Vec::new())
        };
        // A calculation leads the reply; its sentences rest on the rules data,
        // which `kb check` keeps in step with the pages it cites.
        let mut calc_pages: Vec<String> = Vec::new();
        if let Some(c) = &calculation {
            passages.insert(
                0,
                Passage {
                    chunk: format!("calculator:{}", c.name),
                    slug: format!("calculator:{}", c.name),
                    text: c.sentences.join(" "),
                },
            );
            answer.retain(|s| !c.sentences.contains(s));
            answer.splice(0..0, c.sentences.iter().cloned());
            calc_pages = c.pages.clone();
        }
        for s in &services {
            let sentence = service_sentence(s);
            passages.push(Passage {
                chunk: format!("service:{}", s.id),
                slug: format!("service:{}", s.id),
                text: format!("{sentence} {}", s.description),
            });
            answer.push(sentence);
        }
        // Sources: the calculator's pages, pages quoted, in order, then other
        // strong hits, up to the limit.
        let mut slugs: Vec<String> = calc_pages;
        for p in &passages {
            if !slugs.contains(&p.slug) && self.page_by_slug.contains_key(&p.slug) {
                slugs.push(p.slug.clone());
            }
        }
        // A directory answer cites the page about that kind of service.
        for s in &services {
            if let Some(page) = s
                .categories
                .iter()
                .find_map(|c| self.kb.pages.iter().find(|p| p.topics.contains(c)))
            {
                if !slugs.contains(&page.slug) {
                    slugs.push(page.slug.clone());
                }
            }
        }
        for h in &hits {
            let slug = &self.index.chunks[h.chunk].slug;
            if h.score >= best * 0.6 && !slugs.contains(slug) {
                slugs.push(slug.clone());
            }
        }
        slugs.truncate(self.config.answer.max_sources);
        let sources: Vec<Source> = slugs.iter().filter_map(|s| self.source(s)).collect();

        // Verification: every sentence must be quoted from a cited passage
        // (a page among the sources, or a directory record shown in the reply).
        let mut cited: HashSet<&str> = slugs.iter().map(String::as_str).collect();
        cited.extend(
            passages
                .iter()
                .filter(|p| p.slug.starts_with("service:") || p.slug.starts_with("calculator:"))
                .map(|p| p.slug.as_str()),
        );
        let (kept, removed): (Vec<String>, Vec<String>) = answer
            .into_iter()
            .partition(|s| verify_sentence(s, &passages, &cited) && output_ok(s, &passages));
        stages.removed = removed;
        if kept.is_empty() {
            return fixed(Route::Decline, self.dont_know(), None, stages);
        }
        // Warmer words, only for answers quoted from pages: a calculation or
        // a directory record is given exactly as it is.
        let mut kept = kept;
        if let (Some(m), Some(ms)) = (
            model.filter(|_| {
                settings.has("rephrase") && calculation.is_none() && services.is_empty()
            }),
            stages.model.as_mut(),
        ) {
            let t = Instant::now();
            let cited_texts: Vec<&str> = passages
                .iter()
                .filter(|p| cited.contains(p.slug.as_str()))
                .map(|p| p.text.as_str())
                .collect();
            match crate::llm::roles::rephrase(m, &standalone, &kept, limits, &mut |_| {}) {
                Ok(g) => {
                    ms.draft = Some(g.text.clone());
                    ms.first_token_ms = Some(g.first_token_ms);
                    match checked_draft(
                        &g,
                        &kept,
                        &cited_texts,
                        settings.min_support,
                        &mut ms.removed,
                    ) {
                        Ok(draft) => {
                            kept = draft;
                            ms.answer_from = "model draft".into();
                        }
                        Err(why) => ms.answer_from = format!("quoted answer: {why}"),
                    }
                }
                Err(e) => ms.notes.push(model_note("rephrase", &e)),
            }
            ms.ms += t.elapsed().as_secs_f64() * 1000.0;
        }
        Reply {
            route: Route::Answer,
            reply: String::new(),
            grounded: stages.removed.is_empty(),
            answer: kept,
            sources,
            passages,
            stages,
            notice: None,
            ms: 0.0,
        }
    }

    fn dont_know(&self) -> String {
        let c = &self.config.council;
        format!(
            "I'm sorry, I can't find an answer to that in our adult social care pages, and I don't want to guess. Please call {} on {} ({}) or email {}, and someone will help you.",
            c.front_door_name, c.phone, c.hours, c.email
        )
    }

    /// The query for retrieval: the message, plus the previous question when
    /// the message is a short follow-up ("how much does it cost?"), with the
    /// page that earlier question found (the conversation's topic).
    fn standalone_query(&self, q: &Question) -> (String, Option<String>) {
        let Some(prev) = q.history.iter().rev().find(|t| t.role == Role::User) else {
            return (q.message.clone(), None);
        };
        let m = crate::text::for_matching(&q.message);
        let short = self.index.terms(&q.message).len() <= 3;
        let refers_back = ANAPHORA.iter().any(|w| m.contains(&format!(" {w} ")));
        if short || refers_back {
            let topic = self
                .index
                .search(&self.expand(&prev.text), 1)
                .ok()
                .and_then(|h| h.first().map(|h| self.index.chunks[h.chunk].slug.clone()));
            (format!("{} {}", q.message, prev.text), topic)
        } else {
            (q.message.clone(), None)
        }
    }

    /// Adds the knowledge base's synonyms for phrases found in the query.
    fn expand(&self, query: &str) -> String {
        let m = crate::text::for_matching(query);
        let mut out = query.to_string();
        for (phrase, adds) in &self.kb.synonyms {
            if m.contains(phrase.as_str()) {
                out.push(' ');
                out.push_str(adds);
            }
        }
        out
    }

    /// Distinct analysed terms of a query with their rarity weights. Numbers
    /// and amount and family words are not topics, so they are left out.
    fn key_terms(&self, query: &str) -> Vec<(String, f32)> {
        // Amounts and the people a question is about are not its topic.
        const NOT_TOPIC: [&str; 40] = [
            "thousand",
            "hundred",
            "pound",
            "grand",
            "k",
            "quid",
            "penc",
            "week",
            "mum",
            "dad",
            "mother",
            "father",
            "parent",
            "husband",
            "wife",
            "partner",
            "son",
            "daughter",
            "brother",
            "sister",
            "nan",
            "gran",
            "grandma",
            "grandad",
            "grandmoth",
            "grandfath",
            "aunt",
            "uncl",
            "famili",
            "friend",
            "neighbour",
            "elderli",
            "old",
            "year",
            "ag",
            "good",
            "ever",
            "actual",
            "realli",
            "someon",
        ];
        let mut seen = HashSet::new();
        self.index
            .terms(query)
            .into_iter()
            .filter(|t| !t.chars().all(|c| c.is_ascii_digit()) && !NOT_TOPIC.contains(&t.as_str()))
            .filter(|t| seen.insert(t.clone()))
            .map(|t| {
                // Cap rarity so one word the pages never use doesn't outweigh the rest.
                let w = self.index.idf(&t).min(IDF_CAP);
                (t, w)
            })
            .collect()
    }

    /// Share of the question's key words (weighted by rarity) that the best
    /// three pages, or the services offered, contain. A synonym phrase counts
    /// as covered when the words it stands for are there.
    fn coverage(&self, standalone: &str, hits: &[Hit], services: &[&Service]) -> f32 {
        let qterms = self.key_terms(standalone);
        let mut present: HashSet<String> = HashSet::new();
        let mut pages: Vec<&str> = Vec::new();
        for h in hits {
            let slug = self.index.chunks[h.chunk].slug.as_str();
            if !pages.contains(&slug) {
                pages.push(slug);
            }
        }
        for slug in pages.into_iter().take(3) {
            if let Some(t) = self.page_terms.get(slug) {
                present.extend(t.iter().cloned());
            }
        }
        for s in services {
            let text = format!(
                "{} {} {} {}",
                s.name,
                s.description,
                s.categories.join(" "),
                s.areas.join(" ")
            );
            present.extend(self.index.terms(&text));
        }
        let m = crate::text::for_matching(standalone);
        for (phrase, adds) in &self.kb.synonyms {
            if m.contains(phrase.as_str())
                && self.index.terms(adds).iter().any(|t| present.contains(t))
            {
                present.extend(self.index.terms(phrase));
            }
        }
        let total: f32 = qterms.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return 0.0;
        }
        qterms
            .iter()
            .filter(|(t, _)| present.contains(t))
            .map(|(_, w)| w)
            .sum::<f32>()
            / total
    }

    /// Picks whole sentences from the best passages, most important first,
    /// up to the word limit.
    /// When the question asks for local groups or places, the neighbourhood it
    /// names (if any). `None` when it is not a local request.
    fn local_request(&self, question: &str) -> Option<Option<String>> {
        const LOCAL: [&str; 22] = [
            "group",
            "groups",
            "club",
            "clubs",
            "cafe",
            "cafes",
            "café",
            "cafés",
            "class",
            "classes",
            "near",
            "nearby",
            "local",
            "locally",
            "meet",
            "meets",
            "activities",
            "drop in",
            "near me",
            "in my area",
            "around here",
            "somewhere to go",
        ];
        let m = crate::text::for_matching(question);
        let area = self
            .areas
            .iter()
            .find(|(k, _)| m.contains(k.as_str()))
            .map(|(_, a)| a.clone());
        let asks = LOCAL.iter().any(|w| m.contains(&format!(" {w} ")));
        (asks || area.is_some()).then_some(area)
    }

    /// Up to two services for a local request, those in the named
    /// neighbourhood (or borough-wide) first.
    fn local_services(&self, query: &str, area: Option<&str>) -> Vec<&Service> {
        let Ok(hits) = self.index.search_services(query, 20) else {
            return Vec::new();
        };
        let best = hits.first().map(|h| h.score).unwrap_or(0.0);
        let mut found: Vec<(bool, f32, &Service)> = hits
            .iter()
            .filter(|h| h.score >= best * 0.5 && h.score >= self.config.search.min_score)
            .map(|h| {
                let s = &self.index.services[h.chunk];
                let here = area.is_some_and(|a| s.areas.iter().any(|x| x.eq_ignore_ascii_case(a)));
                (here, h.score, s)
            })
            .collect();
        // Stay with the kind of service asked about (the best match's category).
        if let Some(top) = found.first().map(|f| f.2) {
            let cats = top.categories.clone();
            found.retain(|f| f.2.categories.iter().any(|c| cats.contains(c)));
        }
        if area.is_some() && found.iter().any(|f| f.0) {
            found.retain(|f| f.0);
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
        found.into_iter().take(2).map(|f| f.2).collect()
    }

    fn compose(
        &self,
        message: &str,
        qterms: &[(String, f32)],
        hits: &[Hit],
        max_sentences: usize,
    ) -> (Vec<String>, Vec<Passage>) {
        let wants = Wants::of(message);
        let best = hits.first().map(|h| h.score).unwrap_or(1.0).max(1e-6);
        let top_slug = hits
            .first()
            .map(|h| self.index.chunks[h.chunk].slug.clone())
            .unwrap_or_default();
        let qset: HashMap<&str, f32> = qterms.iter().map(|(t, w)| (t.as_str(), *w)).collect();

        struct Cand {
            text: String,
            score: f32,
            hit: usize,
            /// Where the sentence is in its page, to keep page order.
            order: (usize, usize),
        }
        let mut cands: Vec<Cand> = Vec::new();
        // The best page's opening (its key answer) is always a candidate.
        let mut considered: Vec<Hit> = hits.iter().take(5).cloned().collect();
        if let Some(intro) = self
            .index
            .chunks
            .iter()
            .position(|c| c.slug == top_slug && c.page_start)
        {
            if !considered.iter().any(|h| h.chunk == intro) {
                considered.push(Hit {
                    chunk: intro,
                    score: best * 0.8,
                });
            }
        }
        for (rank, h) in considered.iter().enumerate() {
            let c = &self.index.chunks[h.chunk];
            let rel = h.score / best;
            if rel < 0.35 {
                continue;
            }
            for (i, unit) in c.units.iter().enumerate() {
                // Summed in a fixed order, so the same question always gets
                // the same scores (a hash set's order changes run to run).
                let terms: std::collections::BTreeSet<String> =
                    self.index.terms(unit).into_iter().collect();
                let overlap: f32 = terms.iter().filter_map(|t| qset.get(t.as_str())).sum();
                let mut score = overlap * (0.6 + 0.4 * rel);
                if c.page_start && i < 2 {
                    score += 1.5; // the page's key answer
                } else if i == 0 {
                    score += 0.5; // a section's opening sentence
                }
                // Pages put what matters most first.
                score += 0.6 / (1.0 + c.position as f32 * 0.5);
                score += wants.bonus(unit);
                if c.slug != top_slug {
                    score *= 0.8;
                }
                if overlap > 0.0 || (rank == 0 && c.page_start && i < 2) {
                    cands.push(Cand {
                        text: unit.clone(),
                        score,
                        hit: rank,
                        order: (c.position, i),
                    });
                }
            }
        }
        cands.sort_by(|a, b| b.score.total_cmp(&a.score));

        let max_words = self.config.answer.max_words;
        let mut words = 0;
        let mut chosen: Vec<Cand> = Vec::new();
        for c in cands {
            if chosen
                .iter()
                .any(|x| x.text == c.text || similar(&x.text, &c.text))
            {
                continue;
            }
            let n = crate::text::word_count(&c.text);
            if !chosen.is_empty() && words + n > max_words {
                continue;
            }
            words += n;
            chosen.push(c);
            if words >= max_words * 3 / 4 || chosen.len() >= max_sentences {
                break;
            }
        }
        // The best sentence leads; the rest follow in page order so they read naturally.
        if chosen.len() > 2 {
            let rest = &mut chosen[1..];
            rest.sort_by_key(|c| (c.hit.min(1), considered[c.hit].chunk, c.order));
        }
        let chosen: Vec<(String, usize)> = chosen.into_iter().map(|c| (c.text, c.hit)).collect();
        let mut passages: Vec<Passage> = Vec::new();
        for (_, hit) in &chosen {
            let c = &self.index.chunks[considered[*hit].chunk];
            if !passages.iter().any(|p| p.chunk == c.id) {
                passages.push(Passage {
                    chunk: c.id.clone(),
                    slug: c.slug.clone(),
                    text: c.text(),
                });
            }
        }
        (chosen.into_iter().map(|(t, _)| t).collect(), passages)
    }
}

/// A note on why the model did not do a job.
fn model_note(job: &str, e: &anyhow::Error) -> String {
    if e.is::<crate::llm::Busy>() {
        format!("{job}: the model was busy, so the answer was given without it")
    } else {
        format!("{job}: {e:#}")
    }
}

/// The draft's sentences that pass every check, or why the quoted answer is
/// used instead: the model stopped early, too little passed, or the draft
/// lost a number or most of a sentence the quoted answer gives.
fn checked_draft(
    g: &crate::llm::Generated,
    quoted: &[String],
    cited: &[&str],
    min_support: f32,
    removed: &mut Vec<String>,
) -> std::result::Result<Vec<String>, String> {
    use crate::llm::{check, Stop};
    match g.stop {
        Stop::Deadline => return Err("the model ran out of time".into()),
        Stop::Cancelled => return Err("the person left".into()),
        Stop::TokenCap => return Err("the draft was cut off at the token limit".into()),
        Stop::EndOfTurn => {}
    }
    let mut good: Vec<String> = Vec::new();
    let mut bad_words = 0;
    for s in crate::kb::split_sentences(g.text.trim()) {
        let s = s.trim().trim_start_matches(['-', '*', ' ']).to_string();
        if s.is_empty() {
            continue;
        }
        match check::reject(&s, cited, min_support) {
            Some(why) => {
                bad_words += crate::text::word_count(&s);
                removed.push(format!("{s} [{why}]"));
            }
            None if !output_ok(&s, &[]) => {
                bad_words += crate::text::word_count(&s);
                removed.push(format!(
                    "{s} [reads like instructions or holds personal data]"
                ));
            }
            None => good.push(s),
        }
    }
    let good_words: usize = good.iter().map(|s| crate::text::word_count(s)).sum();
    if good.is_empty() || good_words < 2 * bad_words {
        return Err("too little of the draft passed the checks".into());
    }
    let kept_text = good.join(" ");
    if !quoted.iter().all(|q| check::numbers_in(q, &kept_text)) {
        return Err("the draft left out a number the pages give".into());
    }
    // Warmer words must not cost the resident a fact: most of each quoted
    // sentence's words must still be there.
    if !quoted
        .iter()
        .all(|q| check::word_support(q, &kept_text) >= 0.6)
    {
        return Err("the draft left out part of the answer".into());
    }
    Ok(good)
}

/// One sentence introducing a service from the directory, built only from its record.
fn service_sentence(s: &Service) -> String {
    let mut out = format!("Local service: {}", s.name);
    if let Some(a) = &s.address {
        out.push_str(&format!(", at {a}"));
    } else if let Some(a) = s.areas.first() {
        out.push_str(&format!(", for {a}"));
    }
    if let Some(when) = &s.schedule {
        out.push_str(&format!(". {}", when.trim_end_matches('.')));
    }
    match (&s.phone, &s.email) {
        (Some(p), _) => out.push_str(&format!(". Call {p}.")),
        (None, Some(e)) => out.push_str(&format!(". Email {e}.")),
        _ => out.push('.'),
    }
    out
}

/// A sentence is verified when it appears word for word in a passage from a
/// cited page.
fn verify_sentence(sentence: &str, passages: &[Passage], cited: &HashSet<&str>) -> bool {
    passages
        .iter()
        .any(|p| cited.contains(p.slug.as_str()) && p.text.contains(sentence))
}

/// The output check: a sentence that reads like instructions to an assistant,
/// or that holds personal data no cited passage holds, is never shown.
fn output_ok(sentence: &str, passages: &[Passage]) -> bool {
    if triage::instruction_like(sentence) {
        return false;
    }
    crate::privacy::find(sentence).iter().all(|f| {
        let piece = &sentence[f.start..f.end];
        passages.iter().any(|p| p.text.contains(piece))
    })
}

/// Two sentences are near-duplicates when most of their words are shared.
fn similar(a: &str, b: &str) -> bool {
    let wa: HashSet<&str> = a.split_whitespace().collect();
    let wb: HashSet<&str> = b.split_whitespace().collect();
    let inter = wa.intersection(&wb).count() as f32;
    inter / (wa.len().min(wb.len()).max(1) as f32) > 0.8
}

/// What kind of information the question asks for, to prefer sentences that carry it.
struct Wants {
    money: bool,
    duration: bool,
    contact: bool,
    eligibility: bool,
}

impl Wants {
    fn of(message: &str) -> Self {
        let m = crate::text::for_matching(message);
        let has = |words: &[&str]| words.iter().any(|w| m.contains(&format!(" {w} ")));
        Wants {
            money: has(&[
                "cost", "costs", "much", "price", "pay", "paying", "charge", "charged", "fee",
                "fees", "free", "afford", "money",
            ]),
            duration: has(&[
                "long", "last", "lasts", "when", "weeks", "expire", "expires", "renew",
            ]),
            contact: has(&[
                "phone", "call", "contact", "number", "ring", "email", "speak", "talk",
            ]),
            eligibility: has(&["can", "eligible", "qualify", "entitled", "who"]),
        }
    }

    fn bonus(&self, unit: &str) -> f32 {
        let u = unit.to_lowercase();
        let mut b = 0.0;
        if self.money && (u.contains('£') || u.contains(" free") || u.contains("cost")) {
            b += 1.5;
        }
        if self.duration
            && ["week", "month", "year", "days"]
                .iter()
                .any(|w| u.contains(w))
            && u.chars().any(|c| c.is_ascii_digit())
        {
            b += 1.0;
        }
        if self.contact && u.contains("01632") {
            b += 1.5;
        }
        if self.eligibility
            && (u.contains("you can") || u.contains("you may") || u.contains("if you"))
        {
            b += 0.3;
        }
        b
    }
}

/// The example bank: the council's labelled examples, plus every page's
/// title, summary and section headings as ordinary questions, so the whole
/// range of subjects the site covers counts as "answer" neighbours.
fn triage_bank(kb: &Kb) -> Vec<(Label, String)> {
    let mut out = kb.triage_examples.clone();
    let mut seen: HashSet<String> = out.iter().map(|(_, t)| t.to_lowercase()).collect();
    for p in &kb.pages {
        let headings = p.chunks.iter().filter_map(|c| c.headings.last());
        for t in [&p.title, &p.summary].into_iter().chain(headings) {
            if seen.insert(t.to_lowercase()) {
                out.push((Label::Answer, t.clone()));
            }
        }
    }
    out
}

/// Loads the configured language model. A model that is configured but not
/// installed, or damaged, is an error that says what to do: a council that
/// chose a model should not silently run without it.
fn load_llm(config: &Config) -> Result<Option<crate::llm::Llm>> {
    let s = &config.llm;
    if s.model.is_empty() {
        return Ok(None);
    }
    for r in &s.roles {
        anyhow::ensure!(
            crate::llm::roles::system_prompt(r).is_some(),
            "llm.roles: '{r}' is not a job the model can do; use rewrite, rerank or rephrase"
        );
    }
    let manifest = crate::models::Manifest::load(&crate::models::manifest_path())?;
    let entry = manifest.get(&s.model)?;
    anyhow::ensure!(
        entry.role == "llm",
        "llm.model: '{}' is a {} model, not a language model",
        s.model,
        entry.role
    );
    let cache = config.models.cache();
    match entry.status(&cache) {
        crate::models::Status::Verified => {}
        crate::models::Status::Missing => anyhow::bail!(
            "the language model '{0}' is not installed: run `signpost models fetch {0}`, or set llm.model = \"\" to answer without a model",
            s.model
        ),
        crate::models::Status::Damaged(why) => anyhow::bail!(
            "the language model '{0}' is damaged ({why}): run `signpost models fetch {0}` to fetch it again",
            s.model
        ),
    }
    let path = entry.dir(&cache).join(crate::llm::MODEL_FILE);
    let derived = config.models.derived();
    let llm = crate::llm::Llm::load(
        &s.model,
        &path,
        s.requantize.then_some(derived.as_path()),
        s.max_waiting,
    )?;
    // The first question should not pay for reading the system prompts.
    for job in &s.roles {
        if let Some(p) = crate::llm::roles::system_prompt(job) {
            llm.warm(p)?;
        }
    }
    tracing::info!(
        model = %s.model,
        arch = %llm.arch,
        template = ?llm.template,
        requantized = ?llm.requantized,
        ms = llm.load_ms,
        roles = ?s.roles,
        "language model loaded"
    );
    Ok(Some(llm))
}

/// Loads the embedding model and example bank when semantic triage is on and
/// the model is installed; otherwise says how to turn it on.
fn load_semantic(config: &Config, kb: &Kb) -> Option<SemanticTriage> {
    if !config.triage.semantic {
        return None;
    }
    if kb.triage_examples.is_empty() {
        tracing::warn!(
            "semantic triage is off: knowledge-base/triage-examples.jsonl has no examples"
        );
        return None;
    }
    let cache = config.models.cache();
    let manifest = match crate::models::Manifest::load(&crate::models::manifest_path()) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "semantic triage is off: no model manifest");
            return None;
        }
    };
    let entry = match manifest.get(&config.models.embedding) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "semantic triage is off");
            return None;
        }
    };
    if entry.status(&cache) != crate::models::Status::Verified {
        tracing::warn!(
            model = %entry.name,
            "semantic triage is off: the embedding model is not installed; run `signpost models fetch {}`",
            entry.name
        );
        return None;
    }
    let started = Instant::now();
    let loaded = Embedder::load(&entry.dir(&cache)).and_then(|embedder| {
        let key = format!(
            "{}:{}",
            entry.name,
            entry
                .files
                .iter()
                .map(|f| f.sha256.as_str())
                .collect::<String>()
        );
        // Keyed by the examples and the model, so every run on this machine shares it.
        let bank = ExampleBank::build(&triage_bank(kb), &embedder, &key, &config.models.derived())?;
        Ok(SemanticTriage {
            embedder,
            bank,
            model_key: key,
            chunk_vectors: None,
        })
    });
    match loaded {
        Ok(s) => {
            tracing::info!(
                examples = s.bank.labels.len(),
                ms = started.elapsed().as_millis() as u64,
                "semantic triage ready"
            );
            Some(s)
        }
        Err(e) => {
            tracing::error!(error = %e, "semantic triage is off: the embedding model could not be loaded");
            None
        }
    }
}
