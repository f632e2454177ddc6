//! Start-up, apart from the request path: the knowledge base and rules are
//! loaded and checked, the index opened or built, the embedding model and
//! the triage example bank loaded, passage vectors made for hybrid
//! retrieval, and the language model loaded when one is configured.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;

use crate::config::Config;
use crate::embed::Embedder;
use crate::kb::Kb;
use crate::search::SearchIndex;
use crate::triage::semantic::{ExampleBank, Label, Semantic};

use super::Content;

/// Models already loaded, which a reload keeps.
pub(crate) struct Loaded {
    pub llm: Option<Arc<crate::llm::Model>>,
    pub embedder: Option<Arc<Embedder>>,
}

/// Loads everything the request path reads, reusing `loaded` models when
/// given (a reload). Content errors are logged and the faulty pages left
/// out; the engine still starts.
pub(crate) fn load(
    config: &Config,
    loaded: Option<Loaded>,
) -> Result<(Content, Option<Arc<crate::llm::Model>>)> {
    let today = time::OffsetDateTime::now_utc().date();
    let (kb, mut problems) = Kb::load(&config.kb, today)?;
    let rules = crate::rules::Rules::load(&config.kb.dir, today, &kb.pages, &mut problems);
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
        .collect::<HashMap<String, HashSet<String>>>();
    let mut areas: Vec<(String, String)> = kb
        .services
        .iter()
        .flat_map(|s| s.areas.iter())
        // The council's whole area is not a neighbourhood.
        .filter(|a| !a.eq_ignore_ascii_case(config.council.area.trim()))
        .map(|a| (crate::text::for_matching(a), a.clone()))
        .collect();
    areas.sort();
    areas.dedup();
    let (llm, embedder) = match loaded {
        Some(l) => (Some(l.llm), l.embedder),
        None => (None, None),
    };
    let semantic = load_semantic(config, &kb, embedder);
    let chunk_vectors = if config.search.hybrid {
        passage_vectors(config, &index, semantic.as_ref())
    } else {
        None
    };
    let unit_vectors = if config.answer.meaning_weight > 0.0 {
        sentence_vectors(config, &index, semantic.as_ref())
    } else {
        None
    };
    let checked = last_checked(config, &kb);
    let today = time::OffsetDateTime::now_utc().date();
    let dated = kb
        .pages
        .iter()
        .filter(|p| (today - p.last_reviewed).whole_days() > config.kb.review_warn_days)
        .map(|p| p.slug.clone())
        .collect();
    let abbreviations = super::understand::abbreviations(kb.pages.iter().map(|p| p.body.as_str()));
    let llm = match llm {
        Some(llm) => llm,
        None => load_llm(config)?.map(Arc::new),
    };
    Ok((
        Content {
            kb,
            rules,
            index,
            page_by_slug,
            page_terms,
            areas,
            semantic,
            chunk_vectors,
            unit_vectors,
            checked,
            dated,
            abbreviations,
        },
        llm,
    ))
}

/// When each imported page was last checked: its front matter's
/// `last_checked`, or the import's record in the data folder when that is
/// later (a re-check that found nothing changed does not rewrite the page).
fn last_checked(config: &Config, kb: &Kb) -> HashMap<String, time::Date> {
    let mut out: HashMap<String, time::Date> = kb
        .pages
        .iter()
        .filter_map(|p| p.last_checked.map(|d| (p.slug.clone(), d)))
        .collect();
    let record = crate::import::Place::configured(config);
    if record.postgres_url.is_empty() && !config.data_dir.join("import.db").exists() {
        return out;
    }
    let known = crate::import::state::State::open(&record).and_then(|s| s.all_known());
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    match known {
        Ok(known) => {
            for k in known {
                let Some(d) = k
                    .last_checked
                    .as_deref()
                    .and_then(|t| time::Date::parse(t.get(..10).unwrap_or(t), &fmt).ok())
                else {
                    continue;
                };
                if kb.page(&k.slug).is_some() {
                    let e = out.entry(k.slug).or_insert(d);
                    *e = (*e).max(d);
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "the import record could not be read; pages' last-checked dates come from their files alone")
        }
    }
    out
}

/// Each passage's embedding, for hybrid retrieval.
fn passage_vectors(
    config: &Config,
    index: &SearchIndex,
    semantic: Option<&Semantic>,
) -> Option<Vec<Vec<f32>>> {
    let Some(sem) = semantic else {
        tracing::warn!("hybrid retrieval needs the embedding model; using BM25 alone");
        return None;
    };
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
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "hybrid retrieval is off: passages could not be embedded");
            None
        }
    }
}

/// Each passage's sentences' embeddings, for choosing what to quote by
/// meaning. A sentence is embedded with its section's heading (or the
/// page's title), so one that says "it" still carries its subject.
fn sentence_vectors(
    config: &Config,
    index: &SearchIndex,
    semantic: Option<&Semantic>,
) -> Option<Vec<Vec<Vec<f32>>>> {
    let Some(sem) = semantic else {
        tracing::warn!("answer.meaning_weight needs the embedding model; sentences are chosen by their words alone");
        return None;
    };
    // One group per page (a page's passages are next to each other), so a
    // change to one page embeds only that page's sentences again.
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut last_slug: Option<&str> = None;
    for c in &index.chunks {
        if last_slug != Some(c.slug.as_str()) {
            groups.push(Vec::new());
            last_slug = Some(c.slug.as_str());
        }
        let about = c.headings.last().unwrap_or(&c.title);
        if let Some(g) = groups.last_mut() {
            g.extend(c.units.iter().map(|u| format!("{about}. {u}")));
        }
    }
    let grouped = match crate::triage::semantic::embed_cached_groups(
        &groups,
        &sem.embedder,
        &sem.model_key,
        &config.models.derived(),
        "sentences",
    ) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "sentences could not be embedded; they are chosen by their words alone");
            return None;
        }
    };
    let mut flat = grouped.into_iter().flatten();
    Some(
        index
            .chunks
            .iter()
            .map(|c| flat.by_ref().take(c.units.len()).collect())
            .collect(),
    )
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
fn load_llm(config: &Config) -> Result<Option<crate::llm::Model>> {
    let s = &config.llm;
    if !s.server_url.trim().is_empty() {
        let server = crate::llm::server::ModelServer::new(
            &s.server_url,
            &s.server_model,
            std::env::var("SIGNPOST_LLM_SERVER_API_KEY").ok(),
        )?;
        // Signpost starts, and answers without the model, while the model
        // server is still loading or down; /healthz says which.
        let reachable = server.reachable();
        tracing::info!(server = %server.label(), reachable, roles = ?s.roles, "language model on a model server");
        if !reachable {
            tracing::warn!(server = %server.label(), "the model server does not answer yet: answers are quoted until it does");
        }
        return Ok(Some(crate::llm::Model::Server(server)));
    }
    if s.model.is_empty() {
        return Ok(None);
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
        llm.warm(crate::llm::roles::system_prompt(*job))?;
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
    Ok(Some(crate::llm::Model::Local(Box::new(llm))))
}

/// Loads the embedding model and example bank when semantic triage is on and
/// the model is installed; otherwise says how to turn it on.
fn load_semantic(config: &Config, kb: &Kb, embedder: Option<Arc<Embedder>>) -> Option<Semantic> {
    if !config.triage.semantic {
        return None;
    }
    if kb.triage_examples.is_empty() {
        tracing::warn!("semantic triage is off: the triage example bank is empty");
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
    let embedder = match embedder {
        Some(e) => Ok(e),
        None => Embedder::load(&entry.dir(&cache)).map(Arc::new),
    };
    let loaded = embedder.and_then(|embedder| {
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
        Ok(Semantic {
            embedder,
            bank,
            model_key: key,
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
