//! The resident's web page: the chat (a plain HTML form that works without
//! JavaScript, enhanced with answers streamed over Server-Sent Events), the
//! "Talk to a person" call-back form, personal display settings, the
//! accessibility statement and privacy notice, the OpenAPI description, and
//! the protections every request passes through (rate limits, security
//! headers, CSRF tokens on forms). Every answer still comes from
//! [`crate::service::Service::respond`]: the page only renders it.

mod changes;
mod html;
mod pay;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::api::{answer_or_refusal, ApiError, ApiJson, ChatResponse, ErrorCode, Example, Staff};
use crate::service::{ChannelId, Refusal, Service};
use crate::store::NewCallback;

pub use html::Prefs;

const CSRF_COOKIE: &str = "sp_csrf";
pub const PREFS_COOKIE: &str = "sp_prefs";

/// What the page's handlers read: the conversation service, and whether
/// speech input is installed (to offer the microphone).
#[derive(Clone)]
pub struct WebState {
    service: Arc<Service>,
    speech: bool,
}

impl axum::extract::FromRef<WebState> for Arc<Service> {
    fn from_ref(s: &WebState) -> Arc<Service> {
        s.service.clone()
    }
}

/// The page's routes; [`crate::server::router`] merges them in.
pub fn routes(service: Arc<Service>, speech: bool) -> Router {
    Router::new()
        .route("/", get(home).post(home_post))
        .route("/api/chat/stream", post(chat_stream))
        .route("/talk-to-a-person", get(talk).post(talk_post))
        .route(pay::PATH, get(pay::page))
        .route("/settings", post(settings_post))
        .route("/accessibility", get(accessibility))
        .route("/privacy", get(privacy))
        .route("/staff/callbacks", get(staff_callbacks))
        .route(changes::PATH, get(changes::page).post(changes::decide))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .route("/static/council.css", get(council_css))
        .route("/embed.js", get(embed_js))
        .route("/embed", get(embed_page))
        .route("/api/openapi.json", get(openapi))
        .with_state(WebState { service, speech })
}

// ---------------------------------------------------------------- protections

/// Security headers on every response: a strict Content-Security-Policy (no
/// inline script or style, nothing from elsewhere), no sniffing, no referrer,
/// no framing by other sites, and the microphone only for this site.
pub async fn security_headers(
    State(framing): State<Framing>,
    req: Request,
    next: Next,
) -> Response {
    let mut r = next.run(req).await;
    // A council's own policy, set nearer its routes, stands; this fills in
    // every other response (a page not found, say).
    if r.headers().contains_key("content-security-policy") {
        return r;
    }
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    h.insert("content-security-policy", framing.policy.clone());
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    if framing.own_site_only {
        set(h, "x-frame-options", "SAMEORIGIN");
    }
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "microphone=(self), camera=(), geolocation=(), interest-cohort=()",
    );
    r
}

/// Which sites may show a council's pages in a frame: its own, and the
/// sites its `embed.allowed_sites` names.
#[derive(Clone)]
pub struct Framing {
    policy: HeaderValue,
    own_site_only: bool,
}

impl Framing {
    pub fn new(embed: &crate::config::EmbedSettings) -> anyhow::Result<Framing> {
        embed.check()?;
        let mut ancestors = String::from("'self'");
        for site in &embed.allowed_sites {
            ancestors.push(' ');
            ancestors.push_str(site);
        }
        let policy = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; media-src 'self' blob:; form-action 'self'; \
             frame-ancestors {ancestors}; base-uri 'none'"
        );
        Ok(Framing {
            policy: HeaderValue::from_str(&policy)?,
            own_site_only: embed.allowed_sites.is_empty(),
        })
    }
}

/// The client's address: the socket's peer, or the first X-Forwarded-For
/// entry when the council runs Signpost behind its own proxy.
fn client_ip(service: &Service, req: &Request) -> IpAddr {
    if service.config().server.trust_forwarded_for {
        if let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Per-client limit on everything that asks for work (every POST). Over the
/// limit, people get a page with the phone number, and API clients the
/// usual error shape; both say when to try again.
pub async fn rate_limit(State(service): State<Arc<Service>>, req: Request, next: Next) -> Response {
    // Alexa's requests all come from Amazon's addresses and are verified
    // one by one, so a per-address limit would only turn residents away.
    if req.method() != Method::POST || req.uri().path() == "/alexa" {
        return next.run(req).await;
    }
    let ip = client_ip(&service, &req);
    if service.allow(&ip.to_string()) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "rate limit reached");
    let c = &service.config().council;
    let message = format!(
        "You have sent a lot of messages in a short time. Please wait a minute and try again, or call {}.",
        c.front_door_hours()
    );
    let mut r = if req.uri().path().starts_with("/api/") {
        ApiError::new(ErrorCode::RateLimited, message).into_response()
    } else {
        let prefs = Prefs::from_headers(req.headers());
        let body = html::over_limit(service.config(), &prefs);
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    };
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

/// A cookie's value from the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The form token: the one in the visitor's cookie, or a new one with the
/// cookie that carries it (double-submit: a form is accepted only when its
/// hidden token matches the cookie, which other sites cannot read or set).
fn csrf_token(state: &WebState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(t) = cookie(headers, CSRF_COOKIE).filter(|t| valid_token(t)) {
        return (t, None);
    }
    let t = uuid::Uuid::new_v4().simple().to_string();
    let secure = secure_flag(state);
    let c = format!("{CSRF_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{secure}");
    (t.clone(), HeaderValue::from_str(&c).ok())
}

/// "; Secure" on cookies when the site is served over HTTPS (a setting).
fn secure_flag(state: &WebState) -> &'static str {
    if state.service.config().server.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

fn valid_token(t: &str) -> bool {
    t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())
}

/// A form is accepted when its token matches the cookie, or, where the
/// browser sent no cookie (the chat in a frame on the council's own site,
/// where browsers keep this site's cookies back), when the browser itself
/// says the form came from one of this site's own pages: `Sec-Fetch-Site`
/// is set by the browser and no page on another site can change it.
fn csrf_ok(headers: &HeaderMap, given: &str) -> bool {
    match cookie(headers, CSRF_COOKIE) {
        Some(c) if valid_token(&c) => crate::text::constant_time_eq(c.as_bytes(), given.as_bytes()),
        Some(_) => false,
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin"),
    }
}

fn html_response(status: StatusCode, body: String, set_cookie: Option<HeaderValue>) -> Response {
    let mut r = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    if let Some(c) = set_cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// A form body that could not be read, as a page rather than a bare error.
fn form_failure(state: &WebState, headers: &HeaderMap, e: &FormRejection) -> Response {
    let prefs = Prefs::from_headers(headers);
    let (code, what) = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        (
            ErrorCode::TooLarge,
            "What you sent was too long for us to read. Please go back and shorten it.",
        )
    } else {
        (
            ErrorCode::BadRequest,
            "We could not read the form. Please go back and try again.",
        )
    };
    let status = code.status();
    html_response(
        status,
        html::problem_page(state.service.config(), &prefs, what),
        None,
    )
}

// ---------------------------------------------------------------- the chat

async fn home(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let prefs = Prefs::from_headers(&headers);
    let (token, set) = csrf_token(&state, &headers);
    let page = html::chat_page(
        state.service.config(),
        &prefs,
        &html::ChatView {
            csrf: &token,
            conversation_id: "",
            shown: &[],
            error: None,
            draft: "",
            speech: state.speech,
        },
    );
    html_response(StatusCode::OK, page, set)
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    conversation_id: String,
    #[serde(default)]
    q: String,
}

/// The no-JavaScript path: the form posts here and the whole conversation
/// comes back as HTML.
async fn home_post(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return form_failure(&state, &headers, &e),
    };
    let prefs = Prefs::from_headers(&headers);
    let (token, set) = csrf_token(&state, &headers);
    let conv = form.conversation_id.clone();
    let shown_so_far = |state: &WebState| state.service.shown(&conv);
    let view_with_error = |state: &WebState, error: &str| {
        let shown = shown_so_far(state);
        html::chat_page(
            state.service.config(),
            &prefs,
            &html::ChatView {
                csrf: &token,
                conversation_id: &form.conversation_id,
                shown: &shown,
                error: Some(error),
                draft: &form.q,
                speech: state.speech,
            },
        )
    };
    if !csrf_ok(&headers, &form.csrf) {
        // Keep what they typed: the page comes back with it in the box.
        let page = view_with_error(
            &state,
            "Your page had expired, so your question was not sent. It is still in the box: please send it again.",
        );
        return html_response(StatusCode::FORBIDDEN, page, set);
    }
    let conversation = (!form.conversation_id.is_empty()).then(|| form.conversation_id.clone());
    match state
        .service
        .respond(form.q.clone(), conversation, ChannelId::Web, prefs.short)
        .await
    {
        Ok(a) => {
            let shown = state.service.shown(&a.conversation_id);
            let page = html::chat_page(
                state.service.config(),
                &prefs,
                &html::ChatView {
                    csrf: &token,
                    conversation_id: &a.conversation_id,
                    shown: &shown,
                    error: None,
                    draft: "",
                    speech: state.speech,
                },
            );
            html_response(StatusCode::OK, page, set)
        }
        Err(r) => {
            let page = view_with_error(&state, &r.message());
            let status = match r {
                Refusal::Empty => ErrorCode::EmptyMessage.status(),
                Refusal::TooLong { .. } => ErrorCode::MessageTooLong.status(),
                // The page itself is fine: it says the assistant is off and who to call.
                Refusal::SwitchedOff { .. } => StatusCode::OK,
                Refusal::Internal { .. } => ErrorCode::Internal.status(),
                Refusal::Busy { .. } => ErrorCode::Busy.status(),
            };
            let mut response = html_response(status, page, set);
            if let Refusal::Busy { retry_after, .. } = r {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            response
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamRequest {
    message: String,
    #[serde(default)]
    conversation_id: Option<String>,
    /// The resident's "shorter, simpler answers" setting.
    #[serde(default)]
    brief: bool,
}

impl Example for StreamRequest {
    const EXAMPLE: &'static str = "{\"message\": \"how much does a blue badge cost\"}";
}

/// Splits reply text into the pieces streamed to the page, whole sentences
/// each (with the space after them), so the text arrives as it is composed.
fn stream_pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '!' | '?' | '\n') {
            while let Some(&w) = chars.peek() {
                if !w.is_whitespace() {
                    break;
                }
                cur.push(w);
                chars.next();
            }
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `POST /api/chat/stream`: the answer as Server-Sent Events. The reply is
/// composed and checked first, then replayed as `delta` events one finished
/// sentence at a time, then one `done` event carries the whole reply, route
/// and sources (the page announces only that one).
async fn chat_stream(
    State(state): State<WebState>,
    ApiJson(req): ApiJson<StreamRequest>,
) -> Response {
    let result = state
        .service
        .respond(req.message, req.conversation_id, ChannelId::Web, req.brief)
        .await;
    let a = match answer_or_refusal(result) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let mut events: Vec<Result<Event, Infallible>> = stream_pieces(&a.text)
        .into_iter()
        .map(|p| {
            Ok(Event::default()
                .event("delta")
                .json_data(serde_json::json!({ "text": p }))
                .unwrap_or_default())
        })
        .collect();
    events.push(Ok(Event::default()
        .event("done")
        .json_data(ChatResponse::from(a))
        .unwrap_or_default()));
    let mut r = Sse::new(futures_util::stream::iter(events)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

// ---------------------------------------------------------------- settings

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    large: Option<String>,
    #[serde(default)]
    contrast: Option<String>,
    #[serde(default)]
    spacing: Option<String>,
    #[serde(default)]
    motion: Option<String>,
    #[serde(default)]
    speak: Option<String>,
    #[serde(default)]
    short: Option<String>,
}

/// Saves display settings in a cookie on the resident's device (the page's
/// script sets the same cookie at once; this is the no-JavaScript path).
async fn settings_post(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: Result<Form<SettingsForm>, FormRejection>,
) -> Response {
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return form_failure(&state, &headers, &e),
    };
    if !csrf_ok(&headers, &f.csrf) {
        let prefs = Prefs::from_headers(&headers);
        return html_response(
            StatusCode::FORBIDDEN,
            html::problem_page(
                state.service.config(),
                &prefs,
                "Your page had expired, so your settings were not saved. Please go back, reload the page and save them again.",
            ),
            None,
        );
    }
    let prefs = Prefs {
        large: f.large.is_some(),
        contrast: f.contrast.is_some(),
        spacing: f.spacing.is_some(),
        motion: f.motion.is_some(),
        speak: f.speak.is_some(),
        short: f.short.is_some(),
    };
    let secure = secure_flag(&state);
    let cookie = format!(
        "{PREFS_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        prefs.cookie_value()
    );
    let to = format!("{}/?settings=saved", state.service.config().base_path());
    let mut r = Redirect::to(&to).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// ---------------------------------------------------------------- talk to a person

async fn talk(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let prefs = Prefs::from_headers(&headers);
    let (token, set) = csrf_token(&state, &headers);
    let page = html::talk_page(
        state.service.config(),
        &prefs,
        &token,
        &CallbackForm::default(),
        &[],
    );
    html_response(StatusCode::OK, page, set)
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub best_time: String,
    #[serde(default)]
    pub question: String,
}

/// The times a resident can choose for a call back.
pub const BEST_TIMES: [(&str, &str); 3] = [
    ("any", "Any time in opening hours"),
    ("morning", "Morning"),
    ("afternoon", "Afternoon"),
];

/// A problem with one field of the call-back form.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
}

fn is_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Checks the call-back form, in the order the fields appear.
pub fn validate_callback(f: &CallbackForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = f.name.trim();
    if name.is_empty() {
        errors.push(FieldError {
            field: "name",
            message: "Enter your name, or the name you would like us to use",
        });
    } else if name.chars().count() > 100 {
        errors.push(FieldError {
            field: "name",
            message: "Name must be 100 characters or fewer",
        });
    }
    let contact = f.contact.trim();
    if contact.is_empty() {
        errors.push(FieldError {
            field: "contact",
            message: "Enter a phone number or email address so we can contact you",
        });
    } else if !crate::text::is_uk_phone(contact) && !is_email(contact) {
        errors.push(FieldError {
            field: "contact",
            message: "Enter a UK phone number, like 01632 960 000, or an email address, like name@example.com",
        });
    }
    if !BEST_TIMES.iter().any(|(v, _)| *v == f.best_time) {
        errors.push(FieldError {
            field: "best_time",
            message: "Choose the best time to contact you",
        });
    }
    if f.question.chars().count() > 1000 {
        errors.push(FieldError {
            field: "question",
            message: "What you would like to talk about must be 1,000 characters or fewer",
        });
    }
    errors
}

/// Stores a call-back request. The details are never logged.
async fn talk_post(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: Result<Form<CallbackForm>, FormRejection>,
) -> Response {
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return form_failure(&state, &headers, &e),
    };
    let prefs = Prefs::from_headers(&headers);
    let (token, set) = csrf_token(&state, &headers);
    let config = state.service.config();
    if !csrf_ok(&headers, &f.csrf) {
        let errors = [FieldError {
            field: "name",
            message: "Your page had expired, so your request was not sent. Check your details and send it again",
        }];
        let page = html::talk_page(config, &prefs, &token, &f, &errors);
        return html_response(StatusCode::FORBIDDEN, page, set);
    }
    let errors = validate_callback(&f);
    if !errors.is_empty() {
        let page = html::talk_page(config, &prefs, &token, &f, &errors);
        return html_response(StatusCode::UNPROCESSABLE_ENTITY, page, set);
    }
    let request = NewCallback {
        name: f.name.trim().to_string(),
        contact: f.contact.trim().to_string(),
        best_time: f.best_time.clone(),
        question: f.question.trim().to_string(),
    };
    // The write waits for the database if another process holds it, so it
    // runs off the threads that serve other people.
    let service = state.service.clone();
    let saved = tokio::task::spawn_blocking(move || service.store().add_callback(&request))
        .await
        .unwrap_or_else(|e| Err(anyhow::anyhow!("the write stopped: {e}")));
    match saved {
        Ok(id) => {
            tracing::info!(callback = id, "call-back request stored");
            html_response(StatusCode::OK, html::talk_done_page(config, &prefs), set)
        }
        Err(e) => {
            tracing::error!(error = %e, "call-back request not stored");
            let c = &config.council;
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                html::problem_page(
                    config,
                    &prefs,
                    &format!(
                        "Sorry, we could not save your request. Please call {} or email {}.",
                        c.front_door_hours(),
                        c.email
                    ),
                ),
                None,
            )
        }
    }
}

/// Staff list of call-back requests, behind the admin token; audited.
async fn staff_callbacks(State(state): State<WebState>, _: Staff) -> Response {
    let _ = state
        .service
        .store()
        .audit("staff", "view", "/staff/callbacks");
    match state.service.store().callbacks() {
        Ok(list) => html_response(
            StatusCode::OK,
            html::staff_callbacks_page(state.service.config(), &list),
            None,
        ),
        Err(e) => {
            tracing::error!(error = %e, "call-back list failed");
            ApiError::new(
                ErrorCode::Internal,
                "The call-back list could not be read; see the server log.",
            )
            .into_response()
        }
    }
}

// ---------------------------------------------------------------- static pages

async fn accessibility(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let prefs = Prefs::from_headers(&headers);
    html_response(
        StatusCode::OK,
        html::accessibility_page(state.service.config(), &prefs),
        None,
    )
}

async fn privacy(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let prefs = Prefs::from_headers(&headers);
    html_response(
        StatusCode::OK,
        html::privacy_page(state.service.config(), &prefs),
        None,
    )
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("assets/app.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("assets/app.js"),
    )
        .into_response()
}

/// The council's colour, for the banner (branding.accent, checked when the
/// settings are read).
async fn council_css(State(state): State<WebState>) -> Response {
    let accent = state
        .service
        .config()
        .branding
        .accent()
        .ok()
        .flatten()
        .unwrap_or_else(|| "#0b0c0c".into());
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        format!(":root {{ --accent: {accent}; }}\n"),
    )
        .into_response()
}

/// The script a council adds to its own website to offer the chat there
/// (see `embed.js`), in the council's colour.
async fn embed_js(State(state): State<WebState>) -> Response {
    let mut script = include_str!("assets/embed.js").to_string();
    if let Ok(Some(accent)) = state.service.config().branding.accent() {
        script = script.replacen(
            "var accent = \"#1d4f91\";",
            &format!("var accent = \"{accent}\";"),
            1,
        );
    }
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            // Loaded by the council's own pages, from another site.
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        script,
    )
        .into_response()
}

/// For the council's web team: the line to add to their pages, the plain
/// link for pages that want no script, and which sites may show the chat.
async fn embed_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let config = state.service.config();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if config.server.secure_cookies {
        "https"
    } else {
        "http"
    };
    let here = format!("{scheme}://{host}{}", config.base_path());
    let prefs = Prefs::from_headers(&headers);
    let page = html::embed_page(config, &prefs, &here);
    html_response(StatusCode::OK, page, None)
}

/// The OpenAPI description of the public API.
pub const OPENAPI: &str = include_str!("assets/openapi.json");

/// The description with this server's own limit on a message's length.
pub fn openapi_for(config: &crate::config::Config) -> String {
    OPENAPI.replace(
        "\"maxLength\": 2000",
        &format!("\"maxLength\": {}", config.server.max_message_chars),
    )
}

async fn openapi(State(state): State<WebState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi_for(state.service.config()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_pieces_rebuild_the_text_exactly() {
        let t = "A Blue Badge costs £10. It lasts 3 years!\n\nCall 01632 960100. ok";
        let p = stream_pieces(t);
        assert_eq!(p.concat(), t);
        assert_eq!(p[0], "A Blue Badge costs £10. ");
        assert!(p.len() >= 4, "{p:?}");
    }

    #[test]
    fn callback_form_checks_each_field() {
        let good = CallbackForm {
            name: "Pat".into(),
            contact: "01632 960 999".into(),
            best_time: "morning".into(),
            ..Default::default()
        };
        assert!(validate_callback(&good).is_empty());
        for contact in ["pat@example.com", "+44 1632 960999", "07700 900123"] {
            let f = CallbackForm {
                contact: contact.into(),
                ..good_clone(&good)
            };
            assert!(validate_callback(&f).is_empty(), "{contact}");
        }
        for contact in ["12345", "pat@", "call me", "0163 abc 0000"] {
            let f = CallbackForm {
                contact: contact.into(),
                ..good_clone(&good)
            };
            let e = validate_callback(&f);
            assert_eq!(e.len(), 1, "{contact}");
            assert_eq!(e[0].field, "contact");
        }
        let empty = validate_callback(&CallbackForm::default());
        let fields: Vec<_> = empty.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "contact", "best_time"]);
    }

    fn good_clone(f: &CallbackForm) -> CallbackForm {
        CallbackForm {
            csrf: f.csrf.clone(),
            name: f.name.clone(),
            contact: f.contact.clone(),
            best_time: f.best_time.clone(),
            question: f.question.clone(),
        }
    }

    #[test]
    fn cookies_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sp_csrf=0123456789abcdef0123456789abcdef; b=2"),
        );
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert!(csrf_ok(&h, "0123456789abcdef0123456789abcdef"));
        assert!(!csrf_ok(&h, "0123456789abcdef0123456789abcdee"));
        assert!(!csrf_ok(&h, ""));
        assert!(!csrf_ok(&HeaderMap::new(), ""));
    }

    #[test]
    fn openapi_is_valid_json_with_every_public_route() {
        let v: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        for p in [
            "/api/chat",
            "/api/chat/stream",
            "/api/conversation/process",
            "/api/transcribe",
            "/api/voice",
            "/healthz",
            "/readyz",
            "/metrics",
        ] {
            assert!(v["paths"][p].is_object(), "{p} missing");
        }
        let e = &v["components"]["schemas"]["Error"];
        assert_eq!(e["required"], serde_json::json!(["error", "message"]));
    }

    #[test]
    fn openapi_gives_this_servers_message_limit() {
        let mut config = crate::config::Config::default();
        config.server.max_message_chars = 750;
        let v: serde_json::Value = serde_json::from_str(&openapi_for(&config)).unwrap();
        let s = &v["components"]["schemas"];
        assert_eq!(s["ChatRequest"]["properties"]["message"]["maxLength"], 750);
        assert_eq!(
            s["StreamRequest"]["properties"]["message"]["maxLength"],
            750
        );
        let p = &v["paths"]["/api/conversation/process"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"]["properties"]["text"];
        assert_eq!(p["maxLength"], 750);
    }
}
