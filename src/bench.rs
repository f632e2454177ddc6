//! `signpost bench`: retrieval and answer latency without a model, and for
//! each installed language model its load time, prefill and decode speed,
//! time to first token, the time for a whole 60-word answer and peak memory,
//! with llama.cpp's own bench on the same file as the anchor.
//!
//! Each model is measured in a child process (`signpost bench model NAME`),
//! so that its peak memory is its own.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::llm::{roles, Limits, Llm};
use crate::pipeline::{Channel, Engine, Question};

/// Questions the whole-answer timing uses: common, answered from pages.
pub const QUESTIONS: [&str; 6] = [
    "how do I get a blue badge",
    "what is a carer's assessment",
    "can I get meals delivered at home",
    "how do I get equipment to help me at home",
    "what are direct payments",
    "can I get a break from caring",
];

/// Tokens written for the decode timing and the "60-word answer" (about 80
/// tokens of English).
pub const ANSWER_TOKENS: usize = 80;

pub use crate::text::median;

pub fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

/// Retrieval and whole-answer latency with no model.
#[derive(Debug, Serialize, Deserialize)]
pub struct NoModel {
    pub questions: usize,
    pub retrieval_p50_ms: f64,
    pub retrieval_p99_ms: f64,
    pub answer_p50_ms: f64,
    pub answer_p99_ms: f64,
    pub peak_mib: f64,
}

pub fn no_model(engine: &Engine, questions: &[String]) -> NoModel {
    let k = engine.config().search.top_k;
    let mut retrieval = Vec::new();
    let mut answer = Vec::new();
    for q in questions {
        let t = Instant::now();
        let _ = engine.index().search(q, k);
        retrieval.push(t.elapsed().as_secs_f64() * 1000.0);
        answer.push(engine.answer(&Question::new(q.as_str(), Channel::Web)).ms);
    }
    NoModel {
        questions: questions.len(),
        retrieval_p50_ms: median(retrieval.clone()),
        retrieval_p99_ms: percentile(retrieval, 0.99),
        answer_p50_ms: median(answer.clone()),
        answer_p99_ms: percentile(answer, 0.99),
        peak_mib: Llm::memory_mib().1,
    }
}

/// One model's figures (medians over runs).
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelBench {
    pub model: String,
    pub arch: String,
    pub file_mib: f64,
    pub requantized: Vec<String>,
    pub load_ms: f64,
    /// Tokens in the benchmark prompt (system prompt, question and four passages).
    pub prompt_tokens: usize,
    pub prefill_tps: f64,
    pub decode_tps: f64,
    /// First token of the rephrase job with nothing cached.
    pub first_token_cold_ms: f64,
    /// First token of the rephrase job with the system prompt's state cached.
    pub first_token_ms: f64,
    /// First token plus 80 tokens (about 60 words), system prompt cached.
    pub answer_60_words_ms: f64,
    /// Judging four passages for the reranker.
    pub rerank_ms: f64,
    /// Whole `answer` with the rephrase job, median over the questions.
    pub whole_answer_ms: f64,
    /// Of those answers, how many used the model's draft.
    pub drafts_used: usize,
    pub runs: usize,
    pub peak_mib: f64,
}

/// Measures the engine's model (run in its own process).
pub fn model(engine: &Engine, path: &Path, runs: usize) -> Result<ModelBench> {
    let model = engine
        .llm()
        .filter(|m| m.local().is_some())
        .context("no language model is loaded in this process (set llm.model)")?;
    let llm = model.local().context("no language model in this process")?;
    let runs = runs.max(1);
    // A real prompt: the rephrase system prompt, a question and the text of
    // the passages retrieval found for it.
    let question = QUESTIONS[0];
    let hits = engine.index().search(question, 4)?;
    let passages: Vec<String> = hits
        .iter()
        .map(|h| engine.index().chunks[h.chunk].units.join(" "))
        .collect();
    let user = roles::rephrase_prompt(question, &passages);
    let (mut prefill, mut decode, mut prompt_tokens) = (Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let (n, p, d) = llm.timing(roles::REPHRASE_SYSTEM, &user, ANSWER_TOKENS)?;
        prompt_tokens = n;
        prefill.push(n as f64 / (p / 1000.0));
        decode.push(ANSWER_TOKENS as f64 / (d / 1000.0));
    }
    let facts: Vec<String> = engine.answer(&Question::new(question, Channel::Web)).answer;
    let unlimited = Limits {
        max_tokens: ANSWER_TOKENS,
        deadline: None,
        cancel: None,
    };
    // Cold: a fresh process has not read this system prompt yet.
    let cold = roles::rephrase(
        model,
        question,
        &facts,
        Limits {
            max_tokens: 1,
            ..unlimited
        },
        &mut |_| {},
    )?
    .first_token_ms;
    let (mut first, mut whole80) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let g = llm.timing_warm(
            roles::REPHRASE_SYSTEM,
            &roles::rephrase_prompt(question, &facts),
            ANSWER_TOKENS,
        )?;
        first.push(g);
        whole80.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut rerank = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        for h in hits.iter().take(4) {
            let c = &engine.index().chunks[h.chunk];
            roles::relevance(model, question, &c.title, &c.units.join(" "), unlimited)?;
        }
        rerank.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (mut whole, mut drafts) = (Vec::new(), 0);
    for q in QUESTIONS {
        let r = engine.answer(&Question::new(q, Channel::Web));
        whole.push(r.ms);
        if r.stages
            .model
            .as_ref()
            .is_some_and(|m| m.answer_from == "model draft")
        {
            drafts += 1;
        }
    }
    Ok(ModelBench {
        model: llm.name.clone(),
        arch: llm.arch.clone(),
        file_mib: std::fs::metadata(path)
            .map(|m| m.len() as f64 / 1048576.0)
            .unwrap_or(0.0),
        requantized: llm.requantized.clone(),
        load_ms: llm.load_ms,
        prompt_tokens,
        prefill_tps: median(prefill),
        decode_tps: median(decode),
        first_token_cold_ms: cold,
        first_token_ms: median(first),
        answer_60_words_ms: median(whole80),
        rerank_ms: median(rerank),
        whole_answer_ms: median(whole),
        drafts_used: drafts,
        runs,
        peak_mib: Llm::memory_mib().1,
    })
}

/// One model backend's figures, medians over runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct BackendFigures {
    pub backend: String,
    pub model: String,
    /// First token of the rephrase job, its system prompt already read once.
    pub first_token_ms: f64,
    /// The rephrase job to its end (end of turn, or 80 tokens).
    pub rephrase_ms: f64,
    pub rephrase_tokens: usize,
    /// Judging four passages for the reranker.
    pub rerank_ms: f64,
    /// Whole `answer` with rerank and rephrase, median over the questions.
    pub whole_answer_ms: f64,
    pub drafts_used: usize,
    pub questions: usize,
    pub runs: usize,
}

/// The same jobs on each engine's model (in this process, or on a server).
pub fn model_backends(engines: &[(&str, &Engine)], runs: usize) -> Result<Vec<BackendFigures>> {
    let runs = runs.max(1);
    let mut out = Vec::new();
    for (backend, engine) in engines {
        let model = engine.llm().context("no language model is configured")?;
        let question = QUESTIONS[0];
        let facts: Vec<String> = engine.answer(&Question::new(question, Channel::Web)).answer;
        let hits = engine.index().search(question, 4)?;
        let limits = Limits {
            max_tokens: ANSWER_TOKENS,
            deadline: None,
            cancel: None,
        };
        // Once to read the system prompt into the cache, as at start-up.
        roles::rephrase(model, question, &facts, limits, &mut |_| {})?;
        let (mut first, mut whole, mut tokens) = (Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            let t = Instant::now();
            let g = roles::rephrase(model, question, &facts, limits, &mut |_| {})?;
            whole.push(t.elapsed().as_secs_f64() * 1000.0);
            first.push(g.first_token_ms);
            tokens = g.new_tokens;
        }
        let mut rerank = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            for h in hits.iter().take(4) {
                let c = &engine.index().chunks[h.chunk];
                roles::relevance(model, question, &c.title, &c.units.join(" "), limits)?;
            }
            rerank.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (mut answers, mut drafts) = (Vec::new(), 0);
        for q in QUESTIONS {
            let r = engine.answer(&Question::new(q, Channel::Web));
            answers.push(r.ms);
            if r.stages
                .model
                .as_ref()
                .is_some_and(|m| m.answer_from == "model draft")
            {
                drafts += 1;
            }
        }
        out.push(BackendFigures {
            backend: backend.to_string(),
            model: model.name(),
            first_token_ms: median(first),
            rephrase_ms: median(whole),
            rephrase_tokens: tokens,
            rerank_ms: median(rerank),
            whole_answer_ms: median(answers),
            drafts_used: drafts,
            questions: QUESTIONS.len(),
            runs,
        });
    }
    Ok(out)
}

/// llama.cpp's figures for the same file, from its `llama-bench` tool.
#[derive(Debug, Serialize, Deserialize)]
pub struct Anchor {
    pub prefill_tps: f64,
    pub decode_tps: f64,
}

pub fn llama_bench(
    tool: &Path,
    gguf: &Path,
    prompt_tokens: usize,
    threads: usize,
    runs: usize,
) -> Result<Anchor> {
    let out = std::process::Command::new(tool)
        .arg("-m")
        .arg(gguf)
        .args(["-p", &prompt_tokens.to_string()])
        .args(["-n", &ANSWER_TOKENS.to_string()])
        .args(["-t", &threads.to_string()])
        .args(["-r", &runs.max(1).to_string()])
        .args(["-o", "json"])
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "{} failed: {}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} did not print JSON", tool.display()))?;
    let rate = |prompt: bool| {
        rows.iter()
            .find(|r| {
                let p = r["n_prompt"].as_u64().unwrap_or(0);
                let g = r["n_gen"].as_u64().unwrap_or(0);
                if prompt {
                    p > 0 && g == 0
                } else {
                    g > 0 && p == 0
                }
            })
            .and_then(|r| r["avg_ts"].as_f64())
            .unwrap_or(0.0)
    };
    Ok(Anchor {
        prefill_tps: rate(true),
        decode_tps: rate(false),
    })
}
