//! The Alexa custom skill web service (`POST /alexa`). Every request is
//! verified on its raw body before it is parsed, in the order Amazon gives:
//! the certificate URL, the certificate chain (dates, the
//! `echo-api.amazon.com` name, a trusted root), the `Signature-256` over the
//! exact body, the timestamp, and the skill id. Any failure is HTTP 400.
//! Verified requests are answered through the shared path
//! ([`crate::server::respond`]) on the voice channel.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde_json::{json, Value};
use url::{Host, Url};

use crate::api::{ApiError, ErrorCode};
use crate::channels::ssml;
use crate::config::AlexaSettings;
use crate::pipeline::Route;
use crate::service::{ChannelId, Refusal, Service};

/// The name Amazon's signing certificate must carry.
const ECHO_API_NAME: &str = "echo-api.amazon.com";

/// Why a request was refused (said in the 400 reply and the log).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refused {
    #[error("the SignatureCertChainUrl header is missing")]
    MissingCertUrl,
    #[error("the Signature-256 header is missing")]
    MissingSignature,
    #[error("the certificate URL is not allowed: {0}")]
    CertUrl(&'static str),
    #[error("the certificate chain could not be fetched: {0}")]
    Fetch(String),
    #[error("the signing certificate is not valid: {0}")]
    Certificate(String),
    #[error("the signature does not match the request body")]
    Signature,
    #[error("the body is not an Alexa request: {0}")]
    Body(String),
    #[error("the request timestamp is missing or more than the allowed time from now")]
    Timestamp,
    #[error("the request is for a different skill")]
    Application,
}

/// Checks `SignatureCertChainUrl`: https, host `s3.amazonaws.com` (any
/// case), port 443 if given, and a path that starts `/echo.api/` once `.`
/// and `..` segments are resolved (the URL parser resolves them).
pub fn check_cert_url(raw: &str) -> Result<Url, Refused> {
    let u = Url::parse(raw.trim()).map_err(|_| Refused::CertUrl("not a URL"))?;
    if !u.scheme().eq_ignore_ascii_case("https") {
        return Err(Refused::CertUrl("it must use https"));
    }
    match u.host() {
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("s3.amazonaws.com") => {}
        _ => return Err(Refused::CertUrl("the host must be s3.amazonaws.com")),
    }
    // `port()` is None for the scheme's default (443) whether or not it was written.
    if u.port().is_some() {
        return Err(Refused::CertUrl("the port must be 443"));
    }
    if !u.path().starts_with("/echo.api/") {
        return Err(Refused::CertUrl("the path must start with /echo.api/"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Refused::CertUrl("it must not carry a user name"));
    }
    Ok(u)
}

struct Cached {
    chain: Vec<CertificateDer<'static>>,
    /// Unix time the earliest certificate in the chain expires.
    not_after: i64,
}

/// Verifies requests; holds the trusted roots and the certificate cache.
pub struct Verifier {
    roots: Vec<TrustAnchor<'static>>,
    /// Tests only: the chain to use for every URL, read once at start.
    testing_chain: Option<Arc<Cached>>,
    cache: Mutex<HashMap<String, Arc<Cached>>>,
    agent: ureq::Agent,
    max_bytes: usize,
    tolerance: u64,
    skill_id: String,
}

fn read_pem(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{} is not PEM certificates: {e:?}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no certificates", path.display());
    }
    Ok(certs)
}

fn earliest_expiry(chain: &[CertificateDer<'_>]) -> Result<i64, Refused> {
    let mut earliest = i64::MAX;
    for c in chain {
        let (_, cert) = x509_parser::parse_x509_certificate(c.as_ref())
            .map_err(|e| Refused::Certificate(format!("cannot read a certificate: {e}")))?;
        earliest = earliest.min(cert.validity().not_after.timestamp());
    }
    Ok(earliest)
}

impl Verifier {
    /// The verifier for these settings: the real roots, unless a test root
    /// is configured (said loudly in the log).
    pub fn new(s: &AlexaSettings) -> anyhow::Result<Verifier> {
        let roots = match &s.testing_trust_root {
            Some(p) => {
                tracing::warn!(path = %p.display(), "alexa.testing_trust_root is set: trusting a test root instead of the real ones (never do this in production)");
                read_pem(p)?
                    .iter()
                    .map(|c| {
                        webpki::anchor_from_trusted_cert(c)
                            .map(|a| a.to_owned())
                            .map_err(|e| {
                                anyhow::anyhow!("{} is not a usable root: {e:?}", p.display())
                            })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?
            }
            None => webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let testing_chain = match &s.testing_cert_chain {
            Some(p) => {
                tracing::warn!(path = %p.display(), "alexa.testing_cert_chain is set: certificate URLs are not fetched (never do this in production)");
                let chain = read_pem(p)?;
                let not_after =
                    earliest_expiry(&chain).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                Some(Arc::new(Cached { chain, not_after }))
            }
            None => None,
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(s.cert_fetch_timeout_ms)))
            .https_only(true)
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Verifier {
            roots,
            testing_chain,
            cache: Mutex::new(HashMap::new()),
            agent,
            max_bytes: s.cert_max_bytes,
            tolerance: s.timestamp_tolerance_seconds,
            skill_id: s.skill_id.clone(),
        })
    }

    /// The chain behind a checked URL: from the cache until the first
    /// certificate in it expires, else fetched (time limit and size cap).
    fn chain(&self, url: &Url, now: i64) -> Result<Arc<Cached>, Refused> {
        if let Some(c) = &self.testing_chain {
            return Ok(c.clone());
        }
        let key = url.as_str().to_string();
        if let Some(c) = self.cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
            if c.not_after > now {
                return Ok(c);
            }
        }
        let mut resp = self
            .agent
            .get(url.as_str())
            .call()
            .map_err(|e| Refused::Fetch(e.to_string()))?;
        if resp.status() != 200 {
            return Err(Refused::Fetch(format!("HTTP {}", resp.status())));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(self.max_bytes as u64)
            .read_to_vec()
            .map_err(|e| Refused::Fetch(e.to_string()))?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<_, _>>()
            .map_err(|_| Refused::Fetch("the file is not PEM certificates".into()))?;
        if chain.is_empty() {
            return Err(Refused::Fetch("the file holds no certificates".into()));
        }
        let cached = Arc::new(Cached {
            not_after: earliest_expiry(&chain)?,
            chain,
        });
        if let Ok(mut m) = self.cache.lock() {
            m.insert(key, cached.clone());
        }
        Ok(cached)
    }

    /// Verifies a request on its raw body; returns the parsed body.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Value, Refused> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let url = header("signaturecertchainurl").ok_or(Refused::MissingCertUrl)?;
        let signature = header("signature-256").ok_or(Refused::MissingSignature)?;
        let url = check_cert_url(url)?;
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let cached = self.chain(&url, since_epoch.as_secs() as i64)?;
        let (leaf, intermediates) = cached
            .chain
            .split_first()
            .ok_or_else(|| Refused::Certificate("empty chain".into()))?;
        let ee = webpki::EndEntityCert::try_from(leaf)
            .map_err(|e| Refused::Certificate(format!("{e:?}")))?;
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.roots,
            intermediates,
            UnixTime::since_unix_epoch(since_epoch),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| Refused::Certificate(format!("{e:?}")))?;
        let name = ServerName::try_from(ECHO_API_NAME).expect("a valid DNS name");
        ee.verify_is_valid_for_subject_name(&name)
            .map_err(|_| Refused::Certificate(format!("it is not issued to {ECHO_API_NAME}")))?;
        use base64::Engine as _;
        let sig = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|_| Refused::Signature)?;
        ee.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, body, &sig)
            .map_err(|_| Refused::Signature)?;
        // Only now is the body read.
        self.check_body(body, now)
    }

    /// Checks a body whose signature is good: JSON, a timestamp within the
    /// tolerance of `now`, and this skill's id. Returns the parsed body.
    pub fn check_body(&self, body: &[u8], now: SystemTime) -> Result<Value, Refused> {
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let v: Value = serde_json::from_slice(body).map_err(|e| Refused::Body(e.to_string()))?;
        let ts = v["request"]["timestamp"]
            .as_str()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .ok_or(Refused::Timestamp)?;
        let age = (since_epoch.as_secs() as i64 - ts.unix_timestamp()).unsigned_abs();
        if age > self.tolerance {
            return Err(Refused::Timestamp);
        }
        let app = v["context"]["System"]["application"]["applicationId"]
            .as_str()
            .or_else(|| v["session"]["application"]["applicationId"].as_str());
        if app != Some(self.skill_id.as_str()) {
            return Err(Refused::Application);
        }
        Ok(v)
    }
}

/// An Alexa response: speech as escaped SSML, an optional reprompt and card,
/// and only a conversation id in the session attributes.
fn reply(
    speech: &str,
    reprompt: Option<&str>,
    card: Option<(String, String)>,
    end: bool,
    conversation_id: Option<&str>,
) -> Response {
    let mut response = json!({
        "outputSpeech": {"type": "SSML", "ssml": ssml(speech)},
        "shouldEndSession": end,
    });
    if let Some(r) = reprompt {
        response["reprompt"] = json!({"outputSpeech": {"type": "SSML", "ssml": ssml(r)}});
    }
    if let Some((title, content)) = card {
        response["card"] = json!({"type": "Simple", "title": title, "content": content});
    }
    let mut body = json!({"version": "1.0", "response": response});
    if let Some(c) = conversation_id {
        body["sessionAttributes"] = json!({"conversation_id": c});
    }
    Json(body).into_response()
}

const REPROMPT: &str = "Do you have another question?";

/// What the endpoint reads.
#[derive(Clone)]
pub struct AlexaState {
    service: Arc<Service>,
    /// None while no skill id is set.
    verifier: Option<Arc<Verifier>>,
    /// Request ids already answered, so a captured request sent again is
    /// refused.
    seen: Arc<Replays>,
}

/// `POST /alexa`.
pub fn routes(service: Arc<Service>, verifier: Option<Arc<Verifier>>) -> axum::Router {
    // A request is refused once its timestamp is further than the tolerance
    // from now, so ids need only be remembered for twice that.
    let window = Duration::from_secs(2 * service.config().alexa.timestamp_tolerance_seconds.max(1));
    axum::Router::new()
        .route("/alexa", axum::routing::post(endpoint))
        .with_state(AlexaState {
            service,
            verifier,
            seen: Arc::new(Replays::new(window)),
        })
}

/// Request ids seen within a time window.
pub struct Replays {
    window: Duration,
    seen: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl Replays {
    pub fn new(window: Duration) -> Replays {
        Replays {
            window,
            seen: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// True the first time an id is seen within the window; false again.
    pub fn first_time(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if seen.len() >= 1024 {
            seen.retain(|_, at| now.duration_since(*at) < self.window);
        }
        match seen.get(id) {
            Some(at) if now.duration_since(*at) < self.window => false,
            _ => {
                seen.insert(id.to_string(), now);
                true
            }
        }
    }
}

async fn endpoint(State(state): State<AlexaState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(verifier) = state.verifier.clone() else {
        return ApiError::new(
            ErrorCode::AlexaOff,
            "The Alexa endpoint is off. Set alexa.skill_id in signpost.toml (or SIGNPOST_ALEXA_SKILL_ID) to turn it on.",
        )
        .into_response();
    };
    let checked =
        tokio::task::spawn_blocking(move || verifier.verify(&headers, &body, SystemTime::now()))
            .await;
    let v = match checked {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::warn!(reason = %e, "alexa request refused");
            return ApiError::new(ErrorCode::NotVerified, format!("Request refused: {e}."))
                .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "alexa verification failed");
            return ApiError::new(ErrorCode::NotVerified, "Request refused.").into_response();
        }
    };
    let request_id = v["request"]["requestId"].as_str().unwrap_or("");
    if request_id.is_empty() || !state.seen.first_time(request_id) {
        tracing::warn!(
            reason = "replayed or without a request id",
            "alexa request refused"
        );
        return ApiError::new(
            ErrorCode::NotVerified,
            "Request refused: this request was already answered, or has no request id.",
        )
        .into_response();
    }
    let c = &state.service.config().council;
    let conversation = v["session"]["attributes"]["conversation_id"]
        .as_str()
        .map(str::to_string);
    let welcome = format!(
        "Welcome to {}'s adult social care helper. You can ask me things like, how much does a Blue Badge cost, or, what is a carer's assessment. What would you like to know?",
        c.name
    );
    let help = format!(
        "I answer questions about adult social care from {}'s advice pages. Try saying, ask about help at home after hospital. To talk to a person, call {}. What would you like to know?",
        c.name, c.front_door()
    );
    let fallback = "Sorry, I can only help with questions about adult social care. You could ask about paying for care, carers, equipment, or Blue Badges. What would you like to know?";
    let request_type = v["request"]["type"].as_str().unwrap_or("");
    match request_type {
        "LaunchRequest" => reply(
            &welcome,
            Some(REPROMPT),
            None,
            false,
            conversation.as_deref(),
        ),
        "SessionEndedRequest" => Json(json!({"version": "1.0", "response": {}})).into_response(),
        "IntentRequest" => {
            let intent = v["request"]["intent"]["name"].as_str().unwrap_or("");
            match intent {
                "AskQuestionIntent" => {
                    let question = v["request"]["intent"]["slots"]["question"]["value"]
                        .as_str()
                        .map(str::trim)
                        .filter(|q| !q.is_empty());
                    let user = v["context"]["System"]["user"]["userId"]
                        .as_str()
                        .or(v["session"]["user"]["userId"].as_str())
                        .unwrap_or("");
                    match question {
                        Some(_) if !state.service.allow_speaker(ChannelId::Alexa, user) => {
                            tracing::warn!(channel = "alexa", "rate limit reached");
                            reply(
                                &state.service.over_limit_reply(),
                                Some(REPROMPT),
                                None,
                                false,
                                conversation.as_deref(),
                            )
                        }
                        Some(q) => answer(state.service.clone(), q.to_string(), conversation).await,
                        None => reply(
                            "What would you like to ask about?",
                            Some("You can ask about things like paying for care or getting equipment. What would you like to ask?"),
                            None,
                            false,
                            conversation.as_deref(),
                        ),
                    }
                }
                "AMAZON.HelpIntent" => {
                    reply(&help, Some(REPROMPT), None, false, conversation.as_deref())
                }
                "AMAZON.StopIntent" | "AMAZON.CancelIntent" => {
                    reply("Goodbye. Take care.", None, None, true, None)
                }
                "AMAZON.NavigateHomeIntent" => reply(
                    &welcome,
                    Some(REPROMPT),
                    None,
                    false,
                    conversation.as_deref(),
                ),
                _ => reply(
                    fallback,
                    Some(REPROMPT),
                    None,
                    false,
                    conversation.as_deref(),
                ),
            }
        }
        _ => Json(json!({"version": "1.0", "response": {}})).into_response(),
    }
}

/// Answers a question within the reply deadline.
async fn answer(service: Arc<Service>, question: String, conversation: Option<String>) -> Response {
    let deadline = Duration::from_millis(service.config().alexa.reply_deadline_ms);
    let c = service.config().council.clone();
    let work = service.respond(question, conversation.clone(), ChannelId::Alexa, false);
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(a)) => {
            let mut content = String::new();
            if !a.sources.is_empty() {
                content.push_str("From these pages:\n");
                for s in &a.sources {
                    content.push_str(&format!("{}: {}\n", s.title, s.url));
                }
                content.push('\n');
            }
            content.push_str(&format!(
                "To talk to a person, call {}.",
                c.front_door_hours()
            ));
            let (title, end) = if a.route == Route::Escalate {
                ("Urgent help".to_string(), true)
            } else {
                (format!("{} adult social care", c.name), false)
            };
            let reprompt = (!end).then_some(REPROMPT);
            reply(
                &a.text,
                reprompt,
                Some((title, content)),
                end,
                Some(&a.conversation_id),
            )
        }
        // Switched off: the council's contacts, said as the answer was before.
        Ok(Err(Refusal::SwitchedOff {
            reply: text,
            conversation_id,
        })) => reply(
            &text,
            Some(REPROMPT),
            Some((
                format!("{} adult social care", c.name),
                format!("To talk to a person, call {}.", c.front_door_hours()),
            )),
            false,
            Some(&conversation_id),
        ),
        Ok(Err(r)) => reply(
            &r.message(),
            Some(REPROMPT),
            None,
            false,
            conversation.as_deref(),
        ),
        Err(_) => {
            tracing::warn!("alexa reply deadline passed");
            reply(
                &format!(
                    "Sorry, I'm still looking. Please ask me again in a moment, or call {}.",
                    c.front_door()
                ),
                Some(REPROMPT),
                None,
                false,
                conversation.as_deref(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_url_rules() {
        for ok in [
            "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
            "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert-12.cer",
        ] {
            assert!(check_cert_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://notamazon.com/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
            "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
            "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../invalid.path/cert.pem",
            "https://s3.amazonaws.com.evil.example/echo.api/cert.pem",
            "https://user@s3.amazonaws.com/echo.api/cert.pem",
            "https://54.231.0.1/echo.api/cert.pem",
            "",
        ] {
            assert!(check_cert_url(bad).is_err(), "{bad}");
        }
    }
}
