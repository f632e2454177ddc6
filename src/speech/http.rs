//! `POST /api/transcribe` and `POST /api/voice`: the recording is the
//! request body (WAV, FLAC, MP3 or Ogg Vorbis, named by Content-Type).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{decode, AudioError, Transcriber, Transcript};
use crate::api::{answer_or_refusal, ApiError, ChatResponse, ErrorCode};
use crate::pipeline::Route;
use crate::service::{ChannelId, Service};

/// What the speech handlers read.
#[derive(Clone)]
pub struct SpeechState {
    service: Arc<Service>,
    /// None when no speech model is installed.
    transcriber: Option<Arc<Transcriber>>,
}

/// `POST /api/transcribe` and `POST /api/voice`, with their own body limit.
pub fn routes(service: Arc<Service>, transcriber: Option<Arc<Transcriber>>) -> axum::Router {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    let limit = service.config().speech.max_upload_bytes;
    axum::Router::new()
        .route(
            "/api/transcribe",
            post(transcribe_handler).layer(DefaultBodyLimit::max(limit)),
        )
        .route(
            "/api/voice",
            post(voice_handler).layer(DefaultBodyLimit::max(limit)),
        )
        .with_state(SpeechState {
            service,
            transcriber,
        })
}

const FORMATS: &str = "Send WAV, FLAC, MP3 or Ogg Vorbis audio as the request body, with its Content-Type (for example audio/wav).";

fn fail(code: ErrorCode, message: String) -> ApiError {
    ApiError::new(code, message)
}

const SPEECH_OFF: &str = "Speech input is not installed on this server. Type your question instead, or ask the council to run `signpost models fetch` and `signpost models convert-whisper`.";
const NOT_TRANSCRIBED: &str =
    "The recording could not be transcribed. Please try again, or type your question.";

/// Transcribes the request body, or says clearly why it cannot.
async fn transcribe(
    state: &SpeechState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Transcript, ApiError> {
    let limit = state.service.config().speech.max_upload_bytes;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let e = AudioError::TooLarge(limit);
            fail(ErrorCode::TooLarge, sentence(&e))
        } else {
            fail(
                ErrorCode::BadRequest,
                format!("The recording could not be read: {}.", e.body_text()),
            )
        }
    })?;
    let Some(t) = state.transcriber.clone() else {
        return Err(fail(ErrorCode::SpeechOff, SPEECH_OFF.into()));
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if let Some(ct) = &ct {
        let audio_like = ct.starts_with("audio/")
            || ct == "application/octet-stream"
            || ct == "application/ogg"
            || ct == "video/ogg";
        if !audio_like {
            return Err(fail(
                ErrorCode::UnsupportedMediaType,
                format!("{ct} is not audio. {FORMATS}"),
            ));
        }
    }
    let max_seconds = state.service.config().speech.max_seconds;
    let hint = ct.filter(|c| c.starts_with("audio/"));
    // The words that help recognise this council's own names.
    let prompt = super::prompt(state.service.config());
    // Wait for a turn at the recogniser, or hear at once that it is busy.
    let turn = state.service.speech_turn().await.map_err(ApiError::from)?;
    // Bad audio is the sender's to fix (4xx); a recogniser failure is ours (500).
    let work = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        decode(&body, hint.as_deref(), limit, max_seconds)
            .map(|audio| t.transcribe_with(&audio, &prompt))
    })
    .await;
    match work {
        Ok(Ok(Ok(tr))) => Ok(tr),
        Ok(Err(e)) => {
            let code = match e {
                AudioError::TooLarge(_) => ErrorCode::TooLarge,
                AudioError::TooLong(_) => ErrorCode::TooLong,
                AudioError::Empty => ErrorCode::EmptyAudio,
                AudioError::Unreadable(_) => ErrorCode::UnreadableAudio,
            };
            tracing::info!(error = %e, "audio refused");
            Err(fail(code, sentence(&e)))
        }
        Ok(Ok(Err(e))) if e.is::<super::Overran>() => {
            tracing::warn!(error = %e, "transcription took too long");
            let c = &state.service.config().council;
            Err(ApiError::new(
                ErrorCode::Busy,
                format!(
                    "Sorry, understanding the recording took too long. Please try again, type your question, or call {}.",
                    c.front_door_hours()
                ),
            )
            .retry_after(state.service.config().limits.busy_retry_after_seconds))
        }
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %e, "transcription failed");
            Err(fail(ErrorCode::Internal, NOT_TRANSCRIBED.into()))
        }
        Err(e) => {
            tracing::error!(error = %e, "transcription task failed");
            Err(fail(ErrorCode::Internal, NOT_TRANSCRIBED.into()))
        }
    }
}

/// An audio error as a sentence for the person who sent it.
fn sentence(e: &AudioError) -> String {
    let msg = e.to_string();
    let mut chars = msg.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// `POST /api/transcribe`: `{"text","language","duration_ms"}`; silence
/// gives empty text.
async fn transcribe_handler(
    State(state): State<SpeechState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match transcribe(&state, &headers, body).await {
        Ok(t) => {
            tracing::info!(
                duration_ms = t.duration_ms,
                chars = t.text.chars().count(),
                "transcribed"
            );
            Json(t).into_response()
        }
        Err(f) => f.into_response(),
    }
}

/// `/api/voice`'s reply: what was heard, and the answer in the shape of
/// `/api/chat`.
#[derive(Serialize)]
struct VoiceResponse {
    transcript: Transcript,
    #[serde(flatten)]
    answer: ChatResponse,
}

#[derive(Deserialize)]
pub struct VoiceQuery {
    #[serde(default)]
    conversation_id: Option<String>,
}

/// `POST /api/voice`: transcribes and answers in one call, with a speakable
/// answer (the voice channel).
async fn voice_handler(
    State(state): State<SpeechState>,
    Query(q): Query<VoiceQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let t = match transcribe(&state, &headers, body).await {
        Ok(t) => t,
        Err(f) => return f.into_response(),
    };
    if t.text.is_empty() {
        return Json(serde_json::json!({
            "transcript": t,
            "route": Route::Clarify.as_str(),
            "reply": "Sorry, I didn't hear a question. Please try again, a little closer to the microphone.",
            "sources": [],
            "grounded": true,
            "conversation_id": q.conversation_id,
        }))
        .into_response();
    }
    let result = state
        .service
        .respond(
            t.text.clone(),
            q.conversation_id,
            ChannelId::VoiceApi,
            false,
        )
        .await;
    match answer_or_refusal(result) {
        Ok(a) => Json(VoiceResponse {
            transcript: t,
            answer: a.into(),
        })
        .into_response(),
        Err(f) => f.into_response(),
    }
}
