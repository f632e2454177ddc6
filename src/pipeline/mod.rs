//! The one request path, one file per stage:
//!
//! privacy → triage → [`understand`] → calculators → [`retrieve`] →
//! [`compose`] → [`verify`], with the optional [`model_jobs`] as hooks.
//!
//! Every channel (the command line, HTTP, speakers, the evaluation harness)
//! calls [`Engine::answer`] and renders the [`Reply`] itself
//! ([`crate::channels`]). [`startup`] loads what the stages read.

pub mod compose;
pub mod model_jobs;
pub mod retrieve;
mod startup;
pub mod types;
pub mod understand;
pub mod verify;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::Result;

use crate::config::Config;
use crate::embed::Embedder;
use crate::kb::Kb;
use crate::rules::calc;
use crate::search::SearchIndex;
use crate::triage::semantic::Semantic;
use crate::triage::{self, Triage, Urgent};

pub use types::{
    Channel, ModelStages, Passage, Question, Reply, Role, Route, Source, Stages, Turn,
};

/// What the stages read: the knowledge base, its index and what start-up
/// derived from them. Built once by [`startup`]; shared by every request.
pub struct Content {
    pub(crate) kb: Kb,
    /// Figures and thresholds for the calculators (`rules.toml`).
    pub(crate) rules: crate::rules::Rules,
    pub(crate) index: SearchIndex,
    pub(crate) page_by_slug: HashMap<String, usize>,
    /// Analysed terms of each page (title, summary, topics, body), for coverage.
    pub(crate) page_terms: HashMap<String, HashSet<String>>,
    /// Neighbourhood names from the services directory, in matching form.
    pub(crate) areas: Vec<(String, String)>,
    /// Semantic triage, when the embedding model is installed.
    pub(crate) semantic: Option<Semantic>,
    /// Each passage's embedding, for hybrid retrieval (when switched on).
    pub(crate) chunk_vectors: Option<Vec<Vec<f32>>>,
    /// Each passage's sentences' embeddings (passage, then sentence), for
    /// choosing sentences by meaning (`answer.meaning_weight`).
    pub(crate) unit_vectors: Option<Vec<Vec<Vec<f32>>>>,
    /// When each imported page was last checked against the council's
    /// website (its front matter or the import's record, the later).
    pub(crate) checked: HashMap<String, time::Date>,
    /// Pages past their review date when the content was loaded (older than
    /// `kb.review_warn_days`): their sentences give way to a current page's.
    pub(crate) dated: HashSet<String>,
    /// Abbreviations the pages define, both ways, for the query.
    pub(crate) abbreviations: Vec<(String, String)>,
}

impl Content {
    pub(crate) fn embedder(&self) -> Option<&Embedder> {
        self.semantic.as_ref().map(|s| &*s.embedder)
    }
}

/// Loaded knowledge base, index, models and settings; cheap to share across
/// requests.
pub struct Engine {
    config: Config,
    content: Content,
    /// Shared with the engine a reload makes, so the model loads once.
    llm: Option<std::sync::Arc<crate::llm::Model>>,
}

impl Engine {
    /// Loads the knowledge base and opens (or builds) its index. Content
    /// errors are logged and the faulty pages left out; the engine still starts.
    pub fn new(config: Config) -> Result<Engine> {
        Engine::build(config, None)
    }

    /// Another council's engine: its own knowledge base, rules and index,
    /// with this engine's language and embedding models (loaded once for
    /// every council).
    pub fn sharing_models(&self, config: Config) -> Result<Engine> {
        Engine::build(config, Some(self.models()))
    }

    fn models(&self) -> startup::Loaded {
        startup::Loaded {
            llm: self.llm.clone(),
            embedder: self.content.semantic.as_ref().map(|s| s.embedder.clone()),
        }
    }

    fn build(config: Config, models: Option<startup::Loaded>) -> Result<Engine> {
        let mut config = config;
        config.embed.check()?;
        config.branding.check()?;
        config.search.check()?;
        config.resolve_council()?;
        let missing = config.council.missing();
        anyhow::ensure!(
            missing.is_empty(),
            "the council's details are missing ({}): add them to council.toml in the knowledge base ({}) or to [council] in signpost.toml",
            missing.join(", "),
            config.kb.dir.display()
        );
        let (content, llm) = startup::load(&config, models)?;
        Ok(Engine {
            config,
            content,
            llm,
        })
    }

    /// A new engine on the knowledge base as it is now on disk, with the same
    /// settings, reusing this engine's language and embedding models.
    pub fn reload(&self) -> Result<Engine> {
        let (content, llm) = startup::load(&self.config, Some(self.models()))?;
        Ok(Engine {
            config: self.config.clone(),
            content,
            llm,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn kb(&self) -> &Kb {
        &self.content.kb
    }

    pub fn rules(&self) -> &crate::rules::Rules {
        &self.content.rules
    }

    pub fn index(&self) -> &SearchIndex {
        &self.content.index
    }

    /// The embedding model and the triage example bank, when installed.
    pub fn semantic(&self) -> Option<&Semantic> {
        self.content.semantic.as_ref()
    }

    /// The language model, when one is configured.
    pub fn llm(&self) -> Option<&crate::llm::Model> {
        self.llm.as_deref()
    }

    /// Triage by patterns and, when installed, by meaning (see
    /// [`triage::decide`]).
    pub fn triage(&self, message: &str, has_history: bool) -> (Triage, String) {
        triage::decide(
            message,
            has_history,
            self.content.semantic.as_ref(),
            &self.config.triage,
        )
    }

    /// A page's title and address, for citing it.
    pub fn source(&self, slug: &str) -> Option<Source> {
        self.content.page_by_slug.get(slug).map(|&i| {
            let p = &self.content.kb.pages[i];
            let today = time::OffsetDateTime::now_utc().date();
            let last_checked = self
                .content
                .checked
                .get(slug)
                .filter(|d| (today - **d).whole_days() > self.config.import.stale_days)
                .map(|d| format!("{} {} {}", d.day(), d.month(), d.year()));
            let d = p.last_reviewed;
            let last_updated = ((today - d).whole_days() > self.config.kb.review_warn_days)
                .then(|| format!("{} {} {}", d.day(), d.month(), d.year()));
            Source {
                slug: p.slug.clone(),
                title: p.title.clone(),
                url: p.url.clone(),
                last_checked,
                last_updated,
                document: is_document(&p.url),
            }
        })
    }

    /// Answers one question through the whole request path. Personal data
    /// is removed first, so no stage (and no log) ever sees it.
    pub fn answer(&self, q: &Question) -> Reply {
        let started = Instant::now();
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
        let mut reply = self.run(&q, true);
        if !found.is_empty() {
            reply.stages.personal_data = found.iter().map(|k| format!("{k:?}")).collect();
            reply.notice = Some(crate::privacy::NOTICE.to_string());
        }
        reply.ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        reply
    }

    /// The stages, in order. `use_model` is false for the ordinary part of a
    /// message that also disclosed danger: the model never sees it.
    fn run(&self, q: &Question, use_model: bool) -> Reply {
        let council = &self.config.council;
        let mut stages = Stages::default();
        let jobs = model_jobs::Jobs::new(self.llm.as_deref(), &self.config.llm, q, use_model);

        // Triage: urgent help, a clarifying question or a kind refusal end here.
        let has_history = q.history.iter().any(|t| t.role == Role::User);
        let (decision, how, embedded) = triage::decide_embedded(
            &q.message,
            has_history,
            self.content.semantic.as_ref(),
            &self.config.triage,
        );
        let Triage::Caution(urgent) = decision else {
            if let Some(reply) = self.triage_reply(q, decision, &how, &mut stages) {
                return reply;
            }
            return self.proceed(q, stages, &jobs, embedded);
        };
        // Unsure: the answer with the urgent line first, or, with no answer
        // in the pages, the urgent reply.
        stages.triage = format!("caution:{}{how}", urgent.name());
        let mut reply = self.proceed(q, stages, &jobs, embedded);
        if reply.route != Route::Answer {
            let mut stages = std::mem::take(&mut reply.stages);
            stages.triage.clear();
            return self
                .triage_reply(q, Triage::Escalate(urgent), &how, &mut stages)
                .unwrap_or(reply);
        }
        let line = urgent.line(council);
        reply.passages.insert(
            0,
            Passage {
                chunk: format!("urgent:{}", urgent.name()),
                slug: format!("urgent:{}", urgent.name()),
                text: line.clone(),
            },
        );
        reply.answer.insert(0, line);
        reply
    }

    /// Understanding, calculators, retrieval, composition, verification and
    /// the model's jobs: the answer from the pages. `embedded` is the
    /// message's embedding when triage made one.
    fn proceed(
        &self,
        q: &Question,
        mut stages: Stages,
        jobs: &model_jobs::Jobs,
        embedded: Option<Vec<f32>>,
    ) -> Reply {
        let c = &self.content;
        let council = &self.config.council;

        // Understanding, with the model's rewrite of a follow-up.
        let understood = understand::standalone(c, q);
        jobs.start(&mut stages);
        let standalone = jobs.rewrite(q, understood.standalone, &mut stages);
        stages.query = understand::expand(c, &standalone);
        stages.topic = understood.topic.clone();
        let local = understand::local_request(c, &standalone);

        // Calculators: exact answers from the rules data. A missing fact
        // gets one short question, offered after the pages' answer when
        // they have one (offer, don't hijack), and asked alone when not.
        let mut offer = None;
        let calculation = match calc::calculate(&standalone, &c.rules, council) {
            calc::Outcome::Clarify { name, question } => {
                stages.calculator = Some(format!("{name} (needs one more fact)"));
                offer = Some((name, question));
                None
            }
            calc::Outcome::Answer(calc) => {
                stages.calculator = Some(calc.name.to_string());
                Some(calc)
            }
            calc::Outcome::None => None,
        };

        // Retrieval, with the model's reranking, and the "I don't know" decision.
        let s = &self.config.search;
        let mut retrieved = retrieve::search(c, s, &stages.query, understood.topic.as_deref());
        stages.retrieval = retrieved.ranking.clone();
        jobs.rerank(c, &standalone, &mut retrieved.hits, &mut stages);
        stages.retrieved = retrieved
            .hits
            .iter()
            .map(|h| (c.index.chunks[h.chunk].id.clone(), h.score))
            .collect();
        let qterms = understand::key_terms(c, &stages.query);
        let services = match &local {
            Some(area) => retrieve::local_services(c, s, &stages.query, area.as_deref()),
            None => Vec::new(),
        };
        stages.coverage = retrieve::coverage(c, &standalone, &retrieved.hits, &services);
        // Closeness in meaning, for a long question in the resident's own
        // words (only for the message triage embedded, not a rewrite).
        let mine = embedded.as_deref().filter(|_| standalone == q.message);
        let closeness = retrieve::closeness(c, mine, &retrieved.hits);
        let found = retrieve::found(
            s,
            retrieved.bm25_best,
            &services,
            stages.coverage,
            closeness,
        );
        if found.off_topic && calculation.is_none() {
            return match offer {
                Some((_, question)) => self.fixed(Route::Clarify, question, None, stages),
                None => self.fixed(Route::Decline, self.dont_know(), None, stages),
            };
        }

        // Composition: quoted sentences, led by any calculation, with services.
        let max_sentences = match (&calculation, services.is_empty()) {
            (Some(_), _) => 1,
            (None, true) => 4,
            (None, false) => 2,
        };
        let quoted = if found.pages && !found.off_topic {
            // The message's embedding from triage, unless a follow-up was
            // rewritten into another question.
            let known = embedded.filter(|_| standalone == q.message);
            let meaning = compose::meaning_of(c, &self.config.answer, &standalone, known);
            let said: Vec<String> = q
                .history
                .iter()
                .filter(|t| t.role == Role::Assistant)
                .map(|t| t.text.clone())
                .collect();
            let asked = compose::Asked {
                message: &q.message,
                meaning: meaning.as_deref(),
                said: &said,
            };
            compose::sentences(
                c,
                &self.config.answer,
                &asked,
                &qterms,
                &retrieved.hits,
                max_sentences,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let composed = compose::assemble(
            c,
            quoted,
            calculation.as_ref(),
            &services,
            &retrieved.hits,
            self.config.answer.max_sources,
        );
        let sources: Vec<Source> = composed
            .slugs
            .iter()
            .filter_map(|s| self.source(s))
            .collect();

        // Verification: every sentence quoted from a cited passage.
        let cited = verify::citable(&composed.slugs, &composed.passages);
        let verified = verify::check(composed.answer, &composed.passages, &cited);
        stages.removed = verified.removed;
        if verified.kept.is_empty() {
            return match offer {
                Some((_, question)) => self.fixed(Route::Clarify, question, None, stages),
                None => self.fixed(Route::Decline, self.dont_know(), None, stages),
            };
        }

        // The model's warmer words, only for answers quoted from pages.
        let cited_texts: Vec<&str> = composed
            .passages
            .iter()
            .filter(|p| cited.contains(p.slug.as_str()))
            .map(|p| p.text.as_str())
            .collect();
        let exact = calculation.is_some() || !services.is_empty();
        let mut answer =
            jobs.rephrase(&standalone, verified.kept, &cited_texts, exact, &mut stages);
        let mut passages = composed.passages;
        // The calculator's question, offered last, rests on the calculator.
        if let Some((name, question)) = offer {
            passages.push(Passage {
                chunk: format!("calculator:{name}"),
                slug: format!("calculator:{name}"),
                text: question.clone(),
            });
            answer.push(question);
        }
        Reply {
            route: Route::Answer,
            grounded: stages.removed.is_empty(),
            answer,
            sources,
            passages,
            stages,
            notice: None,
            ms: 0.0,
        }
    }

    /// The reply when triage stops the path, or `None` to go on. Urgent
    /// help comes first, then the answer to any ordinary question asked too.
    fn triage_reply(
        &self,
        q: &Question,
        decision: Triage,
        how: &str,
        stages: &mut Stages,
    ) -> Option<Reply> {
        let council = &self.config.council;
        match decision {
            Triage::Escalate(u) | Triage::Caution(u) => {
                stages.triage = format!("escalate:{}{how}", u.name());
                let mut reply = self.fixed(
                    Route::Escalate,
                    u.reply(council),
                    u.page(council),
                    std::mem::take(stages),
                );
                let also = self.also_answer(q).map(|a| (a, 2)).or_else(|| {
                    // A carer at breaking point: the crisis lines, then what
                    // the pages offer carers.
                    let ask = self.config.triage.carer_support_question.trim();
                    (matches!(u, Urgent::Crisis | Urgent::CareBreakdown)
                        && !ask.is_empty()
                        && triage::speaks_as_carer(&q.message))
                    .then(|| self.answer_alone(ask, q.channel))
                    .flatten()
                    .map(|a| (a, 3))
                });
                if let Some((also, n)) = also {
                    reply.answer.extend(also.answer.into_iter().take(n));
                    for s in also.sources {
                        if !reply.sources.contains(&s)
                            && reply.sources.len() < self.config.answer.max_sources
                        {
                            reply.sources.push(s);
                        }
                    }
                    reply.passages = also.passages;
                } else if self.config.triage.related_page {
                    // Nothing ordinary was asked: the page about the
                    // situation, for when the urgent help has been called.
                    if let Some(slug) = self.related_page(&q.message) {
                        if let Some(src) = self.source(&slug) {
                            if !reply.sources.iter().any(|s| s.slug == src.slug)
                                && reply.sources.len() < self.config.answer.max_sources
                            {
                                reply.sources.push(src);
                            }
                        }
                    }
                }
                Some(reply)
            }
            Triage::Clarify(v) => {
                stages.triage = "clarify".into();
                Some(self.fixed(
                    Route::Clarify,
                    v.reply(council),
                    None,
                    std::mem::take(stages),
                ))
            }
            // A semantic guess never overrules an exact calculator answer.
            Triage::Decline(_)
                if !how.is_empty()
                    && matches!(
                        calc::calculate(&q.message, &self.content.rules, council),
                        calc::Outcome::Answer(_)
                    ) =>
            {
                stages.triage = format!("proceed (calculator over semantic decline{how})");
                None
            }
            Triage::Decline(d) => {
                stages.triage = format!("decline:{}{how}", d.name());
                Some(self.fixed(
                    Route::Decline,
                    d.reply(council),
                    None,
                    std::mem::take(stages),
                ))
            }
            Triage::Proceed => {
                stages.triage = format!("proceed{how}");
                None
            }
        }
    }

    /// The page that covers what an urgent message is about (a doorstep
    /// caller, a fall), when the pages cover it well enough to answer.
    fn related_page(&self, message: &str) -> Option<String> {
        let c = &self.content;
        let s = &self.config.search;
        let query = understand::expand(c, message);
        let retrieved = retrieve::search(c, s, &query, None);
        let coverage = retrieve::coverage(c, message, &retrieved.hits, &[]);
        let found = retrieve::found(s, retrieved.bm25_best, &[], coverage, 0.0);
        if !found.pages || found.off_topic {
            return None;
        }
        retrieved
            .hits
            .first()
            .map(|h| c.index.chunks[h.chunk].slug.clone())
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
        let r = self.run(&ordinary, false);
        (r.route == Route::Answer).then_some(r)
    }

    /// The pages' answer to a question of our own (never the resident's
    /// words), with no history and no model.
    fn answer_alone(&self, question: &str, channel: Channel) -> Option<Reply> {
        let q = Question::new(question, channel);
        let r = self.run(&q, false);
        (r.route == Route::Answer).then_some(r)
    }

    /// A reply with fixed words (urgent help, a refusal, a question back).
    fn fixed(&self, route: Route, text: String, slug: Option<&str>, stages: Stages) -> Reply {
        Reply {
            route,
            answer: vec![text],
            sources: slug.and_then(|s| self.source(s)).into_iter().collect(),
            grounded: route != Route::Answer,
            passages: Vec::new(),
            stages,
            notice: None,
            ms: 0.0,
        }
    }

    fn dont_know(&self) -> String {
        let c = &self.config.council;
        let sorry = "I'm sorry, I can't find an answer to that in our adult social care pages, and I don't want to guess.";
        if !c.handover.trim().is_empty() {
            return format!("{sorry} {}", c.handover());
        }
        format!(
            "{sorry} Please call {} or email {}, and someone will help you.",
            c.front_door_hours(),
            c.email
        )
    }
}

/// Whether an address is a document (a PDF) rather than a web page.
fn is_document(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.to_ascii_lowercase().ends_with(".pdf")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A knowledge base of these pages (slug, title, last reviewed, body)
    /// and synonyms, loaded as the engine loads one (a real tantivy index in
    /// a temporary folder, no models).
    fn load(pages: &[(&str, &str, &str, &str)], synonyms: &str) -> (Content, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path().join("kb");
        std::fs::create_dir_all(kb.join("pages")).unwrap();
        for (slug, title, reviewed, body) in pages {
            std::fs::write(
                kb.join("pages").join(format!("{slug}.md")),
                format!("---\nslug: {slug}\ntitle: {title}\nsummary: About {title}.\ntopics: [{slug}]\nurl: https://www.example.org/{slug}\nlast_reviewed: {reviewed}\n---\n# {title}\n\n{body}\n"),
            )
            .unwrap();
        }
        std::fs::write(kb.join("synonyms.toml"), synonyms).unwrap();
        let mut config = Config::default();
        config.kb.dir = kb;
        config.data_dir = dir.path().join("data");
        config.triage.semantic = false;
        let (content, _) = startup::load(&config, None).unwrap();
        (content, dir)
    }

    /// A small knowledge base of four pages.
    pub(crate) fn content() -> (Content, tempfile::TempDir) {
        const REVIEWED: &str = "2026-11-01";
        load(
            &[
                (
                    "blue-badge",
                    "Blue Badge parking permits",
                    REVIEWED,
                    "A Blue Badge lets a disabled person park closer to where they need to go. A Blue Badge costs £10. A Blue Badge usually lasts up to 3 years.\n\n## How to apply\n\nYou can apply for a Blue Badge online or by post. Call the Blue Badge team on 01632 960210 if you need help with the form.",
                ),
                (
                    "reablement",
                    "Reablement",
                    REVIEWED,
                    "Reablement is short-term help at home after an illness or a fall. Reablement is free for up to 6 weeks.",
                ),
                (
                    "carers",
                    "Support for carers",
                    REVIEWED,
                    "A carer is someone who looks after a family member or friend. Carers can ask for a free carer's assessment.",
                ),
                (
                    "questions",
                    "Questions and answers",
                    REVIEWED,
                    "Answers to questions people often ask us.\n\n## Will someone visit me at home?\n\nYes. A worker visits you at home to talk about what you need.\n\n## Does a carer's assessment depend on income?\n\nNo. Whatever your income, a carer's assessment is free.",
                ),
            ],
            "\"parking permit\" = \"blue badge\"\n",
        )
    }

    fn hits(c: &Content, q: &str) -> Vec<crate::search::Hit> {
        retrieve::search(c, &Config::default().search, q, None).hits
    }

    /// The sentences composition quotes for `q` from `h`, with the default
    /// settings and no meaning.
    fn quoted(c: &Content, q: &str, h: &[crate::search::Hit]) -> Vec<String> {
        let qterms = understand::key_terms(c, &understand::expand(c, q));
        let asked = compose::Asked {
            message: q,
            ..Default::default()
        };
        compose::sentences(c, &Config::default().answer, &asked, &qterms, h, 4).0
    }

    #[test]
    fn composition_leads_with_the_sentence_that_carries_what_was_asked() {
        let (c, _d) = content();
        let settings = Config::default().answer;
        let q = "how much does a blue badge cost";
        let h = hits(&c, q);
        let qterms = understand::key_terms(&c, &understand::expand(&c, q));
        let asked = |message| compose::Asked {
            message,
            ..Default::default()
        };
        let (sentences, passages) = compose::sentences(&c, &settings, &asked(q), &qterms, &h, 4);
        assert_eq!(sentences[0], "A Blue Badge costs £10.", "{sentences:?}");
        // Four at most, and the page's number to call as the next step.
        assert!(sentences.len() <= 5);
        assert!(
            sentences.last().unwrap().contains("01632 960210"),
            "{sentences:?}"
        );
        // Every sentence is quoted whole from a passage it names.
        for s in &sentences {
            assert!(passages.iter().any(|p| p.text.contains(s.as_str())), "{s}");
        }
        assert!(
            passages.iter().all(|p| p.slug == "blue-badge"),
            "{passages:?}"
        );
        // Asked again in a conversation that already said them (all but
        // the next step): other sentences, none repeated, while the pages
        // have more.
        let sentences = &sentences[..sentences.len() - 1];
        let said = vec![sentences.join(" ")];
        let again = compose::Asked {
            message: q,
            meaning: None,
            said: &said,
        };
        let (more, _) = compose::sentences(&c, &settings, &again, &qterms, &h, 4);
        assert!(!more.is_empty());
        assert!(more.iter().all(|s| !sentences.contains(s)), "{more:?}");
        // Who to call: the sentence with the phone number is preferred.
        let q = "who do i phone for help with the blue badge form";
        let h = hits(&c, q);
        let qterms = understand::key_terms(&c, q);
        let (sentences, _) = compose::sentences(&c, &settings, &asked(q), &qterms, &h, 1);
        assert!(sentences[0].contains("01632 960210"), "{sentences:?}");
    }

    #[test]
    fn an_answer_with_no_number_to_call_ends_with_the_pages_next_step() {
        let (c, _d) = load(
            &[(
                "autism-hub",
                "Support for autistic adults",
                "2026-11-01",
                "Our autism hub supports adults who are autistic or think they may be.\n\n## What the hub offers\n\nThe hub offers peer support groups, help with forms and help to find a job. You do not need a diagnosis to use the hub.\n\n## Contact the hub\n\nCall 01632 960740 or drop in on Wednesdays.\n\n## Other help\n\nThe national helpline is on 01632 960999.",
            )],
            "",
        );
        let q = "is there anything to help my son find a job while he waits for a diagnosis";
        let h = hits(&c, q);
        let qterms = understand::key_terms(&c, &understand::expand(&c, q));
        let asked = compose::Asked {
            message: q,
            ..Default::default()
        };
        let settings = Config::default().answer;
        let (sentences, passages) = compose::sentences(&c, &settings, &asked, &qterms, &h, 4);
        // The nearest number after the answer, not the page's other one.
        assert_eq!(
            sentences.last().map(String::as_str),
            Some("Call 01632 960740 or drop in on Wednesdays."),
            "{sentences:?}"
        );
        assert!(
            !sentences.iter().any(|s| s.contains("960999")),
            "{sentences:?}"
        );
        // Quoted from a passage the answer cites, so it can be checked.
        assert!(
            passages.iter().any(|p| p.text.contains("01632 960740")),
            "{passages:?}"
        );
        // Turned off, the answer is what the page says about the question.
        let off = crate::config::AnswerSettings {
            next_step_words: 0,
            ..settings.clone()
        };
        let (without, _) = compose::sentences(&c, &off, &asked, &qterms, &h, 4);
        assert!(!without.iter().any(|s| s.contains("01632")), "{without:?}");
        // A follow-up that said it before is not told it again.
        let said = vec![sentences.join(" ")];
        let again = compose::Asked {
            message: q,
            meaning: None,
            said: &said,
        };
        let (more, _) = compose::sentences(&c, &settings, &again, &qterms, &h, 4);
        assert!(!more.iter().any(|s| s.contains("960740")), "{more:?}");
        // A calculation's one sentence stands alone.
        let (one, _) = compose::sentences(&c, &settings, &asked, &qterms, &h, 1);
        assert_eq!(one.len(), 1, "{one:?}");
        // An answer that already gives a number is not given another.
        let q = "what is the number for the autism hub";
        let sentences = quoted(&c, q, &hits(&c, q));
        let numbers = sentences
            .iter()
            .filter(|s| crate::text::UK_PHONE.is_match(s))
            .count();
        assert_eq!(numbers, 1, "{sentences:?}");
    }

    #[test]
    fn asked_what_something_costs_a_passage_with_the_figure_is_found() {
        let mut rows = String::from("| Service | Charge |\n|---|---|\n");
        for (service, charge) in [
            ("Home care", "£27.40 an hour"),
            ("Meals at home", "£5.95 a meal"),
            ("Alarm monitoring", "£5.10 a week"),
            ("Key safe fitting", "£45"),
            ("Respite in a care home", "£121 a night"),
            ("Shared Lives short break", "£68 a night"),
            ("Arrangement fee", "£290"),
            ("Lunch at a day centre", "£5.20 a meal"),
        ] {
            rows.push_str(&format!("| {service} | {charge} |\n"));
        }
        let (c, _d) = load(
            &[
                (
                    "day-centres",
                    "Getting out and about",
                    "2026-11-01",
                    "Ways to meet people near you.\n\n## Day centres\n\nOur day centres offer company, activities and a hot lunch cooked fresh every day. Transport can be arranged.",
                ),
                ("charges", "Charges", "2026-11-01", &rows),
            ],
            "",
        );
        let q = "how much is lunch at the day centre";
        let query = understand::expand(&c, q);
        let top = |weight: f32| {
            let settings = crate::config::SearchSettings {
                figure_weight: weight,
                ..Config::default().search
            };
            let h = retrieve::search(&c, &settings, &query, None).hits;
            c.index.chunks[h[0].chunk].slug.clone()
        };
        // Without the weight, the page that talks about the service wins on
        // its words; with it, the charges table's figure comes first.
        assert_eq!(top(0.0), "day-centres");
        assert_eq!(top(Config::default().search.figure_weight), "charges");
        // A question that asks no cost is ranked on its words alone.
        let q = understand::expand(&c, "is lunch at the day centre cooked fresh");
        let h = retrieve::search(&c, &Config::default().search, &q, None).hits;
        assert_eq!(c.index.chunks[h[0].chunk].slug, "day-centres");
    }

    #[test]
    fn paid_carers_are_searched_for_as_home_care_not_as_family_carers() {
        let (c, _d) = load(
            &[
                (
                    "home-care",
                    "Paying for care at home",
                    "2026-11-01",
                    "Home care workers visit you at home. Home care costs £28 an hour.",
                ),
                (
                    "carers",
                    "Support for carers",
                    "2026-11-01",
                    "A carer looks after a family member or friend without pay. Carers can have a break. Carers can get an assessment.",
                ),
            ],
            "[instead]\n\"the helpers\" = \"the home care workers\"\n",
        );
        let q = "how much do her carers cost an hour";
        let query = understand::expand(&c, q);
        let terms: Vec<String> = understand::key_terms(&c, &query)
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert!(!terms.iter().any(|t| t == "carer"), "{query}: {terms:?}");
        assert!(terms.iter().any(|t| t == "worker"), "{query}: {terms:?}");
        assert_eq!(c.index.chunks[hits(&c, &query)[0].chunk].slug, "home-care");
        // Without the phrase, carers are family carers.
        let q = "can carers have a break";
        let query = understand::expand(&c, q);
        assert_eq!(c.index.chunks[hits(&c, &query)[0].chunk].slug, "carers");
        // A council's own phrases too.
        let query = understand::expand(&c, "when do the helpers arrive");
        assert!(query.contains("home care workers"), "{query}");
    }

    #[test]
    fn words_the_synonyms_add_weigh_less_than_the_residents_own() {
        let (c, _d) = load(
            &[
                (
                    "page-a",
                    "Costs",
                    "2026-11-01",
                    "Ask us about a funeral today.",
                ),
                (
                    "page-b",
                    "Support",
                    "2026-11-01",
                    "Ask us about a death today.",
                ),
            ],
            "\"passed away\" = \"death\"\n",
        );
        let q = understand::expand(
            &c,
            "my husband passed away, is there help with funeral costs",
        );
        // The added words are marked as added, after the resident's own.
        let parts = crate::search::segments(&q);
        assert_eq!(parts.iter().filter(|p| p.1).count(), 1, "{q}");
        assert!(
            parts.iter().any(|p| p.1 && p.0.contains("death")),
            "{parts:?}"
        );
        let terms = understand::key_terms(&c, &q);
        let w = |t: &str| terms.iter().find(|x| x.0 == t).map(|x| x.1).unwrap();
        let w_setting = Config::default().search.synonym_weight;
        assert!(w_setting < 1.0);
        assert!(
            (w("death") - c.index.idf("death") * w_setting).abs() < 1e-4,
            "{terms:?}"
        );
        assert!(
            (w("funer") - c.index.idf("funer")).abs() < 1e-4,
            "{terms:?}"
        );
        // One word on each page, equally rare: the resident's word leads,
        // by the synonyms' weight.
        let h = c.index.search("funeral [+ death +]", 2).unwrap();
        assert_eq!(c.index.chunks[h[0].chunk].slug, "page-a");
        assert_eq!(h.len(), 2);
        let ratio = h[1].score / h[0].score;
        assert!((ratio - w_setting).abs() < 0.1, "{ratio}");
        // A resident who types the marker gets no lesser weight for it.
        let typed = understand::expand(&c, "funeral [+ costs +] today");
        assert!(
            crate::search::segments(&typed).iter().all(|p| !p.1),
            "{typed}"
        );
        // A word both said and added keeps the resident's weight.
        let h = c.index.search("death [+ death +]", 1).unwrap();
        let plain = c.index.search("death", 1).unwrap();
        assert!((h[0].score - plain[0].score).abs() < 1e-4);
    }

    #[test]
    fn a_page_past_its_review_date_gives_way_on_figures() {
        let (c, _d) = load(
            &[
                (
                    "day-centres",
                    "Day centres",
                    "2019-06-04",
                    "Our day centres offer company and activities. A day at a day centre costs £38.50. Lunch at the day centre costs £3.90.",
                ),
                (
                    "charges",
                    "Day centre charges",
                    "2026-04-01",
                    "Our day centre charges from April 2026. A day at a day centre costs £62. Lunch at the day centre costs £5.20.",
                ),
            ],
            "",
        );
        assert!(c.dated.contains("day-centres") && !c.dated.contains("charges"));
        let q = "how much does a day at the day centre cost";
        let h = hits(&c, q);
        let sentences = quoted(&c, q, &h);
        // Two pages that say the same kind of thing: this year's figure leads.
        assert!(sentences[0].contains("£62"), "{sentences:?}");
    }

    #[test]
    fn a_current_figure_found_well_below_a_stale_page_is_still_quoted() {
        let (c, _d) = load(
            &[
                (
                    "meadowbank",
                    "Day centres",
                    "2019-06-04",
                    "Meadowbank day centre is open every weekday and has a garden. A day at a centre costs £38.50.",
                ),
                (
                    "charges",
                    "Charges for care, including a day out",
                    "2026-04-01",
                    "These are the most you will pay for each service from April 2026. Home care is £27.40 an hour. A day centre place is £62 a day at any centre. A short stay in a care home is £121 a night. Transport is £4.80 a journey. Most people pay less than these amounts, because a financial assessment caps what you pay each week.",
                ),
            ],
            "",
        );
        let q = "how much is a day at meadowbank day centre";
        let h = hits(&c, q);
        let rel = |slug: &str| {
            h.iter()
                .find(|x| c.index.chunks[x.chunk].slug == slug)
                .map(|x| x.score / h[0].score)
        };
        // The stale page leads retrieval by far.
        assert_eq!(c.index.chunks[h[0].chunk].slug, "meadowbank");
        let r = rel("charges").unwrap_or(0.0);
        assert!(r > 0.15 && r < 0.35, "{r}");
        let sentences = quoted(&c, q, &h);
        assert!(sentences.iter().any(|s| s.contains("£62")), "{sentences:?}");
    }

    #[test]
    fn an_faq_answers_yes_or_no_with_its_question() {
        let (c, _d) = content();
        let settings = Config::default().answer;
        let q = "will someone visit me at home";
        let h = hits(&c, q);
        let qterms = understand::key_terms(&c, &understand::expand(&c, q));
        let asked = compose::Asked {
            message: q,
            ..Default::default()
        };
        let (sentences, passages) = compose::sentences(&c, &settings, &asked, &qterms, &h, 4);
        // The bare "Yes." is quoted with the question it answers and the
        // sentence after it; never on its own.
        let at = sentences
            .iter()
            .position(|s| s == "Will someone visit me at home? Yes.")
            .unwrap_or_else(|| panic!("{sentences:?}"));
        assert_eq!(
            sentences.get(at + 1).map(String::as_str),
            Some("A worker visits you at home to talk about what you need."),
            "{sentences:?}"
        );
        assert!(
            !sentences.iter().any(|s| s == "Yes." || s == "No."),
            "{sentences:?}"
        );
        // And verification finds it in the passage it cites.
        let slugs = ["questions".to_string()];
        let cited = verify::citable(&slugs, &passages);
        let checked = verify::check(sentences.clone(), &passages, &cited);
        assert_eq!(checked.kept, sentences, "{:?}", checked.removed);
    }

    #[test]
    fn coverage_measures_how_much_of_the_question_the_pages_hold() {
        let (c, _d) = content();
        let covered = |q: &str| retrieve::coverage(&c, q, &hits(&c, q), &[]);
        // Every key word on the page; half of them; none.
        assert!(covered("is reablement free") > 0.99);
        let half = covered("is reablement free for my passport");
        assert!((0.3..0.7).contains(&half), "{half}");
        assert!(
            covered("can I get a parking permit") > 0.9,
            "a synonym phrase counts"
        );
        assert!(covered("how do I renew my passport") < 0.5);
        let settings = Config::default().search;
        let q = "how do I renew my passport";
        let found = retrieve::found(&settings, 0.0, &[], covered(q), 0.0);
        assert!(found.off_topic, "nothing found is \"I don't know\"");
        let q = "how long does reablement last";
        let r = retrieve::search(&c, &settings, q, None);
        let found = retrieve::found(&settings, r.bm25_best, &[], covered(q), 0.0);
        assert!(found.pages && !found.off_topic);
        // Too few words covered: answered only when a sentence found is
        // close enough in meaning, and never with nothing found.
        let low = settings.min_coverage / 2.0;
        let close = settings.min_closeness;
        assert!(retrieve::found(&settings, r.bm25_best, &[], low, close - 0.1).off_topic);
        assert!(!retrieve::found(&settings, r.bm25_best, &[], low, close).off_topic);
        assert!(retrieve::found(&settings, 0.0, &[], low, 1.0).off_topic);
        let mut off = settings.clone();
        off.min_closeness = 0.0;
        assert!(retrieve::found(&off, r.bm25_best, &[], low, 1.0).off_topic);
    }

    #[test]
    fn a_follow_up_borrows_the_earlier_question_and_its_page() {
        let (c, _d) = content();
        let mut q = Question::new("how much does it cost", Channel::Web);
        q.history = vec![Turn {
            role: Role::User,
            text: "what is a blue badge".into(),
        }];
        let u = understand::standalone(&c, &q);
        assert_eq!(u.standalone, "how much does it cost what is a blue badge");
        assert_eq!(u.topic.as_deref(), Some("blue-badge"));
        let q = Question::new("what is reablement", Channel::Web);
        assert!(understand::standalone(&c, &q).topic.is_none());
    }
}
