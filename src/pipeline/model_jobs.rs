//! The optional model jobs, as hooks in the request path. Each runs only if
//! the council configured it (and never before triage has let the question
//! through), says in the stages why it did not run, and falls back to what
//! the path had without it: the question as asked, BM25's ranking, the
//! quoted answer.

use std::time::Instant;

use crate::config::{Job, LlmSettings};
use crate::llm::{Limits, Model};
use crate::search::Hit;

use super::types::{ModelStages, Question, Role, Stages};
use super::Content;

/// The configured model and its limits for one question.
pub struct Jobs<'a> {
    model: Option<&'a Model>,
    settings: &'a LlmSettings,
    limits: Limits<'a>,
}

impl<'a> Jobs<'a> {
    /// `use_model` is false for work the model must never see (the ordinary
    /// part of a message that also disclosed danger).
    pub fn new(
        llm: Option<&'a Model>,
        settings: &'a LlmSettings,
        q: &'a Question,
        use_model: bool,
    ) -> Self {
        Jobs {
            model: llm.filter(|_| use_model),
            settings,
            limits: Limits {
                max_tokens: settings.max_tokens,
                deadline: Some(crate::llm::deadline_in(settings.deadline_ms)),
                cancel: q.cancel.as_deref(),
            },
        }
    }

    /// Records that a model is in play (after triage).
    pub fn start(&self, stages: &mut Stages) {
        if let Some(m) = self.model {
            stages.model = Some(ModelStages {
                model: m.name(),
                answer_from: "quoted answer".into(),
                ..Default::default()
            });
        }
    }

    /// Rewrite: a follow-up as a stand-alone question, or the question as
    /// understood without the model.
    pub fn rewrite(&self, q: &Question, standalone: String, stages: &mut Stages) -> String {
        let (Some(m), Some(ms)) = (self.model, stages.model.as_mut()) else {
            return standalone;
        };
        if !self.settings.has(Job::Rewrite) || standalone == q.message {
            return standalone;
        }
        let Some(prev) = q.history.iter().rev().find(|t| t.role == Role::User) else {
            return standalone;
        };
        let t = Instant::now();
        let mut out = standalone;
        match crate::llm::roles::rewrite(m, &prev.text, &q.message, self.limits) {
            Ok((Some(r), _)) => {
                ms.rewrite = Some(r.clone());
                out = r;
            }
            Ok((None, g)) => ms.notes.push(format!("rewrite not used: {:?}", g.text)),
            Err(e) => ms.notes.push(model_note("rewrite", &e)),
        }
        ms.ms += t.elapsed().as_secs_f64() * 1000.0;
        out
    }

    /// Rerank: the best passages reordered by the model's P(yes) that each
    /// answers the question, or BM25's order when any judgement fails.
    pub fn rerank(
        &self,
        content: &Content,
        standalone: &str,
        hits: &mut Vec<Hit>,
        stages: &mut Stages,
    ) {
        let (Some(m), Some(ms)) = (self.model, stages.model.as_mut()) else {
            return;
        };
        if !self.settings.has(Job::Rerank) || hits.len() <= 1 {
            return;
        }
        let t = Instant::now();
        let n = self.settings.rerank_passages.min(hits.len());
        let mut judged: Vec<(Hit, f32)> = Vec::new();
        for h in &hits[..n] {
            let c = &content.index.chunks[h.chunk];
            match crate::llm::roles::relevance(
                m,
                standalone,
                &c.title,
                &c.units.join(" "),
                self.limits,
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
                .map(|(h, p)| (content.index.chunks[h.chunk].id.clone(), *p))
                .collect();
            hits.splice(0..n, judged.into_iter().map(|(h, _)| h));
        }
        ms.ms += t.elapsed().as_secs_f64() * 1000.0;
    }

    /// Rephrase: warmer words for an answer quoted from pages, every
    /// sentence checked against the cited passages; otherwise the quoted
    /// answer. A calculation or a directory record is never reworded.
    pub fn rephrase(
        &self,
        standalone: &str,
        kept: Vec<String>,
        cited_texts: &[&str],
        exact: bool,
        stages: &mut Stages,
    ) -> Vec<String> {
        let (Some(m), Some(ms)) = (self.model, stages.model.as_mut()) else {
            return kept;
        };
        if !self.settings.has(Job::Rephrase) || exact {
            return kept;
        }
        let t = Instant::now();
        let mut out = kept;
        match crate::llm::roles::rephrase(m, standalone, &out, self.limits, &mut |_| {}) {
            Ok(g) => {
                ms.draft = Some(g.text.clone());
                ms.first_token_ms = Some(g.first_token_ms);
                match checked_draft(
                    &g,
                    &out,
                    cited_texts,
                    self.settings.min_support,
                    &mut ms.removed,
                ) {
                    Ok(draft) => {
                        out = draft;
                        ms.answer_from = "model draft".into();
                    }
                    Err(why) => ms.answer_from = format!("quoted answer: {why}"),
                }
            }
            Err(e) => ms.notes.push(model_note("rephrase", &e)),
        }
        ms.ms += t.elapsed().as_secs_f64() * 1000.0;
        out
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
            None if !super::verify::output_ok(&s, &[]) => {
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
