//! A Wyoming "handle" server, so Home Assistant can use Signpost as the
//! conversation agent of a voice satellite (its own wake word, speech to
//! text and text to speech; no audio leaves the building).
//!
//! Each event is a JSON header line, then `data_length` bytes of JSON data
//! (merged over any inline `data`), then `payload_length` bytes of payload.
//! `describe` gets `info` listing one `handle` program; each `transcript`
//! gets `handled` with the speakable answer, or `not-handled` with a reason.
//! One conversation per `context.conversation_id`.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tracing::Instrument;

use crate::service::{ChannelId, Refusal, Service};

/// Largest header line, data block and payload accepted.
const MAX_HEADER: usize = 64 * 1024;
const MAX_DATA: usize = 256 * 1024;
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;
/// The Wyoming protocol version written in headers.
const VERSION: &str = "1.7.2";

/// One event: its type and (merged) data. Payloads are read and dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    pub data: Map<String, Value>,
}

/// Reads one event; `Ok(None)` at a clean end of the connection.
pub async fn read_event<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
) -> anyhow::Result<Option<Event>> {
    let mut line = Vec::new();
    let n = (&mut *r)
        .take(MAX_HEADER as u64 + 1)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > MAX_HEADER {
        anyhow::bail!("event header longer than {MAX_HEADER} bytes");
    }
    let header: Value = serde_json::from_slice(&line)
        .map_err(|e| anyhow::anyhow!("event header is not JSON: {e}"))?;
    let kind = header["type"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("event header has no type"))?
        .to_string();
    let mut data = header["data"].as_object().cloned().unwrap_or_default();
    let data_length = header["data_length"].as_u64().unwrap_or(0) as usize;
    if data_length > MAX_DATA {
        anyhow::bail!("event data longer than {MAX_DATA} bytes");
    }
    if data_length > 0 {
        let mut buf = vec![0u8; data_length];
        r.read_exact(&mut buf).await?;
        let extra: Value = serde_json::from_slice(&buf)
            .map_err(|e| anyhow::anyhow!("event data is not JSON: {e}"))?;
        if let Some(o) = extra.as_object() {
            for (k, v) in o {
                data.insert(k.clone(), v.clone());
            }
        }
    }
    let payload_length = header["payload_length"].as_u64().unwrap_or(0) as usize;
    if payload_length > MAX_PAYLOAD {
        anyhow::bail!("event payload longer than {MAX_PAYLOAD} bytes");
    }
    if payload_length > 0 {
        tokio::io::copy(
            &mut (&mut *r).take(payload_length as u64),
            &mut tokio::io::sink(),
        )
        .await?;
    }
    Ok(Some(Event { kind, data }))
}

/// Writes one event with its data in a trailing data block, as the Python
/// library does.
pub async fn write_event<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: &str,
    data: &Value,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(data)?;
    let header = json!({"type": kind, "version": VERSION, "data_length": body.len()});
    let mut out = serde_json::to_vec(&header)?;
    out.push(b'\n');
    out.extend_from_slice(&body);
    w.write_all(&out).await?;
    w.flush().await
}

fn info(service: &Service) -> Value {
    let c = &service.config().council;
    let attribution = json!({"name": c.name, "url": c.website});
    let description = format!(
        "Answers questions about adult social care from {}'s advice pages",
        c.name
    );
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "handle": [{
            "name": "signpost",
            "attribution": attribution,
            "installed": true,
            "description": description,
            "version": version,
            "models": [{
                "name": "signpost",
                "attribution": attribution,
                "installed": true,
                "description": description,
                "version": version,
                "languages": service.config().wyoming.languages,
            }],
            "supports_home_control": false,
        }],
        "asr": [], "tts": [], "wake": [], "intent": [], "mic": [], "snd": [],
    })
}

/// Opens the Wyoming port (before the HTTP server says it is ready).
pub async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    bind_for(addr, "").await
}

/// Listens for one council of several (named in the start-up line).
pub async fn bind_for(addr: &str, council: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen for Wyoming on {addr}: {e}. Choose another address with --wyoming-addr."
        )
    })?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, "Wyoming handle server is listening");
    if council.is_empty() {
        eprintln!("Wyoming handle server is listening on tcp://{local}");
    } else {
        eprintln!("Wyoming handle server for {council} is listening on tcp://{local}");
    }
    Ok(listener)
}

/// Answers Home Assistant on the listener until the process ends.
pub async fn serve(service: Arc<Service>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "wyoming accept failed");
                continue;
            }
        };
        let service = service.clone();
        let id = uuid::Uuid::new_v4();
        let span = tracing::info_span!("wyoming", request_id = %id, peer = %peer);
        tokio::spawn(
            async move {
                if let Err(e) = connection(service, stream, peer.ip()).await {
                    tracing::warn!(error = %e, "wyoming connection ended with an error");
                }
            }
            .instrument(span),
        );
    }
}

async fn connection(
    service: Arc<Service>,
    stream: TcpStream,
    peer: std::net::IpAddr,
) -> anyhow::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    while let Some(event) = read_event(&mut r).await? {
        match event.kind.as_str() {
            "describe" => write_event(&mut w, "info", &info(&service)).await?,
            "ping" => {
                let mut data = json!({});
                if let Some(t) = event.data.get("text") {
                    data["text"] = t.clone();
                }
                write_event(&mut w, "pong", &data).await?
            }
            "transcript" if !service.allow_speaker(ChannelId::Wyoming, &peer.to_string()) => {
                tracing::warn!(channel = "wyoming", "rate limit reached");
                let mut data = json!({"text": service.over_limit_reply()});
                if let Some(c) = event.data.get("context").filter(|c| c.is_object()) {
                    data["context"] = c.clone();
                }
                write_event(&mut w, "not-handled", &data).await?
            }
            "transcript" => {
                let (kind, data) = handle_transcript(&service, &event.data).await;
                write_event(&mut w, kind, &data).await?
            }
            // Audio and other events are not for a handle program.
            _ => {}
        }
    }
    Ok(())
}

/// Answers one transcript: `handled` with the speakable answer, or
/// `not-handled` with a reason.
async fn handle_transcript(
    service: &Arc<Service>,
    data: &Map<String, Value>,
) -> (&'static str, Value) {
    let mut context = data.get("context").cloned().unwrap_or(json!({}));
    if !context.is_object() {
        context = json!({});
    }
    let text = data
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let language = data.get("language").and_then(Value::as_str).unwrap_or("en");
    let languages = &service.config().wyoming.languages;
    let supported = languages.iter().any(|l| {
        language.eq_ignore_ascii_case(l)
            || language
                .to_lowercase()
                .starts_with(&format!("{}-", l.to_lowercase()))
    });
    if !supported {
        return (
            "not-handled",
            json!({"text": format!("Sorry, I can only answer in {}.", languages.join(", ")), "context": context}),
        );
    }
    if text.is_empty() {
        return (
            "not-handled",
            json!({"text": "Sorry, I didn't hear a question.", "context": context}),
        );
    }
    let conversation = context
        .get("conversation_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    match service
        .respond(text, conversation, ChannelId::Wyoming, false)
        .await
    {
        Ok(a) => {
            context["conversation_id"] = json!(a.conversation_id);
            ("handled", json!({"text": a.text, "context": context}))
        }
        // Switched off: the council's contacts are the answer.
        Err(Refusal::SwitchedOff {
            reply,
            conversation_id,
        }) => {
            context["conversation_id"] = json!(conversation_id);
            ("handled", json!({"text": reply, "context": context}))
        }
        Err(r) => (
            "not-handled",
            json!({"text": r.message(), "context": context}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_with_inline_data_a_data_block_and_a_payload() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(
            b"{\"type\":\"transcript\",\"data\":{\"text\":\"inline\",\"language\":\"en\"}}\n",
        );
        let block = br#"{"text":"from the block","context":{"conversation_id":"c1"}}"#;
        bytes.extend_from_slice(
            format!("{{\"type\":\"transcript\",\"data\":{{\"language\":\"en\"}},\"data_length\":{},\"payload_length\":4}}\n", block.len()).as_bytes(),
        );
        bytes.extend_from_slice(block);
        bytes.extend_from_slice(b"\x00\x01\x02\x03");
        bytes.extend_from_slice(b"{\"type\":\"describe\"}\n");
        let mut r = BufReader::new(&bytes[..]);
        let a = read_event(&mut r).await.unwrap().unwrap();
        assert_eq!(a.data["text"], "inline");
        let b = read_event(&mut r).await.unwrap().unwrap();
        assert_eq!(b.data["text"], "from the block");
        assert_eq!(
            b.data["language"], "en",
            "inline data is kept under the block"
        );
        assert_eq!(b.data["context"]["conversation_id"], "c1");
        let c = read_event(&mut r).await.unwrap().unwrap();
        assert_eq!(c.kind, "describe");
        assert!(read_event(&mut r).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn bad_events_are_errors_not_panics() {
        for bad in [
            &b"not json\n"[..],
            b"{\"data\":{}}\n",
            b"{\"type\":\"x\",\"data_length\":999999999}\n",
            b"{\"type\":\"x\",\"data_length\":5}\nab",
        ] {
            let mut r = BufReader::new(bad);
            assert!(
                read_event(&mut r).await.is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[tokio::test]
    async fn written_events_read_back() {
        let mut out = Vec::new();
        write_event(&mut out, "handled", &json!({"text": "hello"}))
            .await
            .unwrap();
        let mut r = BufReader::new(&out[..]);
        let e = read_event(&mut r).await.unwrap().unwrap();
        assert_eq!(e.kind, "handled");
        assert_eq!(e.data["text"], "hello");
    }
}
