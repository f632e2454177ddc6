//! The request path's types: the question every channel hands over, what
//! each stage did, and the reply every channel renders.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where a question came from, which decides how its reply is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Text on a web page or the command line; sources shown as links.
    #[default]
    Web,
    /// Read aloud: no URLs or markdown, at most about 90 words.
    Voice,
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "web" | "" => Ok(Channel::Web),
            "voice" => Ok(Channel::Voice),
            other => Err(format!("unknown channel '{other}': use web or voice")),
        }
    }
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Source {
    pub slug: String,
    pub title: String,
    pub url: String,
    /// When the page was last checked against the council's website ("3
    /// March 2026"), given only when that was longer ago than
    /// `import.stale_days`: the answer says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<String>,
    /// When the council last updated the page ("4 June 2019"), given only
    /// when that is longer ago than `kb.review_warn_days`: the answer says
    /// figures may have changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// The source is a document (a PDF the council links to), not a web
    /// page: an answer quoting it says which document it is in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub document: bool,
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

/// The reply, ready for any channel to render (see [`crate::channels`]).
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub route: Route,
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
