//! HTTP: the router that puts every adapter together (the web page, the JSON
//! API, speech, Alexa, staff pages), the protections every request passes
//! (rate limit, size limit, security headers, request ids), and the JSON
//! API's own handlers. Handlers parse, call [`Service::respond`] and render;
//! they never re-implement a stage.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::api::{answer_or_refusal, ApiError, ApiJson, ChatResponse, ErrorCode, Example, Staff};
use crate::pipeline::{Channel, Engine, Route};
use crate::service::{ChannelId, Service};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    pub message: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub channel: Option<Channel>,
}

impl Example for ChatRequest {
    const EXAMPLE: &'static str = "{\"message\": \"how much does a blue badge cost\"}";
}

/// Builds the router over a loaded engine.
pub fn router(engine: Engine) -> anyhow::Result<Router> {
    Ok(app(engine)?.0)
}

/// The speech model, loaded once for every council.
fn load_speech(config: &crate::config::Config) -> Option<Arc<crate::speech::Transcriber>> {
    match crate::speech::model_path(config).and_then(|p| {
        p.map(|p| crate::speech::Transcriber::load(&p, config).map(|t| (p, t)))
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
    }
}

/// The router and the conversation service behind it (shared with the
/// Wyoming server), for an install with one council.
pub fn app(engine: Engine) -> anyhow::Result<(Router, Arc<Service>)> {
    let speech = load_speech(engine.config());
    let service = Service::new(engine)?;
    service.spawn_retention();
    let routes = council_routes(&service, speech)?.merge(operations(vec![service.clone()]));
    Ok((outer_layers(routes, service.config())?, service))
}

/// The router for an install serving several councils, and each council's
/// service. Council `<id>` is at `/c/<id>/` (its page and every API), and
/// at `/` on each of its host names. The models are loaded once and
/// shared; each council has its own knowledge base, index, store, limits,
/// staff token and kill switch.
pub fn app_councils(engines: Vec<Engine>) -> anyhow::Result<(Router, Vec<Arc<Service>>)> {
    let Some(first) = engines.first() else {
        anyhow::bail!("no councils to serve");
    };
    let speech = load_speech(first.config());
    let install = first.config().clone();
    let mut services: Vec<Arc<Service>> = Vec::new();
    for engine in engines {
        let service = match services.first() {
            None => Service::new(engine)?,
            Some(f) => f.sharing_limits(engine)?,
        };
        service.spawn_retention();
        services.push(service);
    }
    let mut inner = Router::new();
    let mut hosts = std::collections::HashMap::new();
    let mut list = Vec::new();
    for s in &services {
        let c = s.config();
        let routes = council_routes(s, speech.clone())?;
        inner = inner.nest(&c.base_path(), routes);
        for h in &c.hosts {
            hosts.insert(h.clone(), c.council_id.clone());
        }
        list.push((c.council_id.clone(), c.council.name.clone()));
    }
    let framing = crate::web::Framing::new(&Default::default())?;
    let list = Arc::new(list);
    let top = Router::new()
        .route(
            "/",
            get({
                let list = list.clone();
                move || async move { council_list(&list) }
            }),
        )
        .route(
            "/healthz",
            get({
                let services = services.clone();
                move || async move { install_health(&services) }
            }),
        )
        .merge(operations(services.clone()))
        .layer(axum::middleware::from_fn_with_state(
            framing,
            crate::web::security_headers,
        ));
    let inner = top.merge(inner);
    // The host name is read before routing, so a council's own host
    // reaches its pages at `/`.
    let by_host = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(hosts),
            route_by_host,
        ))
        .service(inner);
    let router = Router::new().fallback_service(by_host);
    Ok((outer_layers(router, &install)?, services))
}

/// A request to one of a council's own host names goes to that council:
/// `/talk-to-a-person` on its host is `/c/<id>/talk-to-a-person`. Another
/// council's pages are not served on it.
async fn route_by_host(
    State(hosts): State<Arc<std::collections::HashMap<String, String>>>,
    mut req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(name, _)| name)
                .to_ascii_lowercase()
        });
    let path = req.uri().path().to_string();
    // "/c/<id>/" and "/c/<id>" are the same page.
    let mut target = match host.as_deref().and_then(|h| hosts.get(h)) {
        Some(id) => {
            let own = format!("/c/{id}");
            if path == own || path.starts_with(&format!("{own}/")) {
                path.clone()
            } else if path.starts_with("/c/") {
                return (
                    axum::http::StatusCode::NOT_FOUND,
                    "There is no such page on this site.",
                )
                    .into_response();
            } else {
                format!("{own}{path}")
            }
        }
        None => path.clone(),
    };
    if target.starts_with("/c/") && target.ends_with('/') && target.matches('/').count() == 3 {
        target.pop();
    }
    if target != path {
        let pq = match req.uri().query() {
            Some(q) => format!("{target}?{q}"),
            None => target,
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

/// The install's front page when no council is chosen: a list of councils.
#[derive(askama::Template)]
#[template(
    source = "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Adult social care: choose your council</title></head><body><main><h1>Choose your council</h1><ul>{% for (id, name) in list.iter() %}<li><a href=\"/c/{{ id }}/\">{{ name }}</a></li>{% endfor %}</ul></main></body></html>",
    ext = "html"
)]
struct CouncilList<'a> {
    list: &'a [(String, String)],
}

fn council_list(list: &[(String, String)]) -> Response {
    let page = askama::Template::render(&CouncilList { list }).unwrap_or_default();
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// For the install's operators: `/metrics` (Prometheus's text format, every
/// series labelled with its council) and `/readyz` (ready when every
/// council's knowledge base is loaded and its database answers; `/healthz`
/// says more about each).
fn operations(services: Vec<Arc<Service>>) -> Router {
    let metrics = services[0].metrics().clone();
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.encode(),
                    )
                }
            }),
        )
        .route(
            "/readyz",
            get(move || {
                let services = services.clone();
                async move {
                    let not_ready: Vec<String> = tokio::task::spawn_blocking(move || {
                        services
                            .iter()
                            .filter(|s| !s.store().ping() || s.engine().kb().pages.is_empty())
                            .map(|s| s.council_label().to_string())
                            .collect()
                    })
                    .await
                    .unwrap_or_else(|_| vec!["unknown".into()]);
                    if not_ready.is_empty() {
                        (
                            axum::http::StatusCode::OK,
                            Json(serde_json::json!({"ready": true})),
                        )
                    } else {
                        (
                            axum::http::StatusCode::SERVICE_UNAVAILABLE,
                            Json(serde_json::json!({"ready": false, "not_ready": not_ready})),
                        )
                    }
                }
            }),
        )
}

/// Every council's health, for the install's own monitoring.
fn install_health(services: &[Arc<Service>]) -> Json<serde_json::Value> {
    let councils: Vec<serde_json::Value> = services
        .iter()
        .map(|s| {
            let e = s.engine();
            serde_json::json!({
                "council": s.config().council_id,
                "pages": e.kb().pages.len(),
                "chunks": e.index().chunks.len(),
                "content_hash": e.kb().content_hash,
            })
        })
        .collect();
    Json(serde_json::json!({"status": "ok", "councils": councils}))
}

/// One council's routes: its page, JSON API, speech, Alexa and staff pages,
/// behind its own rate limits and framing policy. Every log line of its
/// requests names the council when the install has several.
fn council_routes(
    service: &Arc<Service>,
    speech: Option<Arc<crate::speech::Transcriber>>,
) -> anyhow::Result<Router> {
    let config = service.config();
    let alexa = if config.alexa.skill_id.is_empty() {
        None
    } else {
        Some(Arc::new(crate::speakers::alexa::Verifier::new(
            &config.alexa,
        )?))
    };
    let json_api = Router::new()
        .route("/api/chat", post(chat))
        .route("/api/conversation/process", post(conversation_process))
        .route("/healthz", get(healthz))
        .route("/staff/eval", get(staff_eval))
        .route("/staff/gaps", get(staff_gaps))
        .route("/staff/audit", get(staff_audit))
        .route("/staff/kill-switch", post(staff_kill_switch))
        .with_state(service.clone());
    let framing = crate::web::Framing::new(&config.embed)?;
    let council = config.council_id.clone();
    let counted = service.clone();
    Ok(Router::new()
        .merge(json_api)
        .merge(crate::speakers::alexa::routes(service.clone(), alexa))
        .merge(crate::speech::http::routes(service.clone(), speech.clone()))
        .merge(crate::web::routes(service.clone(), speech.is_some()))
        .layer(axum::middleware::from_fn_with_state(
            service.clone(),
            crate::web::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            framing,
            crate::web::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(counted, count_request))
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| {
                if !council.is_empty() {
                    tracing::Span::current().record("council", council.as_str());
                }
                next.run(req)
            },
        )))
}

/// Counts a council's request and times it, by the route's pattern (never
/// the address as sent, which could hold anything).
async fn count_request(
    State(service): State<Arc<Service>>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let method = req.method().as_str().to_string();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    service.metrics().http(
        service.council_label(),
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// What every request passes through, whichever council it is for: size
/// and time limits on the body, a request id, and a log span.
fn outer_layers(router: Router, config: &crate::config::Config) -> anyhow::Result<Router> {
    let body_limit = config.server.max_body_bytes;
    let body_timeout = Duration::from_secs(config.server.body_timeout_seconds.max(1));
    // Every response has the security headers: each council's own routes
    // set theirs (with its framing policy); anything else gets the strict
    // default here.
    let strict = crate::web::Framing::new(&Default::default())?;
    Ok(router
        .layer(axum::middleware::from_fn_with_state(
            strict,
            crate::web::security_headers,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(move |req, next| {
            deadline_for_body(req, next, body_timeout)
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", request_id = %id, council = tracing::field::Empty, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid)))
}

/// The latest evaluation report, written by `signpost eval`.
async fn staff_eval(State(service): State<Arc<Service>>, _: Staff) -> Response {
    tracing::info!(page = "eval", "staff page viewed");
    let _ = service.store().audit("staff", "view", "/staff/eval");
    let path = service.config().data_dir.join("eval/latest.html");
    match tokio::fs::read_to_string(&path).await {
        Ok(html) => (
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(_) => (
            axum::http::StatusCode::NOT_FOUND,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>No evaluation yet</title></head><body><h1>No evaluation report yet</h1><p>Run <code>signpost eval eval/cases.jsonl</code> on this server, then reload this page.</p></body></html>",
        )
            .into_response(),
    }
}

/// Unanswered questions (content gaps) as CSV: dates and redacted questions only.
async fn staff_gaps(State(service): State<Arc<Service>>, _: Staff) -> Response {
    let _ = service.store().audit("staff", "export", "content gaps");
    if !service.config().privacy.store_conversations {
        return ApiError::new(
            ErrorCode::StorageOff,
            "Conversation storage is off, so there are no unanswered questions to export. Turn it on with privacy.store_conversations.",
        )
        .into_response();
    }
    let gaps = match service.store().gaps() {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "gaps export failed");
            return ApiError::new(
                ErrorCode::Internal,
                "The export failed; see the server log.",
            )
            .into_response();
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

async fn staff_audit(State(service): State<Arc<Service>>, _: Staff) -> Response {
    let _ = service.store().audit("staff", "view", "/staff/audit");
    let rows: Vec<serde_json::Value> = service
        .store()
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
    State(service): State<Arc<Service>>,
    _: Staff,
    body: Result<Json<KillSwitch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(k)) = body else {
        return ApiError::new(
            ErrorCode::BadRequest,
            "Send {\"on\": true} or {\"on\": false}.",
        )
        .into_response();
    };
    let value = if k.on { "on" } else { "off" };
    if let Err(e) = service.set_switched_off(k.on) {
        tracing::error!(error = %e, "kill switch not saved");
        return ApiError::new(ErrorCode::Internal, "The kill switch could not be saved.")
            .into_response();
    }
    let _ = service.store().audit("staff", "kill-switch", value);
    tracing::warn!(kill_switch = value, "kill switch changed by staff");
    Json(serde_json::json!({"kill_switch": value})).into_response()
}

async fn healthz(State(service): State<Arc<Service>>) -> impl IntoResponse {
    let e = service.engine();
    let mut body = serde_json::json!({
        "status": "ok",
        "pages": e.kb().pages.len(),
        "chunks": e.index().chunks.len(),
        "services": e.kb().services.len(),
        "content_hash": e.kb().content_hash,
    });
    // A model server that does not answer is reported here; readiness
    // stays green, since every answer can be quoted without the model.
    let engine = e.clone();
    let model = tokio::task::spawn_blocking(move || {
        engine.llm().map(|m| {
            serde_json::json!({
                "name": m.name(),
                "runs": if m.local().is_some() { "in-process" } else { "server" },
                "reachable": m.reachable(),
            })
        })
    })
    .await
    .ok()
    .flatten();
    if let Some(m) = model {
        body["model"] = m;
    }
    Json(body)
}

async fn chat(
    State(service): State<Arc<Service>>,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Result<Json<ChatResponse>, ApiError> {
    let channel = if req.channel.unwrap_or_default() == Channel::Voice {
        ChannelId::Voice
    } else {
        ChannelId::Web
    };
    let result = service
        .respond(req.message, req.conversation_id, channel, false)
        .await;
    Ok(Json(answer_or_refusal(result)?.into()))
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

impl Example for ConversationRequest {
    const EXAMPLE: &'static str = "{\"text\": \"what is reablement\"}";
}

/// `POST /api/conversation/process` in Home Assistant's shape, so a Home
/// Assistant voice satellite can use Signpost as its conversation agent.
/// Replies are speakable (the voice channel).
async fn conversation_process(
    State(service): State<Arc<Service>>,
    ApiJson(req): ApiJson<ConversationRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let language = req.language.unwrap_or_else(|| "en".into());
    let result = service
        .respond(
            req.text,
            req.conversation_id,
            ChannelId::HomeAssistant,
            false,
        )
        .await;
    let a = answer_or_refusal(result)?;
    Ok(Json(serde_json::json!({
        // Keep the satellite listening only when Signpost asked a question.
        "continue_conversation": a.route == Route::Clarify,
        "conversation_id": a.conversation_id,
        "response": {
            "response_type": "query_answer",
            "language": language,
            "data": {"targets": [], "success": [], "failed": []},
            "speech": {"plain": {"speech": a.text, "extra_data": null}},
        },
    })))
}

/// Serves until Ctrl-C or SIGTERM; also the Wyoming handle server when
/// `wyoming_addr` (or `wyoming.addr`) is set.
pub async fn serve(engine: Engine, addr: &str, wyoming_addr: Option<String>) -> anyhow::Result<()> {
    let listener = listen(addr).await?;
    let wyoming_addr = wyoming_addr
        .or_else(|| Some(engine.config().wyoming.addr.clone()))
        .filter(|a| !a.is_empty());
    tracing::info!(addr = %listener.local_addr()?, pages = engine.kb().pages.len(), "Signpost is listening");
    let (router, service) = app(engine)?;
    background(&service, wyoming_addr).await?;
    run(listener, router, service.config()).await;
    Ok(())
}

/// Serves several councils (see [`app_councils`]) until Ctrl-C or SIGTERM,
/// with a Wyoming handle server for each council that sets `wyoming.addr`.
pub async fn serve_councils(engines: Vec<Engine>, addr: &str) -> anyhow::Result<()> {
    let listener = listen(addr).await?;
    let (router, services) = app_councils(engines)?;
    for s in &services {
        let wyoming = Some(s.config().wyoming.addr.clone()).filter(|a| !a.is_empty());
        background(s, wyoming).await?;
    }
    tracing::info!(addr = %listener.local_addr()?, councils = services.len(), "Signpost is listening");
    run(listener, router, services[0].config()).await;
    Ok(())
}

async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e}. Choose another address with --addr or SIGNPOST_ADDR."
        )
    })
}

/// A council's work apart from requests: watching its knowledge base, its
/// daily import and its Wyoming server. Their log lines name the council.
async fn background(service: &Arc<Service>, wyoming_addr: Option<String>) -> anyhow::Result<()> {
    use tracing::Instrument;
    let span = service.span();
    service.spawn_kb_watch();
    service.spawn_import_schedule()?;
    if let Some(w) = wyoming_addr {
        let listener = crate::speakers::wyoming::bind_for(&w, &service.config().council_id).await?;
        tokio::spawn(
            crate::speakers::wyoming::serve(service.clone(), listener).instrument(span.clone()),
        );
    }
    Ok(())
}

async fn run(listener: tokio::net::TcpListener, router: Router, config: &crate::config::Config) {
    if let Ok(local) = listener.local_addr() {
        eprintln!("Signpost is listening on http://{local}");
    }
    let s = &config.server;
    let limits = Connections {
        header_timeout: Duration::from_secs(s.header_timeout_seconds.max(1)),
        max: s.max_connections.max(1),
    };
    serve_http(listener, router, limits, shutdown_signal()).await;
}

/// Gives a request's body a deadline: a client that sends it too slowly
/// (a byte at a time, say) gets an error when the time is up, instead of
/// holding the request open for as long as it likes.
async fn deadline_for_body(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
    within: Duration,
) -> Response {
    let req = req.map(|body| {
        axum::body::Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(within)),
            within,
        })
    });
    next.run(req).await
}

/// A body that fails once its deadline has passed.
struct DeadlineBody {
    inner: axum::body::Body,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    within: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if std::future::Future::poll(self.deadline.as_mut(), cx).is_ready() {
            let secs = self.within.as_secs();
            return std::task::Poll::Ready(Some(Err(axum::Error::new(format!(
                "the request took longer than {secs} seconds to arrive"
            )))));
        }
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Limits on connections themselves, before any request is read.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// A request's headers must arrive within this time (and an idle
    /// connection is closed after it), so slow clients cannot pile up.
    pub header_timeout: Duration,
    /// Connections open at once; past this, new ones are closed at once.
    pub max: usize,
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes, then lets the
/// requests in progress finish (for at most 10 seconds).
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Connections,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file handles, most often: wait, then go on.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(place) = open.clone().try_acquire_owned() else {
            tracing::warn!(max = limits.max, "too many connections: one closed");
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(router.clone(), req)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _place = place;
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("requests still running after 10 seconds; stopping anyway");
        }
    }
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
