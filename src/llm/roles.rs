//! The three small jobs the model may be given. Each returns something the
//! request path checks before use; none of them decides a rule or writes
//! advice of its own. The system prompts are fixed, so their key/value state
//! is computed once per process and reused.

use anyhow::Result;

use super::{check, Generated, Limits, Model};

const REWRITE_SYSTEM: &str = "You rewrite a resident's follow-up message as one short stand-alone question, using the earlier question for context. Keep the resident's meaning. Do not answer it. Reply with the question only.";

const RERANK_SYSTEM: &str = "You check whether a passage from a council's adult social care website answers a resident's question. Reply with yes or no only.";

pub const REPHRASE_SYSTEM: &str = "You help a council answer residents kindly in plain English. Rewrite the facts you are given as a short, warm reply to the question, in two to four short sentences. Use only the facts given. Keep every number, amount and phone number exactly as written. Do not add advice, promises or anything not in the facts.";

/// A follow-up rewritten as a stand-alone question, if the model's version
/// passes the checks (short, finished, no number the resident did not write,
/// and at least three quarters of its words taken from what the resident
/// wrote); else `None`.
pub fn rewrite(
    llm: &Model,
    earlier: &str,
    follow_up: &str,
    limits: Limits,
) -> Result<(Option<String>, Generated)> {
    let user =
        format!("Earlier question: {earlier}\nFollow-up: {follow_up}\nStand-alone question:");
    let g = llm.generate(
        REWRITE_SYSTEM,
        &user,
        0.0,
        Limits {
            max_tokens: limits.max_tokens.min(40),
            ..limits
        },
        &mut |_| {},
    )?;
    let text = g
        .text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .trim_start_matches("Stand-alone question:")
        .trim()
        .trim_matches('"')
        .to_string();
    let words = crate::text::word_count(&text);
    let said = format!("{earlier} {follow_up}");
    let ok = g.stop == super::Stop::EndOfTurn
        && (3..=30).contains(&words)
        && check::numbers_in(&text, &said)
        // It must be the resident's question, in (mostly) their words.
        && check::word_support(&text, &said) >= 0.75
        && !crate::triage::instruction_like(&text);
    Ok((ok.then_some(text), g))
}

/// The model's probability that `passage` answers `question`.
pub fn relevance(
    llm: &Model,
    question: &str,
    title: &str,
    passage: &str,
    limits: Limits,
) -> Result<f32> {
    let trimmed: Vec<&str> = passage.split_whitespace().take(110).collect();
    let user = format!(
        "Question: {question}\n\nPassage ({title}): {}\n\nDoes this passage answer the question? Reply yes or no.",
        trimmed.join(" ")
    );
    llm.yes_probability(RERANK_SYSTEM, &user, limits)
}

/// A warmer draft of the quoted answer. The caller checks every sentence.
pub fn rephrase(
    llm: &Model,
    question: &str,
    facts: &[String],
    limits: Limits,
    on_text: &mut (dyn FnMut(&str) + Send),
) -> Result<Generated> {
    llm.generate(
        REPHRASE_SYSTEM,
        &rephrase_prompt(question, facts),
        0.0,
        limits,
        on_text,
    )
}

/// The user turn of the rephrase job.
pub fn rephrase_prompt(question: &str, facts: &[String]) -> String {
    let listed: Vec<String> = facts.iter().map(|f| format!("- {f}")).collect();
    format!(
        "Question: {question}\n\nFacts from the council's pages:\n{}\n\nReply:",
        listed.join("\n")
    )
}

/// A job's fixed system prompt, so it can be read into the cache at start-up.
pub fn system_prompt(job: crate::config::Job) -> &'static str {
    use crate::config::Job;
    match job {
        Job::Rewrite => REWRITE_SYSTEM,
        Job::Rerank => RERANK_SYSTEM,
        Job::Rephrase => REPHRASE_SYSTEM,
    }
}
