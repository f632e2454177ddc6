//! The evaluation harness: reads cases in the fixed format
//! (`shared/eval-format.md`), runs each through the same [`Engine::answer`]
//! residents get, and measures routes, facts, sources, grounding, voice
//! suitability and latency.

pub mod report;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use anyhow::{bail, Context, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::channels::{self, Channel};
use crate::pipeline::{Engine, Question, Reply, Route, Turn};
use crate::progress::Progress;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub question: String,
    #[serde(default)]
    pub history: Vec<Turn>,
    #[serde(default)]
    pub channel: Channel,
    pub expect: Expect,
    /// Free text for people reading the case (why it expects what it
    /// does); the harness ignores it.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub route: Route,
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default)]
    pub any_facts: Vec<Vec<String>>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub forbidden: Vec<String>,
}

impl Case {
    /// The case's topic: its id without the trailing number ("carers-003" -> "carers").
    pub fn topic(&self) -> String {
        match self.id.rsplit_once('-') {
            Some((t, n)) if n.chars().all(|c| c.is_ascii_digit()) => t.to_string(),
            _ => self.id.clone(),
        }
    }
}

/// Reads a case file; every problem names its line.
pub fn read_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the case file {}", path.display()))?;
    parse_cases(path, &text)
}

/// Parses a case file's text (`path` names it in messages).
pub fn parse_cases(path: &Path, text: &str) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    let mut ids = HashSet::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match serde_json::from_str::<Case>(t) {
            Ok(c) => {
                if !ids.insert(c.id.clone()) {
                    problems.push(format!(
                        "{}:{line_no}: duplicate id '{}'",
                        path.display(),
                        c.id
                    ));
                } else if c.question.trim().is_empty() && c.expect.route != Route::Clarify {
                    problems.push(format!(
                        "{}:{line_no}: '{}' has an empty question",
                        path.display(),
                        c.id
                    ));
                } else {
                    cases.push(c);
                }
            }
            Err(e) => problems.push(format!("{}:{line_no}: {e}", path.display())),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{}\nFix the case file: see eval/README.md for the fields.",
            problems.join("\n")
        );
    }
    if cases.is_empty() {
        bail!("{} has no cases", path.display());
    }
    Ok(cases)
}

static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d),(\d{3})\b").unwrap());
static DIGIT_SPACE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d) (\d)").unwrap());

/// The contract's matching form: NFKC, lower case, white space runs to one
/// space, thousands separators and spaces inside numbers removed, curly
/// quotes and dashes made plain.
pub fn normalise(text: &str) -> String {
    let t: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c => c,
        })
        .collect();
    let mut t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    for re in [&*THOUSANDS, &*DIGIT_SPACE] {
        loop {
            let next = re.replace_all(&t, "$1$2").into_owned();
            if next == t {
                break;
            }
            t = next;
        }
    }
    t
}

/// One case's outcome, in the contract's shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub route: Route,
    pub pass: bool,
    pub missing_facts: Vec<String>,
    pub forbidden_found: Vec<String>,
    pub cited: Vec<String>,
    pub grounded: bool,
    pub ms: f64,
    pub reply: String,
    /// How triage decided (the pattern, or the nearest example and its
    /// similarity), to see why a case was escalated or declined.
    #[serde(default)]
    pub triage: String,
}

/// The summary `signpost eval --json` writes (field names fixed by the contract).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub cases: usize,
    pub route_accuracy: f64,
    pub escalate_recall: f64,
    /// Share of cases that should not escalate that did (0.0 when none).
    #[serde(default)]
    pub false_alarm_rate: f64,
    pub fact_recall: f64,
    pub source_recall_at_3: f64,
    pub grounded_rate: f64,
    pub voice_ok_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub by_route: BTreeMap<String, RouteCount>,
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub results: Vec<CaseResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RouteCount {
    pub cases: usize,
    pub correct: usize,
}

impl Summary {
    /// Share of `route` cases routed correctly (1.0 when there are none).
    pub fn route_recall(&self, route: Route) -> f64 {
        self.by_route
            .get(route.as_str())
            .filter(|c| c.cases > 0)
            .map(|c| c.correct as f64 / c.cases as f64)
            .unwrap_or(1.0)
    }
}

/// A case with what the harness saw, kept for the HTML report.
pub struct Detail {
    pub case: Case,
    /// The whole reply, for `eval --dump`.
    pub reply: Reply,
    pub result: CaseResult,
    pub facts_ok: Option<bool>,
    pub source_ok: Option<bool>,
    pub voice_ok: Option<bool>,
    pub ungrounded: Vec<String>,
}

/// Runs every case through the engine.
pub fn run(engine: &Engine, cases: &[Case]) -> (Summary, Vec<Detail>) {
    let mut progress = Progress::new("eval", cases.len() as u64);
    let mut details = Vec::with_capacity(cases.len());
    for case in cases {
        let q = Question {
            message: case.question.clone(),
            history: case.history.clone(),
            channel: case.channel,
            cancel: None,
        };
        let reply = engine.answer(&q);
        let text = channels::render(&reply, case.channel, engine.config());
        let embedder = engine.semantic().map(|s| &*s.embedder);
        details.push(judge(
            case,
            &reply,
            &text,
            engine.config().answer.voice_max_words,
            embedder,
        ));
        progress.inc(1);
    }
    let summary = summarise(details.iter().map(|d| (&d.case, d)).collect());
    progress.finish(&format!(
        "{} cases, route accuracy {:.3}",
        summary.cases, summary.route_accuracy
    ));
    (summary, details)
}

fn judge(
    case: &Case,
    reply: &Reply,
    text: &str,
    voice_max_words: usize,
    embedder: Option<&crate::embed::Embedder>,
) -> Detail {
    let rendered = text;
    let text = normalise(rendered);
    let e = &case.expect;
    let mut missing: Vec<String> = e
        .facts
        .iter()
        .filter(|f| !text.contains(&normalise(f)))
        .cloned()
        .collect();
    for group in &e.any_facts {
        if !group.iter().any(|f| text.contains(&normalise(f))) {
            missing.push(format!("one of: {}", group.join(" | ")));
        }
    }
    let forbidden_found: Vec<String> = e
        .forbidden
        .iter()
        .filter(|f| text.contains(&normalise(f)))
        .cloned()
        .collect();
    let cited: Vec<String> = reply.sources.iter().map(|s| s.slug.clone()).collect();
    let facts_ok = (!e.facts.is_empty() || !e.any_facts.is_empty()).then_some(missing.is_empty());
    let source_ok =
        (!e.sources.is_empty()).then(|| cited.iter().take(3).any(|c| e.sources.contains(c)));
    let voice_ok =
        (case.channel == Channel::Voice).then(|| channels::is_speakable(rendered, voice_max_words));
    let ungrounded = if reply.route == Route::Answer {
        grounding::unsupported_with(&reply.answer, &reply.passages, embedder)
    } else {
        Vec::new()
    };
    let grounded = ungrounded.is_empty();
    let pass = reply.route == e.route
        && facts_ok != Some(false)
        && source_ok != Some(false)
        && voice_ok != Some(false)
        && forbidden_found.is_empty()
        && grounded;
    Detail {
        case: case.clone(),
        reply: reply.clone(),
        result: CaseResult {
            id: case.id.clone(),
            route: reply.route,
            pass,
            missing_facts: missing,
            forbidden_found,
            cited,
            grounded,
            ms: reply.ms,
            reply: rendered.to_string(),
            triage: reply.stages.triage.clone(),
        },
        facts_ok,
        source_ok,
        voice_ok,
        ungrounded,
    }
}

fn share(hits: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        hits as f64 / total as f64
    }
}

fn summarise(details: Vec<(&Case, &Detail)>) -> Summary {
    let n = details.len();
    let mut by_route: BTreeMap<String, RouteCount> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut route_ok, mut esc, mut esc_ok) = (0, 0, 0);
    let (mut calm, mut alarms) = (0, 0);
    let (mut fact_n, mut fact_ok, mut src_n, mut src_ok) = (0, 0, 0, 0);
    let (mut ans_n, mut grounded, mut voice_n, mut voice_ok) = (0, 0, 0, 0);
    let mut ms: Vec<f64> = Vec::with_capacity(n);
    for (case, d) in &details {
        let expected = case.expect.route;
        let got = d.result.route;
        let rc = by_route.entry(expected.as_str().to_string()).or_default();
        rc.cases += 1;
        if expected == got {
            rc.correct += 1;
            route_ok += 1;
        }
        *confusion
            .entry(expected.as_str().to_string())
            .or_default()
            .entry(got.as_str().to_string())
            .or_default() += 1;
        if expected == Route::Escalate {
            esc += 1;
            esc_ok += usize::from(got == Route::Escalate);
        } else {
            calm += 1;
            alarms += usize::from(got == Route::Escalate);
        }
        if let Some(ok) = d.facts_ok {
            fact_n += 1;
            fact_ok += usize::from(ok);
        }
        if let Some(ok) = d.source_ok {
            src_n += 1;
            src_ok += usize::from(ok);
        }
        if got == Route::Answer {
            ans_n += 1;
            grounded += usize::from(d.result.grounded);
        }
        if let Some(ok) = d.voice_ok {
            voice_n += 1;
            voice_ok += usize::from(ok);
        }
        ms.push(d.result.ms);
    }
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if ms.is_empty() {
            0.0
        } else {
            ms[((ms.len() as f64 - 1.0) * p).round() as usize]
        }
    };
    Summary {
        cases: n,
        route_accuracy: share(route_ok, n),
        escalate_recall: share(esc_ok, esc),
        false_alarm_rate: if calm == 0 {
            0.0
        } else {
            alarms as f64 / calm as f64
        },
        fact_recall: share(fact_ok, fact_n),
        source_recall_at_3: share(src_ok, src_n),
        grounded_rate: share(grounded, ans_n),
        voice_ok_rate: share(voice_ok, voice_n),
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        by_route,
        confusion,
        results: details.iter().map(|(_, d)| d.result.clone()).collect(),
    }
}

/// Minimum figures a run must reach; `None` means not checked.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    pub route_accuracy: Option<f64>,
    pub escalate_recall: Option<f64>,
    pub decline_accuracy: Option<f64>,
    pub fact_recall: Option<f64>,
    pub source_recall: Option<f64>,
    pub grounded_rate: Option<f64>,
    pub voice_ok_rate: Option<f64>,
    pub max_p95_ms: Option<f64>,
    pub max_false_alarm_rate: Option<f64>,
}

impl Thresholds {
    /// Every missed threshold, described for a person.
    pub fn misses(&self, s: &Summary) -> Vec<String> {
        let mut out = Vec::new();
        let mut min = |name: &str, got: f64, want: Option<f64>| {
            if let Some(w) = want {
                if got + 1e-9 < w {
                    out.push(format!("{name} {got:.3} is below the minimum {w:.3}"));
                }
            }
        };
        min("route accuracy", s.route_accuracy, self.route_accuracy);
        min("escalate recall", s.escalate_recall, self.escalate_recall);
        min(
            "decline accuracy",
            s.route_recall(Route::Decline),
            self.decline_accuracy,
        );
        min("fact recall", s.fact_recall, self.fact_recall);
        min(
            "source recall at 3",
            s.source_recall_at_3,
            self.source_recall,
        );
        min("grounded rate", s.grounded_rate, self.grounded_rate);
        min("voice ok rate", s.voice_ok_rate, self.voice_ok_rate);
        if let Some(max) = self.max_false_alarm_rate {
            if s.false_alarm_rate > max + 1e-9 {
                out.push(format!(
                    "false alarm rate {:.3} is above the maximum {max:.3}",
                    s.false_alarm_rate
                ));
            }
        }
        if let Some(max) = self.max_p95_ms {
            if s.p95_ms > max {
                out.push(format!(
                    "p95 latency {:.1} ms is above the maximum {max} ms",
                    s.p95_ms
                ));
            }
        }
        out
    }
}

/// Case-by-case change against an earlier run.
#[derive(Debug, Default)]
pub struct Comparison {
    pub improved: Vec<String>,
    pub regressed: Vec<String>,
    pub new_cases: Vec<String>,
    pub removed: Vec<String>,
    pub baseline: Option<Summary>,
}

pub fn compare(current: &Summary, baseline: Summary) -> Comparison {
    let before: BTreeMap<&str, bool> = baseline
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.pass))
        .collect();
    let now: BTreeMap<&str, bool> = current
        .results
        .iter()
        .map(|r| (r.id.as_str(), r.pass))
        .collect();
    let mut c = Comparison::default();
    for (id, pass) in &now {
        match before.get(id) {
            Some(false) if *pass => c.improved.push(id.to_string()),
            Some(true) if !*pass => c.regressed.push(id.to_string()),
            None => c.new_cases.push(id.to_string()),
            _ => {}
        }
    }
    c.removed = before
        .keys()
        .filter(|id| !now.contains_key(*id))
        .map(|s| s.to_string())
        .collect();
    c.baseline = Some(baseline);
    c
}

/// Reads a summary written by an earlier `signpost eval --json`.
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a summary written by `signpost eval --json`",
            path.display()
        )
    })
}

/// The independent grounding measure: each answer sentence must be
/// supported by one of the passages the reply cites.
pub mod grounding {
    use super::*;
    use crate::pipeline::Passage;

    static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[a-z0-9£]+").unwrap());
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"£?\d+(?:\.\d+)?").unwrap());
    const STOP: [&str; 24] = [
        "a", "an", "the", "and", "or", "to", "of", "in", "on", "for", "is", "are", "be", "you",
        "your", "it", "this", "that", "with", "as", "at", "by", "can", "if",
    ];

    fn content_words(text: &str) -> HashSet<String> {
        WORD.find_iter(&normalise(text))
            .map(|m| m.as_str().to_string())
            .filter(|w| !STOP.contains(&w.as_str()))
            .collect()
    }

    /// Share of a sentence's content words found in a passage; numbers must all be there.
    pub fn support(sentence: &str, passage: &str) -> f64 {
        let s = content_words(sentence);
        if s.is_empty() {
            return 1.0;
        }
        let p = content_words(passage);
        let np = normalise(passage);
        let numbers_ok = NUMBER
            .find_iter(&normalise(sentence))
            .all(|m| np.contains(m.as_str()));
        if !numbers_ok {
            return 0.0;
        }
        s.iter().filter(|w| p.contains(*w)).count() as f64 / s.len() as f64
    }

    /// Sentences no cited passage supports (lexical overlap of at least 0.8).
    pub fn unsupported(sentences: &[String], passages: &[Passage]) -> Vec<String> {
        unsupported_with(sentences, passages, None)
    }

    /// Embedding similarity a sentence needs with a sentence of a cited
    /// passage to count as supported when the words differ (numbers must
    /// still all be in the passage).
    pub const SEMANTIC_SUPPORT: f32 = 0.85;

    /// As [`unsupported`], also accepting a sentence whose meaning matches a
    /// passage sentence (embedding similarity), when an embedder is given.
    pub fn unsupported_with(
        sentences: &[String],
        passages: &[Passage],
        embedder: Option<&crate::embed::Embedder>,
    ) -> Vec<String> {
        sentences
            .iter()
            .filter(|s| {
                let lexical = passages.iter().any(|p| support(s, &p.text) >= 0.8);
                // The embedding check runs only when the words do not match.
                let semantic =
                    !lexical && embedder.is_some_and(|e| semantic_support(e, s, passages));
                !(lexical || semantic)
            })
            .cloned()
            .collect()
    }

    fn semantic_support(e: &crate::embed::Embedder, sentence: &str, passages: &[Passage]) -> bool {
        let s_norm = normalise(sentence);
        let numbers_ok = |p: &Passage| {
            let np = normalise(&p.text);
            NUMBER.find_iter(&s_norm).all(|m| np.contains(m.as_str()))
        };
        let Ok(v) = e.embed_one(sentence) else {
            return false;
        };
        passages.iter().filter(|p| numbers_ok(p)).any(|p| {
            let parts = crate::kb::split_sentences(&p.text);
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            e.embed(&refs)
                .map(|vs| {
                    vs.iter()
                        .any(|w| crate::embed::cosine(&v, w) >= SEMANTIC_SUPPORT)
                })
                .unwrap_or(false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_follows_the_contract() {
        assert_eq!(normalise("£23,250"), "£23250");
        assert_eq!(normalise("01632 960 100"), "01632960100");
        assert_eq!(
            normalise("Don\u{2019}t  \n call \u{2013} now"),
            "don't call - now"
        );
        assert_eq!(normalise("1,234,567"), "1234567");
        assert_eq!(normalise("ＡＢＣ"), "abc");
    }

    #[test]
    fn topic_from_id() {
        let c: Case = serde_json::from_str(
            r#"{"id":"carers-003","question":"q","expect":{"route":"answer"}}"#,
        )
        .unwrap();
        assert_eq!(c.topic(), "carers");
    }

    #[test]
    fn grounding_needs_words_and_numbers_from_the_passage() {
        let passage = crate::pipeline::Passage {
            chunk: "p#0".into(),
            slug: "p".into(),
            text: "A Blue Badge costs £10 and usually lasts up to 3 years.".into(),
        };
        let unsupported = grounding::unsupported(
            &[
                "A Blue Badge costs £10.".to_string(),
                "Blue Badges cost £25.".to_string(),
            ],
            &[passage],
        );
        assert_eq!(unsupported, vec!["Blue Badges cost £25.".to_string()]);
        let p = "A Blue Badge costs £10 and usually lasts up to 3 years.";
        assert!(grounding::support("A Blue Badge costs £10.", p) >= 0.8);
        assert_eq!(grounding::support("A Blue Badge costs £15.", p), 0.0);
        assert!(grounding::support("Badges are given to every driver free of charge.", p) < 0.8);
    }
}
