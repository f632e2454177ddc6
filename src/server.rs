//! HTTP: `POST /api/chat` and `GET /healthz`. Handlers parse, call
//! [`Engine::answer`], and render; they never re-implement a stage.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::channels::Channel;
use crate::pipeline::{Engine, Question, Role, Route, Source, Turn};
use crate::store::Store;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Turns of history kept per conversation (user and assistant together).
const HISTORY_TURNS: usize = 6;

pub struct AppState {
    pub engine: Engine,
    pub(crate) conversations: Mutex<Conversations>,
    pub store: Store,
    /// Per-client limit on messages and forms (None when switched off).
    pub(crate) limiter: Option<governor::DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Alexa request verification (None while no skill id is set).
    pub(crate) alexa: Option<Arc<crate::speakers::alexa::Verifier>>,
    /// Speech to text (None when no speech model is installed).
    pub(crate) speech: Option<Arc<crate::speech::Transcriber>>,
}

const KILL_SWITCH: &str = "kill_switch";

impl AppState {
    /// Whether staff have switched the assistant off.
    pub fn switched_off(&self) -> bool {
        self.store.setting(KILL_SWITCH).as_deref() == Some("on")
    }

    /// What every channel says while the assistant is switched off.
    pub fn switched_off_reply(&self) -> String {
        let c = &self.engine.config().council;
        format!(
            "The online assistant is not available at the moment. Please call {} on {} ({}) or email {}. If someone is in danger, call 999. Out of hours, call {}.",
            c.front_door_name, c.phone, c.hours, c.email, c.out_of_hours_phone
        )
    }
}

/// One exchange as the web page shows it (the question already redacted).
#[derive(Debug, Clone)]
pub struct Shown {
    pub question: String,
    pub route: Route,
    pub reply: String,
    pub sources: Vec<Source>,
}

/// Exchanges kept for the no-JavaScript page of one conversation.
const SHOWN_MAX: usize = 20;

#[derive(Default)]
struct Conversation {
    turns: Vec<Turn>,
    shown: Vec<Shown>,
}

/// Recent turns per conversation, in memory only, forgotten after the TTL.
pub(crate) struct Conversations {
    map: HashMap<String, (Instant, Conversation)>,
    ttl: Duration,
    max: usize,
}

impl Conversations {
    fn history(&mut self, id: &str) -> Vec<Turn> {
        self.expire();
        self.map
            .get(id)
            .map(|(_, c)| c.turns.clone())
            .unwrap_or_default()
    }

    /// The exchanges so far, for the page that shows the whole conversation.
    pub(crate) fn shown(&mut self, id: &str) -> Vec<Shown> {
        self.expire();
        self.map
            .get(id)
            .map(|(_, c)| c.shown.clone())
            .unwrap_or_default()
    }

    fn record(&mut self, id: &str, user: &str, assistant: &str, shown: Shown) {
        if self.map.len() >= self.max && !self.map.contains_key(id) {
            // Full: forget the conversation idle longest.
            if let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
            {
                self.map.remove(&oldest);
            }
        }
        let entry = self
            .map
            .entry(id.to_string())
            .or_insert_with(|| (Instant::now(), Conversation::default()));
        entry.0 = Instant::now();
        let c = &mut entry.1;
        c.turns.push(Turn {
            role: Role::User,
            text: user.to_string(),
        });
        c.turns.push(Turn {
            role: Role::Assistant,
            text: assistant.to_string(),
        });
        let excess = c.turns.len().saturating_sub(HISTORY_TURNS);
        c.turns.drain(..excess);
        c.shown.push(shown);
        let excess = c.shown.len().saturating_sub(SHOWN_MAX);
        c.shown.drain(..excess);
    }

    fn expire(&mut self) {
        let ttl = self.ttl;
        self.map.retain(|_, (t, _)| t.elapsed() < ttl);
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    pub message: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// The answer as every JSON API gives it (`/api/chat`, the stream's `done`
/// event, and `/api/voice` with its transcript).
#[derive(Debug, Serialize)]
pub struct ChatResponse {
    pub route: &'static str,
    pub reply: String,
    pub sources: Vec<Source>,
    pub grounded: bool,
    pub ms: f64,
    pub conversation_id: String,
}

impl From<Answered> for ChatResponse {
    fn from(a: Answered) -> Self {
        ChatResponse {
            route: a.route.as_str(),
            reply: a.text,
            sources: a.sources,
            grounded: a.grounded,
            ms: a.ms,
            conversation_id: a.conversation_id,
        }
    }
}

/// The error shape every API error uses.
#[derive(Debug, Serialize)]
pub struct ApiError {
    pub error: &'static str,
    pub message: String,
}

pub(crate) fn api_error(status: StatusCode, error: &'static str, message: String) -> Response {
    (status, Json(ApiError { error, message })).into_response()
}

/// A request the shared path could not answer: the web page shows it as
/// HTML, the API as an [`ApiError`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: StatusCode,
    pub error: &'static str,
    pub message: String,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        api_error(self.status, self.error, self.message)
    }
}

/// The friendly reading of a JSON body that could not be used.
pub(crate) fn json_failure(e: &JsonRejection, example: &str) -> Failure {
    match e {
        JsonRejection::MissingJsonContentType(_) => Failure {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: "unsupported_media_type",
            message: "Send the question as JSON with the header Content-Type: application/json."
                .into(),
        },
        e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Failure {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: "too_large",
            message: "That request is too large. Please send a shorter question.".into(),
        },
        e => Failure {
            status: StatusCode::BAD_REQUEST,
            error: "bad_request",
            message: format!(
                "The request could not be read: {}. Send JSON like {example}.",
                e.body_text()
            ),
        },
    }
}

/// Builds the router over a loaded engine.
pub fn router(engine: Engine) -> anyhow::Result<Router> {
    Ok(app(engine)?.0)
}

/// The router and the state behind it (shared with the Wyoming server).
pub fn app(engine: Engine) -> anyhow::Result<(Router, Arc<AppState>)> {
    let store = Store::open(&engine.config().data_dir)?;
    let s = &engine.config().server;
    let conversations = Conversations {
        map: HashMap::new(),
        ttl: Duration::from_secs(s.conversation_ttl_minutes * 60),
        max: s.max_conversations,
    };
    let body_limit = s.max_body_bytes;
    let limiter = std::num::NonZeroU32::new(s.rate_limit_per_minute)
        .map(|n| governor::RateLimiter::keyed(governor::Quota::per_minute(n)));
    let alexa = if engine.config().alexa.skill_id.is_empty() {
        None
    } else {
        Some(Arc::new(crate::speakers::alexa::Verifier::new(
            &engine.config().alexa,
        )?))
    };
    let speech = match crate::speech::model_path(engine.config()).and_then(|p| {
        p.map(|p| crate::speech::Transcriber::load(&p, engine.config()).map(|t| (p, t)))
            .transpose()
    }) {
        Ok(Some((p, t))) => {
            tracing::info!(model = %p.display(), "speech input ready");
            Some(Arc::new(t))
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "speech input is off");
            None
        }
    };
    let speech_limit = engine.config().speech.max_upload_bytes;
    let state = Arc::new(AppState {
        engine,
        conversations: Mutex::new(conversations),
        store,
        limiter,
        alexa,
        speech,
    });
    spawn_retention(state.clone());
    let router = Router::new()
        .route("/api/chat", post(chat))
        .route("/api/conversation/process", post(conversation_process))
        .route("/healthz", get(healthz))
        .route("/staff/eval", get(staff_eval))
        .route("/staff/gaps", get(staff_gaps))
        .route("/staff/audit", get(staff_audit))
        .route("/staff/kill-switch", post(staff_kill_switch))
        .route("/alexa", post(crate::speakers::alexa::endpoint))
        .route(
            "/api/transcribe",
            post(crate::speech::http::transcribe_handler)
                .layer(DefaultBodyLimit::max(speech_limit)),
        )
        .route(
            "/api/voice",
            post(crate::speech::http::voice_handler).layer(DefaultBodyLimit::max(speech_limit)),
        )
        .merge(crate::web::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::rate_limit,
        ))
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(crate::web::security_headers))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    Ok((router, state))
}

/// Deletes stored conversations past the retention period, at start and hourly.
fn spawn_retention(state: Arc<AppState>) {
    let days = state.engine.config().privacy.retention_days;
    let callback_days = state.engine.config().privacy.callback_retention_days;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match state.store.delete_older_than(days) {
                Ok(n) if n > 0 => tracing::info!(deleted = n, days, "old conversations deleted"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention clean-up failed"),
            }
            match state.store.delete_callbacks_older_than(callback_days) {
                Ok(n) if n > 0 => {
                    tracing::info!(
                        deleted = n,
                        days = callback_days,
                        "old call-back requests deleted"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "call-back clean-up failed"),
            }
            if let Some(l) = &state.limiter {
                l.retain_recent();
            }
        }
    });
}

/// Checks the admin token from `Authorization: Bearer TOKEN` or HTTP Basic
/// (any user name, the token as password). `Some` is the refusal to send.
pub(crate) fn staff_refusal(state: &AppState, headers: &axum::http::HeaderMap) -> Option<Response> {
    use base64::Engine as _;
    let token = &state.engine.config().staff.admin_token;
    if token.is_empty() {
        return Some(api_error(
            StatusCode::NOT_FOUND,
            "staff_pages_off",
            "Staff pages are off. Set staff.admin_token in signpost.toml (or SIGNPOST_ADMIN_TOKEN) to turn them on.".into(),
        ));
    }
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            if let Some(b) = v.strip_prefix("Bearer ") {
                Some(b.trim().to_string())
            } else {
                let raw = v.strip_prefix("Basic ")?;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(raw.trim())
                    .ok()?;
                let text = String::from_utf8(decoded).ok()?;
                text.split_once(':').map(|(_, p)| p.to_string())
            }
        });
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => None,
        _ => {
            tracing::warn!("staff page refused: missing or wrong admin token");
            let mut r = api_error(
                StatusCode::UNAUTHORIZED,
                "unauthorised",
                "Enter the staff admin token to see this page.".into(),
            );
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(
                    "Basic realm=\"Signpost staff\", charset=\"UTF-8\"",
                ),
            );
            Some(r)
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The latest evaluation report, written by `signpost eval`.
async fn staff_eval(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(r) = staff_refusal(&state, &headers) {
        return r;
    }
    tracing::info!(page = "eval", "staff page viewed");
    let _ = state.store.audit("staff", "view", "/staff/eval");
    let path = state.engine.config().data_dir.join("eval/latest.html");
    match tokio::fs::read_to_string(&path).await {
        Ok(html) => (
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>No evaluation yet</title></head><body><h1>No evaluation report yet</h1><p>Run <code>signpost eval eval/cases.jsonl</code> on this server, then reload this page.</p></body></html>",
        )
            .into_response(),
    }
}

/// Unanswered questions (content gaps) as CSV: dates and redacted questions only.
async fn staff_gaps(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(r) = staff_refusal(&state, &headers) {
        return r;
    }
    let _ = state.store.audit("staff", "export", "content gaps");
    if !state.engine.config().privacy.store_conversations {
        return api_error(
            StatusCode::NOT_FOUND,
            "storage_off",
            "Conversation storage is off, so there are no unanswered questions to export. Turn it on with privacy.store_conversations.".into(),
        );
    }
    let gaps = match state.store.gaps() {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "gaps export failed");
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The export failed; see the server log.".into(),
            );
        }
    };
    let mut csv = String::from("date,question\n");
    for g in gaps {
        // Redacted again on the way out, in case an older record predates a rule.
        let q = crate::privacy::redact(&g.question).replace('"', "\"\"");
        csv.push_str(&format!("{},\"{}\"\n", g.date, q));
    }
    (
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response()
}

async fn staff_audit(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(r) = staff_refusal(&state, &headers) {
        return r;
    }
    let _ = state.store.audit("staff", "view", "/staff/audit");
    let rows: Vec<serde_json::Value> = state
        .store
        .audit_log()
        .unwrap_or_default()
        .into_iter()
        .map(|(at, actor, action, detail)| serde_json::json!({"at": at, "actor": actor, "action": action, "detail": detail}))
        .collect();
    Json(rows).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillSwitch {
    on: bool,
}

/// Switches the assistant off (every channel gives the council's contact
/// details) or back on. Audited.
async fn staff_kill_switch(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<Json<KillSwitch>, JsonRejection>,
) -> Response {
    if let Some(r) = staff_refusal(&state, &headers) {
        return r;
    }
    let Ok(Json(k)) = body else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send {\"on\": true} or {\"on\": false}.".into(),
        );
    };
    let value = if k.on { "on" } else { "off" };
    if let Err(e) = state.store.set_setting(KILL_SWITCH, value) {
        tracing::error!(error = %e, "kill switch not saved");
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "The kill switch could not be saved.".into(),
        );
    }
    let _ = state.store.audit("staff", "kill-switch", value);
    tracing::warn!(kill_switch = value, "kill switch changed by staff");
    Json(serde_json::json!({"kill_switch": value})).into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let e = &state.engine;
    Json(serde_json::json!({
        "status": "ok",
        "pages": e.kb().pages.len(),
        "chunks": e.index().chunks.len(),
        "services": e.kb().services.len(),
        "content_hash": e.kb().content_hash,
    }))
}

async fn chat(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => {
            return json_failure(&e, "{\"message\": \"how much does a blue badge cost\"}")
                .into_response()
        }
    };
    let channel = req.channel.unwrap_or_default();
    let name = if channel == Channel::Voice {
        "voice"
    } else {
        "web"
    };
    match respond(
        state,
        req.message,
        req.conversation_id,
        channel,
        name,
        false,
    )
    .await
    {
        Ok(a) => Json(ChatResponse::from(a)).into_response(),
        Err(f) => f.into_response(),
    }
}

/// Sets its flag when dropped: a request future dropped part-way (the client
/// went away) stops the model's work on it.
struct StopWhenDropped(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One answered message, as every HTTP channel gets it.
pub(crate) struct Answered {
    pub route: Route,
    pub text: String,
    pub sources: Vec<Source>,
    pub grounded: bool,
    pub ms: f64,
    pub conversation_id: String,
}

/// The work every HTTP channel shares: limits, the kill switch, the
/// conversation's history, [`Engine::answer`], redacted logging and storage.
/// `brief` asks for the shorter web answer (a resident's setting).
pub(crate) async fn respond(
    state: Arc<AppState>,
    message: String,
    conversation_id: Option<String>,
    channel: Channel,
    channel_name: &'static str,
    brief: bool,
) -> Result<Answered, Failure> {
    let max_chars = state.engine.config().server.max_message_chars;
    if message.chars().count() > max_chars {
        return Err(Failure {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: "message_too_long",
            message: format!("Please keep your question under {max_chars} characters."),
        });
    }
    if message.trim().is_empty() {
        return Err(Failure {
            status: StatusCode::BAD_REQUEST,
            error: "empty_message",
            message: "Type your question, then send it.".into(),
        });
    }
    let conversation_id = conversation_id
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 100
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if state.switched_off() {
        return Ok(Answered {
            route: Route::Decline,
            text: state.switched_off_reply(),
            sources: Vec::new(),
            grounded: true,
            ms: 0.0,
            conversation_id,
        });
    }
    let history = state
        .conversations
        .lock()
        .map(|mut c| c.history(&conversation_id))
        .unwrap_or_default();
    // If this request is dropped (the person closed the page or hung up),
    // the guard tells the model to stop.
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _stop_when_gone = StopWhenDropped(cancel.clone());
    let question = Question {
        message,
        history,
        channel,
        cancel: Some(cancel),
    };
    let worker = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let reply = worker.engine.answer(&question);
        (question, reply)
    })
    .await;
    let (question, reply) = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "answering failed");
            let c = &state.engine.config().council;
            return Err(Failure {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error: "internal",
                message: format!(
                    "Something went wrong on our side. Please try again, or call {} on {}.",
                    c.front_door_name, c.phone
                ),
            });
        }
    };
    let log_text = state.engine.config().logging.log_message_text;
    let redacted = crate::privacy::redact(&question.message);
    tracing::info!(
        channel = channel_name,
        route = reply.route.as_str(),
        triage = %reply.stages.triage,
        ms = reply.ms,
        chars = question.message.chars().count(),
        sources = reply.sources.len(),
        personal_data = !reply.stages.personal_data.is_empty(),
        // What the language model did, without any of its text.
        model_ms = reply.stages.model.as_ref().map_or(0.0, |m| m.ms.round()),
        model_busy = reply.stages.model.as_ref().is_some_and(|m| m.notes.iter().any(|n| n.contains("busy"))),
        model_late = reply.stages.model.as_ref().is_some_and(|m| {
            m.answer_from.contains("out of time") || m.notes.iter().any(|n| n.contains("Deadline"))
        }),
        message = if log_text { redacted.as_str() } else { "[not logged]" },
        "answered"
    );
    let rendered = crate::channels::render(&reply, channel, state.engine.config());
    let text = if brief && channel == Channel::Web {
        crate::channels::render_brief(&reply, state.engine.config())
    } else {
        rendered.clone()
    };
    if let Ok(mut c) = state.conversations.lock() {
        let shown = Shown {
            question: redacted.clone(),
            route: reply.route,
            reply: text.clone(),
            sources: reply.sources.clone(),
        };
        c.record(&conversation_id, &redacted, &reply.answer.join(" "), shown);
    }
    if state.engine.config().privacy.store_conversations {
        if let Err(e) = state.store.record(
            &conversation_id,
            channel_name,
            reply.route.as_str(),
            &reply.stages.triage,
            &redacted,
            &rendered,
        ) {
            tracing::error!(error = %e, "conversation not stored");
        }
    }
    Ok(Answered {
        route: reply.route,
        text,
        sources: reply.sources,
        grounded: reply.grounded,
        ms: reply.ms,
        conversation_id,
    })
}

/// Home Assistant's conversation API request (unknown fields are ignored,
/// as Home Assistant adds fields over time).
#[derive(Debug, Deserialize)]
pub struct ConversationRequest {
    pub text: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
}

/// `POST /api/conversation/process` in Home Assistant's shape, so a Home
/// Assistant voice satellite can use Signpost as its conversation agent.
/// Replies are speakable (the voice channel).
async fn conversation_process(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ConversationRequest>, JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => return json_failure(&e, "{\"text\": \"what is reablement\"}").into_response(),
    };
    let language = req.language.unwrap_or_else(|| "en".into());
    match respond(
        state,
        req.text,
        req.conversation_id,
        Channel::Voice,
        "home-assistant",
        false,
    )
    .await
    {
        Ok(a) => Json(serde_json::json!({
            // Keep the satellite listening only when Signpost asked a question.
            "continue_conversation": a.route == Route::Clarify,
            "conversation_id": a.conversation_id,
            "response": {
                "response_type": "query_answer",
                "language": language,
                "data": {"targets": [], "success": [], "failed": []},
                "speech": {"plain": {"speech": a.text, "extra_data": null}},
            },
        }))
        .into_response(),
        Err(f) => f.into_response(),
    }
}

/// Serves until Ctrl-C or SIGTERM; also the Wyoming handle server when
/// `wyoming_addr` (or `wyoming.addr`) is set.
pub async fn serve(engine: Engine, addr: &str, wyoming_addr: Option<String>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e}. Choose another address with --addr or SIGNPOST_ADDR."
        )
    })?;
    let local = listener.local_addr()?;
    let wyoming_addr = wyoming_addr
        .or_else(|| Some(engine.config().wyoming.addr.clone()))
        .filter(|a| !a.is_empty());
    tracing::info!(addr = %local, pages = engine.kb().pages.len(), "Signpost is listening");
    let (router, state) = app(engine)?;
    if let Some(w) = wyoming_addr {
        let listener = crate::speakers::wyoming::bind(&w).await?;
        tokio::spawn(crate::speakers::wyoming::serve(state.clone(), listener));
    }
    eprintln!("Signpost is listening on http://{local}");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
