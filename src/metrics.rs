//! Operations metrics in Prometheus's text format (`GET /metrics`), with the
//! prometheus-client crate: requests by route and council, latency
//! histograms, answers by route and channel, triage outcomes, the language
//! model's use and fallbacks, refusals (rate limits, busy, switched off) and
//! import runs. One set for the whole install; every series carries its
//! council. Nothing a person typed is ever a label.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Http {
    council: String,
    /// The route's pattern (`/api/chat`), never the address as sent.
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpTime {
    council: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answer {
    council: String,
    channel: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    council: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Council {
    council: String,
}

fn seconds_histogram() -> Histogram {
    // 5 ms to about 40 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Every metric the install keeps; shared by all its councils.
pub struct Metrics {
    registry: Mutex<Registry>,
    http: Family<Http, Counter>,
    http_seconds: Family<HttpTime, Histogram, fn() -> Histogram>,
    answers: Family<Answer, Counter>,
    answer_seconds: Family<Council, Histogram, fn() -> Histogram>,
    triage: Family<Outcome, Counter>,
    model: Family<Outcome, Counter>,
    refusals: Family<Outcome, Counter>,
    imports: Family<Outcome, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("signpost");
        let http = Family::<Http, Counter>::default();
        let http_seconds = Family::<HttpTime, Histogram, fn() -> Histogram>::new_with_constructor(
            seconds_histogram,
        );
        let answers = Family::<Answer, Counter>::default();
        let answer_seconds = Family::<Council, Histogram, fn() -> Histogram>::new_with_constructor(
            seconds_histogram,
        );
        let triage = Family::<Outcome, Counter>::default();
        let model = Family::<Outcome, Counter>::default();
        let refusals = Family::<Outcome, Counter>::default();
        let imports = Family::<Outcome, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests by council, route pattern, method and status",
            http.clone(),
        );
        r.register(
            "http_request_seconds",
            "Time to the response's headers, by council and route pattern",
            http_seconds.clone(),
        );
        r.register(
            "answers",
            "Questions answered, by council, channel and route (answer, escalate, clarify, decline)",
            answers.clone(),
        );
        r.register(
            "answer_seconds",
            "Time to answer a question (triage to verification), by council",
            answer_seconds.clone(),
        );
        r.register(
            "triage",
            "Triage outcomes by council (proceed, or escalate, clarify or decline with its kind)",
            triage.clone(),
        );
        r.register(
            "model_jobs",
            "The language model's part in each answer: none, used, or a fallback (busy, late)",
            model.clone(),
        );
        r.register(
            "refusals",
            "Messages refused before answering, by reason (rate-limited, busy, switched-off, too-long, empty)",
            refusals.clone(),
        );
        r.register(
            "import_runs",
            "Scheduled imports of the council's site and services, by result",
            imports.clone(),
        );
        Metrics {
            registry: Mutex::new(r),
            http,
            http_seconds,
            answers,
            answer_seconds,
            triage,
            model,
            refusals,
            imports,
        }
    }

    /// The council's name in the labels: its id, or "default" for an
    /// install with one council.
    pub fn label(council_id: &str) -> String {
        if council_id.is_empty() {
            "default".into()
        } else {
            council_id.to_string()
        }
    }

    pub fn http(&self, council: &str, route: &str, method: &str, status: u16, seconds: f64) {
        self.http
            .get_or_create(&Http {
                council: council.into(),
                route: route.into(),
                method: method.into(),
                status: status.to_string(),
            })
            .inc();
        self.http_seconds
            .get_or_create(&HttpTime {
                council: council.into(),
                route: route.into(),
            })
            .observe(seconds);
    }

    /// One answered question. `triage` is the stage's own summary
    /// ("proceed", "escalate: fall", ...); only its words before any
    /// detail are kept.
    pub fn answer(
        &self,
        council: &str,
        channel: &str,
        route: &str,
        triage: &str,
        model: &str,
        seconds: f64,
    ) {
        self.answers
            .get_or_create(&Answer {
                council: council.into(),
                channel: channel.into(),
                route: route.into(),
            })
            .inc();
        self.answer_seconds
            .get_or_create(&Council {
                council: council.into(),
            })
            .observe(seconds);
        self.triage
            .get_or_create(&Outcome {
                council: council.into(),
                outcome: triage_outcome(triage),
            })
            .inc();
        self.model
            .get_or_create(&Outcome {
                council: council.into(),
                outcome: model.into(),
            })
            .inc();
    }

    pub fn refusal(&self, council: &str, reason: &str) {
        self.refusals
            .get_or_create(&Outcome {
                council: council.into(),
                outcome: reason.into(),
            })
            .inc();
    }

    pub fn import(&self, council: &str, result: &str) {
        self.imports
            .get_or_create(&Outcome {
                council: council.into(),
                outcome: result.into(),
            })
            .inc();
    }

    /// Everything, in Prometheus's text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let r = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &r) {
            tracing::error!(error = %e, "metrics could not be written");
        }
        out
    }
}

/// "escalate: fall (pattern)" → "escalate:fall"; "proceed" → "proceed". Kinds
/// are Signpost's own words, never the resident's.
fn triage_outcome(summary: &str) -> String {
    let mut words = summary
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("unknown").to_ascii_lowercase();
    match first.as_str() {
        "escalate" | "caution" | "clarify" | "decline" => match words.next() {
            Some(kind) => format!("{first}:{}", kind.to_ascii_lowercase()),
            None => first,
        },
        _ => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_carry_their_council_and_print_as_prometheus_text() {
        let m = Metrics::new();
        m.answer("wrenfield", "web", "answer", "proceed", "none", 0.02);
        m.answer(
            "northbay",
            "voice",
            "escalate",
            "escalate: fall",
            "none",
            0.01,
        );
        m.refusal("northbay", "rate-limited");
        m.http("northbay", "/api/chat", "POST", 200, 0.03);
        let text = m.encode();
        assert!(
            text.contains(
                "signpost_answers_total{council=\"wrenfield\",channel=\"web\",route=\"answer\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "signpost_triage_total{council=\"northbay\",outcome=\"escalate:fall\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "signpost_refusals_total{council=\"northbay\",outcome=\"rate-limited\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("signpost_http_request_seconds_bucket{"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn triage_summaries_become_short_outcomes() {
        assert_eq!(triage_outcome("proceed"), "proceed");
        assert_eq!(triage_outcome("escalate: fall (pattern)"), "escalate:fall");
        assert_eq!(triage_outcome("decline: off-topic"), "decline:off-topic");
        assert_eq!(
            triage_outcome("caution:financial-abuse (semantic 0.65: \"...\")"),
            "caution:financial-abuse"
        );
        assert_eq!(triage_outcome(""), "unknown");
    }
}
