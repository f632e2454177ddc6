//! What every HTTP adapter shares: the one catalogue of error codes (status,
//! stable name, and whether the public API documents it), the error shape,
//! the answer shape, and extractors for JSON bodies and staff access, so
//! handlers stay thin.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::pipeline::Source;
use crate::service::{Answered, Refusal, Service};

/// Every error an HTTP endpoint can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    UnsupportedMediaType,
    TooLarge,
    EmptyMessage,
    MessageTooLong,
    RateLimited,
    Internal,
    EmptyAudio,
    UnreadableAudio,
    TooLong,
    SpeechOff,
    Unauthorised,
    StaffPagesOff,
    StorageOff,
    AlexaOff,
    NotVerified,
    Busy,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::BadRequest,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::TooLarge,
        ErrorCode::EmptyMessage,
        ErrorCode::MessageTooLong,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::EmptyAudio,
        ErrorCode::UnreadableAudio,
        ErrorCode::TooLong,
        ErrorCode::SpeechOff,
        ErrorCode::Unauthorised,
        ErrorCode::StaffPagesOff,
        ErrorCode::StorageOff,
        ErrorCode::AlexaOff,
        ErrorCode::NotVerified,
        ErrorCode::Busy,
    ];

    /// The stable name in the `error` field.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::EmptyMessage => "empty_message",
            ErrorCode::MessageTooLong => "message_too_long",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::EmptyAudio => "empty_audio",
            ErrorCode::UnreadableAudio => "unreadable_audio",
            ErrorCode::TooLong => "too_long",
            ErrorCode::SpeechOff => "speech_off",
            ErrorCode::Unauthorised => "unauthorised",
            ErrorCode::StaffPagesOff => "staff_pages_off",
            ErrorCode::StorageOff => "storage_off",
            ErrorCode::AlexaOff => "alexa_off",
            ErrorCode::NotVerified => "not_verified",
            ErrorCode::Busy => "busy",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::EmptyMessage
            | ErrorCode::EmptyAudio
            | ErrorCode::UnreadableAudio
            | ErrorCode::NotVerified => StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::TooLarge | ErrorCode::MessageTooLong | ErrorCode::TooLong => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::SpeechOff | ErrorCode::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unauthorised => StatusCode::UNAUTHORIZED,
            ErrorCode::StaffPagesOff | ErrorCode::StorageOff | ErrorCode::AlexaOff => {
                StatusCode::NOT_FOUND
            }
        }
    }

    /// Whether residents' API (`/api/openapi.json`) documents it; the staff
    /// pages and the Alexa endpoint are not part of that API.
    pub fn public(self) -> bool {
        !matches!(
            self,
            ErrorCode::Unauthorised
                | ErrorCode::StaffPagesOff
                | ErrorCode::StorageOff
                | ErrorCode::AlexaOff
                | ErrorCode::NotVerified
        )
    }
}

/// An error as every endpoint gives it: `{"error", "message"}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for the Retry-After header (busy, rate limited).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, saying when to try again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A JSON body that could not be used, with an example of a good one.
    pub fn from_json(e: &JsonRejection, example: &str) -> Self {
        match e {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Send the question as JSON with the header Content-Type: application/json.",
            ),
            e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                ErrorCode::TooLarge,
                "That request is too large. Please send a shorter question.",
            ),
            e => ApiError::new(
                ErrorCode::BadRequest,
                format!(
                    "The request could not be read: {}. Send JSON like {example}.",
                    e.body_text()
                ),
            ),
        }
    }
}

/// A refusal from the conversation service, for an API client. A switched-off
/// assistant is not an error: [`answer_or_refusal`] gives it as a reply.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let code = match &r {
            Refusal::Empty => ErrorCode::EmptyMessage,
            Refusal::TooLong { .. } => ErrorCode::MessageTooLong,
            Refusal::SwitchedOff { .. } | Refusal::Internal { .. } => ErrorCode::Internal,
            Refusal::Busy { retry_after, .. } => {
                return ApiError::new(ErrorCode::Busy, r.message()).retry_after(*retry_after)
            }
        };
        ApiError::new(code, r.message())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.code.status(),
            Json(ErrorBody {
                error: self.code.name(),
                message: &self.message,
            }),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
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

/// The service's answer for an API client: a switched-off assistant answers
/// with the council's contacts (route `decline`), like any other reply.
pub fn answer_or_refusal(result: Result<Answered, Refusal>) -> Result<Answered, ApiError> {
    match result {
        Ok(a) => Ok(a),
        Err(Refusal::SwitchedOff {
            reply,
            conversation_id,
        }) => Ok(Answered {
            route: crate::pipeline::Route::Decline,
            text: reply,
            sources: Vec::new(),
            grounded: true,
            ms: 0.0,
            conversation_id,
        }),
        Err(r) => Err(r.into()),
    }
}

/// A body type's example, for the message when a body cannot be read.
pub trait Example {
    const EXAMPLE: &'static str;
}

/// A JSON body: a body that cannot be read becomes the catalogue's error,
/// with an example of a good one.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned + Example,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::from_json(&e, T::EXAMPLE)),
        }
    }
}

/// Proof that the request carries the staff admin token, from
/// `Authorization: Bearer TOKEN` or HTTP Basic (any user name, the token as
/// password). Staff pages are off while no token is set.
pub struct Staff;

/// Refusing staff access: the catalogue's error, with the Basic challenge
/// when a token was missing or wrong.
pub struct StaffRefused(ApiError);

impl IntoResponse for StaffRefused {
    fn into_response(self) -> Response {
        let challenge = self.0.code == ErrorCode::Unauthorised;
        let mut r = self.0.into_response();
        if challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Signpost staff\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

impl<S> FromRequestParts<S> for Staff
where
    Arc<Service>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = StaffRefused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let service = Arc::<Service>::from_ref(state);
        let token = &service.config().staff.admin_token;
        if token.is_empty() {
            return Err(StaffRefused(ApiError::new(
                ErrorCode::StaffPagesOff,
                "Staff pages are off. Set staff.admin_token in signpost.toml (or SIGNPOST_ADMIN_TOKEN) to turn them on.",
            )));
        }
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_or_basic_password);
        match given {
            Some(g) if crate::text::constant_time_eq(g.as_bytes(), token.as_bytes()) => Ok(Staff),
            _ => {
                tracing::warn!("staff page refused: missing or wrong admin token");
                Err(StaffRefused(ApiError::new(
                    ErrorCode::Unauthorised,
                    "Enter the staff admin token to see this page.",
                )))
            }
        }
    }
}

/// The token from `Bearer TOKEN`, or the password from `Basic base64(user:password)`.
fn bearer_or_basic_password(v: &str) -> Option<String> {
    use base64::Engine as _;
    if let Some(b) = v.strip_prefix("Bearer ") {
        return Some(b.trim().to_string());
    }
    let raw = v.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public codes are exactly those residents' API documents.
    #[test]
    fn the_catalogue_matches_openapi() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("web/assets/openapi.json")).unwrap();
        let documented: std::collections::BTreeSet<String> = spec["components"]["schemas"]["Error"]
            ["properties"]["error"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let public: std::collections::BTreeSet<String> = ErrorCode::ALL
            .iter()
            .filter(|c| c.public())
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(public, documented);
        // Every status a public code can give is documented on some path.
        let statuses: std::collections::BTreeSet<String> = spec["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|p| p.as_object().unwrap().values())
            .flat_map(|op| op["responses"].as_object().unwrap().keys().cloned())
            .collect();
        for c in ErrorCode::ALL.iter().filter(|c| c.public()) {
            assert!(
                statuses.contains(c.status().as_str()),
                "{} gives {}, which no path documents",
                c.name(),
                c.status()
            );
        }
        // Names are unique.
        let names: std::collections::BTreeSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn staff_tokens_come_from_bearer_or_basic() {
        assert_eq!(
            bearer_or_basic_password("Bearer abc ").as_deref(),
            Some("abc")
        );
        // "staff:secret"
        assert_eq!(
            bearer_or_basic_password("Basic c3RhZmY6c2VjcmV0").as_deref(),
            Some("secret")
        );
        assert_eq!(bearer_or_basic_password("Digest x"), None);
        assert_eq!(bearer_or_basic_password("Basic !!!"), None);
    }
}
