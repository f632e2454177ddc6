//! A loopback web server for the importer's tests: it serves a fixture site
//! from disk (a page at /a/b is the file a/b/index.html), rewrites the
//! site's own address in robots.txt and sitemaps to its loopback address,
//! answers conditional requests with 304, can be scripted to give 404, 410,
//! 429 with Retry-After, redirects, huge or odd bodies for chosen paths, and
//! records every request so tests can check politeness.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the server does for one path instead of serving the file.
#[derive(Clone, Debug)]
pub enum Script {
    Status(u16),
    /// 429 (or 503) with Retry-After, for the next `times` requests.
    Busy {
        status: u16,
        retry_after: u32,
        times: usize,
    },
    Redirect {
        status: u16,
        to: String,
    },
    Body {
        content_type: String,
        body: Vec<u8>,
    },
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub at: Instant,
    pub user_agent: String,
    pub if_none_match: Option<String>,
    pub cookie: Option<String>,
}

pub struct SiteServer {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    scripts: Arc<Mutex<HashMap<String, Script>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SiteServer {
    /// Serves `root`, replacing `public` (e.g. "https://www.wrenfield.example")
    /// with the server's own address in robots.txt and sitemaps.
    pub fn start(root: PathBuf, public: &str) -> SiteServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let base = format!("http://{}", server.server_addr().to_ip().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let scripts: Arc<Mutex<HashMap<String, Script>>> = Arc::new(Mutex::new(HashMap::new()));
        let (s, seen2, scripts2, base2, public) = (
            server.clone(),
            seen.clone(),
            scripts.clone(),
            base.clone(),
            public.to_string(),
        );
        let thread = std::thread::spawn(move || {
            for req in s.incoming_requests() {
                let header = |name: &'static str| {
                    req.headers()
                        .iter()
                        .find(|h| h.field.equiv(name))
                        .map(|h| h.value.to_string())
                };
                let full = req.url().to_string();
                let path = full.split('?').next().unwrap_or("/").to_string();
                seen2.lock().unwrap().push(Seen {
                    path: path.clone(),
                    at: Instant::now(),
                    user_agent: header("User-Agent").unwrap_or_default(),
                    if_none_match: header("If-None-Match"),
                    cookie: header("Cookie"),
                });
                let script = {
                    let mut sc = scripts2.lock().unwrap();
                    let key = if sc.contains_key(&full) {
                        full.clone()
                    } else {
                        path.clone()
                    };
                    let s = sc.get(&key).cloned();
                    if let Some(Script::Busy {
                        status,
                        retry_after,
                        times,
                    }) = &s
                    {
                        if *times <= 1 {
                            sc.remove(&key);
                        } else {
                            sc.insert(
                                key.clone(),
                                Script::Busy {
                                    status: *status,
                                    retry_after: *retry_after,
                                    times: times - 1,
                                },
                            );
                        }
                    }
                    s
                };
                let h = |k: &str, v: &str| {
                    tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap()
                };
                let resp = match script {
                    Some(Script::Status(code)) => {
                        tiny_http::Response::from_string("gone").with_status_code(code)
                    }
                    Some(Script::Busy {
                        status,
                        retry_after,
                        ..
                    }) => tiny_http::Response::from_string("busy")
                        .with_status_code(status)
                        .with_header(h("Retry-After", &retry_after.to_string())),
                    Some(Script::Redirect { status, to }) => {
                        tiny_http::Response::from_string("moved")
                            .with_status_code(status)
                            .with_header(h("Location", &to))
                    }
                    Some(Script::Body { content_type, body }) => {
                        tiny_http::Response::from_data(body)
                            .with_header(h("Content-Type", &content_type))
                    }
                    None => {
                        let rel = path.trim_start_matches('/');
                        let file = if rel.is_empty() {
                            root.join("index.html")
                        } else if rel.contains('.') {
                            root.join(rel)
                        } else {
                            root.join(rel).join("index.html")
                        };
                        match std::fs::read(&file) {
                            Ok(mut body) => {
                                let ct = match file.extension().and_then(|e| e.to_str()) {
                                    Some("html") => "text/html; charset=utf-8",
                                    Some("xml") => "application/xml",
                                    Some("txt") => "text/plain",
                                    Some("pdf") => "application/pdf",
                                    _ => "application/octet-stream",
                                };
                                if matches!(ct, "application/xml" | "text/plain") {
                                    body = String::from_utf8_lossy(&body)
                                        .replace(&public, &base2)
                                        .into_bytes();
                                }
                                let etag = format!(
                                    "\"{:x}\"",
                                    body.iter().fold(0u64, |a, b| a
                                        .wrapping_mul(31)
                                        .wrapping_add(*b as u64))
                                );
                                if header("If-None-Match").as_deref() == Some(etag.as_str()) {
                                    tiny_http::Response::from_data(Vec::new()).with_status_code(304)
                                } else {
                                    tiny_http::Response::from_data(body)
                                        .with_header(h("Content-Type", ct))
                                        .with_header(h("ETag", &etag))
                                }
                            }
                            Err(_) => {
                                tiny_http::Response::from_string("not found").with_status_code(404)
                            }
                        }
                    }
                };
                let _ = req.respond(resp);
            }
        });
        SiteServer {
            base,
            seen,
            scripts,
            server,
            thread: Some(thread),
        }
    }

    pub fn script(&self, path: &str, s: Script) {
        self.scripts.lock().unwrap().insert(path.to_string(), s);
    }

    pub fn unscript(&self, path: &str) {
        self.scripts.lock().unwrap().remove(path);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
