//! A model on an OpenAI-compatible server (llama.cpp's `llama-server`,
//! vLLM, Ollama), reached through `POST /v1/chat/completions` with plain
//! HTTP and the project's own types, so that servers' extensions stay
//! reachable (llama.cpp's `cache_prompt`; `logprobs` for yes/no judgements).
//!
//! The server's behaviour maps onto the in-process model's: the deadline
//! and the cancel flag stop reading the stream (closing the connection,
//! which the server takes as a cancel), a busy server (429 or 503) is
//! [`super::Busy`], and a slow or dead server is an error the request path
//! turns into the quoted answer.

use std::io::{BufRead, BufReader};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use super::{Busy, Generated, Limits, Stop};

/// How long a health check's answer is reused.
const HEALTH_TTL: Duration = Duration::from_secs(5);

pub struct ModelServer {
    /// The server's base address, without a trailing slash.
    base: String,
    /// The model name sent with each request ("" lets the server choose).
    model: String,
    api_key: Option<String>,
    /// Time allowed to connect.
    connect: Duration,
    /// The last health check: when, and whether the server answered.
    health: Mutex<Option<(Instant, bool)>>,
}

impl ModelServer {
    /// `base` such as "http://10.0.0.7:8080"; checked only for its form
    /// here, so Signpost starts (and answers without the model) while the
    /// model server is still loading or down.
    pub fn new(base: &str, model: &str, api_key: Option<String>) -> Result<ModelServer> {
        let u = url::Url::parse(base.trim()).map_err(|e| {
            anyhow!("llm.server_url '{base}' is not an address such as http://127.0.0.1:8080: {e}")
        })?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            bail!("llm.server_url '{base}' must be an http:// or https:// address with a host");
        }
        Ok(ModelServer {
            base: base.trim().trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: api_key.filter(|k| !k.is_empty()),
            connect: Duration::from_secs(2),
            health: Mutex::new(None),
        })
    }

    /// The name shown in stages and logs.
    pub fn label(&self) -> String {
        if self.model.is_empty() {
            format!("server {}", self.base)
        } else {
            format!("{} at {}", self.model, self.base)
        }
    }

    fn agent(&self, limit: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(self.connect.min(limit)))
            .timeout_global(Some(limit))
            .build()
            .new_agent()
    }

    /// Time left before the deadline (30 s when there is none).
    fn remaining(limits: &Limits) -> Result<Duration> {
        if let Some(s) = limits.stop() {
            bail!("stopped before starting ({s:?})");
        }
        Ok(limits
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_secs(30))
            .max(Duration::from_millis(1)))
    }

    fn post(&self, body: &Value, limit: Duration) -> Result<ureq::http::Response<ureq::Body>> {
        let mut req = self
            .agent(limit)
            .post(&format!("{}/v1/chat/completions", self.base))
            .header("content-type", "application/json");
        if let Some(k) = &self.api_key {
            req = req.header("authorization", &format!("Bearer {k}"));
        }
        let r = req.send(body.to_string().as_bytes()).map_err(|e| {
            self.mark(false);
            anyhow!("the model server at {} did not answer: {e}", self.base)
        })?;
        self.mark(true);
        let status = r.status().as_u16();
        if status == 429 || status == 503 {
            return Err(anyhow::Error::new(Busy).context(format!("the model server said {status}")));
        }
        if status != 200 {
            let mut r = r;
            let text = r.body_mut().read_to_string().unwrap_or_default();
            bail!(
                "the model server answered {status}: {}",
                text.chars().take(300).collect::<String>()
            );
        }
        Ok(r)
    }

    fn messages(system: &str, user: &str) -> Value {
        json!([
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ])
    }

    /// Generates the reply to `user` after `system`, streaming; `on_text`
    /// receives the text as it grows.
    pub fn generate(
        &self,
        system: &str,
        user: &str,
        temperature: f64,
        limits: Limits,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generated> {
        let started = Instant::now();
        let limit = Self::remaining(&limits)?;
        let mut body = json!({
            "messages": Self::messages(system, user),
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": limits.max_tokens,
            "temperature": temperature,
            "seed": 0,
            // llama.cpp: keep the system prompt's state between requests.
            "cache_prompt": true,
        });
        if !self.model.is_empty() {
            body["model"] = json!(self.model);
        }
        let r = self.post(&body, limit)?;
        let mut reader = BufReader::new(r.into_body().into_reader());
        let mut text = String::new();
        let mut stop: Option<Stop> = None;
        let mut first: Option<Duration> = None;
        let mut chunks = 0usize;
        let mut usage: Option<(usize, usize, usize)> = None;
        let mut line = String::new();
        loop {
            if let Some(s) = limits.stop() {
                // Dropping the reader closes the connection: the server
                // stops generating.
                stop = Some(s);
                break;
            }
            line.clear();
            let n = match reader.read_line(&mut line) {
                Ok(n) => n,
                Err(e) => {
                    if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                        stop = Some(Stop::Deadline);
                        break;
                    }
                    return Err(anyhow!("the model server's stream broke: {e}"));
                }
            };
            if n == 0 {
                break;
            }
            let l = line.trim();
            // Blank lines end events; ":" lines are keep-alive comments.
            let Some(data) = l.strip_prefix("data:").map(str::trim) else {
                continue;
            };
            if data == "[DONE]" {
                break;
            }
            let v: Value = serde_json::from_str(data).with_context(|| {
                format!("the model server sent an event that is not JSON: {data:.120}")
            })?;
            if let Some(e) = v.get("error") {
                bail!("the model server reported an error: {e}");
            }
            if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
                let get = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
                let cached = u
                    .pointer("/prompt_tokens_details/cached_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize;
                usage = Some((get("prompt_tokens"), get("completion_tokens"), cached));
            }
            let Some(choice) = v.get("choices").and_then(|c| c.get(0)) else {
                continue;
            };
            if let Some(piece) = choice.pointer("/delta/content").and_then(Value::as_str) {
                if !piece.is_empty() {
                    first.get_or_insert_with(|| started.elapsed());
                    chunks += 1;
                    text.push_str(piece);
                    on_text(piece);
                }
            }
            match choice.get("finish_reason").and_then(Value::as_str) {
                Some("stop") => stop = Some(Stop::EndOfTurn),
                Some("length") => stop = Some(Stop::TokenCap),
                _ => {}
            }
        }
        let stop =
            stop.ok_or_else(|| anyhow!("the model server's stream ended without saying why"))?;
        let first = first.unwrap_or_else(|| started.elapsed());
        let (prompt_tokens, new_tokens, cached) = usage.unwrap_or((0, chunks, 0));
        Ok(Generated {
            text,
            stop,
            prompt_tokens,
            cached_tokens: cached,
            new_tokens,
            first_token_ms: first.as_secs_f64() * 1000.0,
            decode_ms: (started.elapsed() - first).as_secs_f64() * 1000.0,
        })
    }

    /// The probability that the answer to `user` is yes rather than no,
    /// from the first token's log-probabilities.
    pub fn yes_probability(&self, system: &str, user: &str, limits: Limits) -> Result<f32> {
        let limit = Self::remaining(&limits)?;
        let mut body = json!({
            "messages": Self::messages(system, user),
            "stream": false,
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": true,
            "top_logprobs": 10,
            "cache_prompt": true,
        });
        if !self.model.is_empty() {
            body["model"] = json!(self.model);
        }
        let r = self.post(&body, limit)?;
        let v: Value = r
            .into_body()
            .read_json()
            .context("the model server's answer is not JSON")?;
        let top = v
            .pointer("/choices/0/logprobs/content/0/top_logprobs")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                anyhow!("the model server gave no log-probabilities (does it support logprobs?)")
            })?;
        let (mut yes, mut no) = (0.0f32, 0.0f32);
        for t in top {
            let token = t.get("token").and_then(Value::as_str).unwrap_or("");
            let p = t
                .get("logprob")
                .and_then(Value::as_f64)
                .unwrap_or(f64::NEG_INFINITY)
                .exp() as f32;
            match token.trim().to_lowercase().as_str() {
                "yes" => yes += p,
                "no" => no += p,
                _ => {}
            }
        }
        Ok(if yes + no > 0.0 {
            yes / (yes + no)
        } else {
            0.5
        })
    }

    fn mark(&self, ok: bool) {
        if let Ok(mut h) = self.health.lock() {
            *h = Some((Instant::now(), ok));
        }
    }

    /// Whether the server answers its health check (`GET /health`, as
    /// llama.cpp, vLLM and SGLang serve it; else `GET /v1/models`). The
    /// answer is reused for a few seconds.
    pub fn reachable(&self) -> bool {
        if let Ok(h) = self.health.lock() {
            if let Some((at, ok)) = *h {
                if at.elapsed() < HEALTH_TTL {
                    return ok;
                }
            }
        }
        let agent = self.agent(Duration::from_secs(2));
        let ok = ["/health", "/v1/models"].iter().any(|p| {
            let mut req = agent.get(&format!("{}{p}", self.base));
            if let Some(k) = &self.api_key {
                req = req.header("authorization", &format!("Bearer {k}"));
            }
            req.call().is_ok_and(|r| r.status().as_u16() == 200)
        });
        self.mark(ok);
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_when_settings_load() {
        assert!(ModelServer::new("http://127.0.0.1:8080/", "", None).is_ok());
        let e = ModelServer::new("127.0.0.1:8080", "", None).err().unwrap();
        assert!(format!("{e}").contains("llm.server_url"), "{e}");
        let e = ModelServer::new("ftp://models.internal", "", None)
            .err()
            .unwrap();
        assert!(format!("{e}").contains("http://"), "{e}");
    }

    #[test]
    fn a_dead_server_is_an_error_not_a_hang() {
        // Nothing listens on port 1.
        let s = ModelServer::new("http://127.0.0.1:1", "", None).unwrap();
        let started = Instant::now();
        let limits = Limits {
            max_tokens: 10,
            deadline: Some(Instant::now() + Duration::from_secs(3)),
            cancel: None,
        };
        let e = s
            .generate("sys", "user", 0.0, limits, &mut |_| {})
            .err()
            .unwrap();
        assert!(format!("{e}").contains("did not answer"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(!s.reachable());
    }
}
