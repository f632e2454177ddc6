//! Reliability and hostile clients, end to end on the real server: too much
//! work at once gets a fast "busy" with the council's number, slow clients
//! are cut off without holding up anyone else, every channel has a rate
//! limit, security headers are on every page, and no secret reaches the log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{csrf, lenient, post_form, Server};

fn settings(dir: &Path, toml: &str) -> String {
    let p = dir.join("signpost.toml");
    std::fs::write(&p, toml).unwrap();
    p.to_str().unwrap().to_string()
}

fn agent() -> ureq::Agent {
    lenient()
}

/// POST /api/chat: status, Retry-After, body.
fn chat(server: &Server, message: &str) -> (u16, Option<String>, Value) {
    let mut r = agent()
        .post(&server.url("/api/chat"))
        .header("content-type", "application/json")
        .send(serde_json::json!({ "message": message }).to_string())
        .expect("POST /api/chat");
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null);
    (status, retry, body)
}

#[test]
fn too_much_work_gets_a_fast_busy_reply_with_the_councils_number() {
    let dir = tempfile::tempdir().unwrap();
    // One answer at a time and nobody waiting: any overlap is refused.
    let config = settings(
        dir.path(),
        "[server]\nrate_limit_per_minute = 0\n[limits]\nanswers_at_once = 1\nanswers_waiting = 0\nbusy_retry_after_seconds = 7\n",
    );
    let server = Server::start(&dir.path().join("data"), &[("SIGNPOST_CONFIG", &config)]);
    let question = "my mum needs help getting washed and dressed after coming out of hospital, what support can she get at home and will we have to pay for it";
    let mut busy = None;
    for _round in 0..5 {
        let results: Vec<(u16, Option<String>, Value)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..24)
                .map(|_| s.spawn(|| chat(&server, question)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (status, _, body) in &results {
            assert!(
                *status == 200 || *status == 503,
                "only answers or busy: {status} {body}"
            );
        }
        if let Some(b) = results.into_iter().find(|r| r.0 == 503) {
            busy = Some(b);
            break;
        }
    }
    let (_, retry, body) = busy.expect("24 questions at once, one place: some were refused");
    assert_eq!(retry.as_deref(), Some("7"), "Retry-After as configured");
    assert_eq!(body["error"], "busy");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("01632 960100") && message.contains("999"),
        "the busy reply gives the council's number and 999: {message}"
    );
    // The places come back: one question alone is answered.
    let (status, _, body) = chat(&server, "how much does a blue badge cost");
    assert_eq!(status, 200, "{body}");

    // The page without JavaScript says the same, as a page, when busy. Keep
    // the one place taken by a stream of long questions while posting.
    let (cookie, token) = csrf(&server);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let page = std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    chat(&server, question);
                }
            });
        }
        let mut found = None;
        for _ in 0..200 {
            let (status, headers, html) = post_form(
                &server,
                "/",
                &[("csrf", &token), ("q", question)],
                Some(&cookie),
            );
            if status == 503 {
                found = Some((headers, html));
                break;
            }
            assert_eq!(status, 200);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        found
    });
    let (headers, html) = page.expect("the form met a busy server at least once in 200 tries");
    assert_eq!(headers.get("retry-after").unwrap(), "7");
    assert!(
        html.contains("01632 960100") && html.contains("try again"),
        "{html}"
    );
    assert!(html.contains(question), "the question stays in the box");

    // The refusals are logged with the gate, and the server kept running.
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("data/server.log")).unwrap();
    assert!(
        log.contains("busy: work refused") && log.contains("answers"),
        "{log}"
    );
}

/// Sends `bytes` one at a time, `gap` apart, until the server closes the
/// connection or answers; returns what came back and when.
fn trickle(addr: &str, bytes: &[u8], gap: Duration) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for b in bytes {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(gap);
        match s.read(&mut buf) {
            Ok(0) => return (started.elapsed(), got),
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    (started.elapsed(), got)
}

#[test]
fn slow_clients_are_cut_off_and_hold_up_no_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = settings(
        dir.path(),
        "[server]\nheader_timeout_seconds = 1\nbody_timeout_seconds = 2\n",
    );
    let server = Server::start(&dir.path().join("data"), &[("SIGNPOST_CONFIG", &config)]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let body = br#"{"message": "how much does a blue badge cost"}"#;
    let head = format!(
        "POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    std::thread::scope(|s| {
        // Headers a byte every 200 ms (about 20 s in all): closed after 1 s.
        let headers = s.spawn(|| trickle(&addr, head.as_bytes(), Duration::from_millis(200)));
        // The body a byte every 200 ms (about 10 s): refused after 2 s.
        let slow_body = s.spawn(|| {
            let mut stream = TcpStream::connect(&addr).unwrap();
            stream.write_all(head.as_bytes()).unwrap();
            let started = Instant::now();
            for b in body.iter() {
                if stream.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
                if started.elapsed() > Duration::from_secs(4) {
                    break;
                }
            }
            let mut reply = String::new();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let _ = BufReader::new(stream).read_to_string(&mut reply);
            (started.elapsed(), reply)
        });
        // Meanwhile, other people are answered as usual.
        std::thread::sleep(Duration::from_millis(300));
        let (status, _, answer) = chat(&server, "how much does a blue badge cost");
        assert_eq!(status, 200, "{answer}");

        let (took, got) = headers.join().unwrap();
        assert!(got.is_empty() || String::from_utf8_lossy(&got).starts_with("HTTP/1.1 408"));
        assert!(
            took < Duration::from_secs(6),
            "a client trickling its headers is cut off near the 1 s limit, not after {took:?}"
        );
        let (took, reply) = slow_body.join().unwrap();
        assert!(
            reply.starts_with("HTTP/1.1 400") && reply.contains("took longer than 2 seconds"),
            "{reply}"
        );
        assert!(took < Duration::from_secs(8), "{took:?}");
    });
}

/// One Wyoming event to the server, and its reply.
fn wyoming_transcript(stream: &mut TcpStream, text: &str) -> (String, Value) {
    let event = serde_json::json!({"type": "transcript", "data": {"text": text, "language": "en", "context": {"conversation_id": "w1"}}});
    stream.write_all(format!("{event}\n").as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let header: Value = serde_json::from_str(&line).unwrap();
    let n = header["data_length"].as_u64().unwrap_or(0) as usize;
    let mut data = vec![0u8; n];
    reader.read_exact(&mut data).unwrap();
    (
        header["type"].as_str().unwrap().to_string(),
        serde_json::from_slice(&data).unwrap(),
    )
}

#[test]
fn home_speakers_have_rate_limits_too() {
    let dir = tempfile::tempdir().unwrap();
    let config = settings(dir.path(), "[wyoming]\nrate_limit_per_minute = 2\n");
    let server = Server::start_with(
        &dir.path().join("data"),
        &[("SIGNPOST_CONFIG", &config)],
        &["--wyoming-addr", "127.0.0.1:0"],
    );
    let addr = server
        .early
        .iter()
        .find_map(|l| l.strip_prefix("Wyoming handle server is listening on tcp://"))
        .expect("the Wyoming address is printed")
        .to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    for _ in 0..2 {
        let (kind, data) = wyoming_transcript(&mut stream, "how much does a blue badge cost");
        assert_eq!(kind, "handled", "{data}");
    }
    // The third in a minute from the same address is turned away politely,
    // with the council's number, and the context is kept.
    let (kind, data) = wyoming_transcript(&mut stream, "how much does a blue badge cost");
    assert_eq!(kind, "not-handled");
    let text = data["text"].as_str().unwrap();
    assert!(
        text.contains("a lot of questions") && text.contains("01632 960100"),
        "{text}"
    );
    assert_eq!(data["context"]["conversation_id"], "w1");
}

#[test]
fn security_headers_on_every_page_and_no_secret_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let token = "s3cret-staff-token-0f9e8d7c";
    let config = settings(dir.path(), "[logging]\njson = true\n");
    let server = Server::start(
        &dir.path().join("data"),
        &[
            ("SIGNPOST_CONFIG", &config),
            ("SIGNPOST_ADMIN_TOKEN", token),
        ],
    );
    let a = agent();
    let pages = [
        ("GET", "/", None),
        ("GET", "/talk-to-a-person", None),
        ("GET", "/accessibility", None),
        ("GET", "/privacy", None),
        ("GET", "/static/app.css", None),
        ("GET", "/static/app.js", None),
        ("GET", "/api/openapi.json", None),
        ("GET", "/healthz", None),
        ("GET", "/no-such-page", None),
        ("GET", "/staff/callbacks", None),
        ("GET", "/staff/callbacks", Some(token)),
        ("GET", "/staff/callbacks", Some("a-wrong-token")),
        ("GET", "/staff/audit", Some(token)),
        ("GET", "/staff/changes", Some(token)),
        ("POST", "/api/chat", None),
    ];
    for (method, path, bearer) in pages {
        let url = server.url(path);
        let mut r = if method == "GET" {
            let mut req = a.get(&url);
            if let Some(t) = bearer {
                req = req.header("authorization", &format!("Bearer {t}"));
            }
            req.call().unwrap()
        } else {
            a.post(&url)
                .header("content-type", "application/json")
                .send("{\"message\": \"how much does a blue badge cost\"}")
                .unwrap()
        };
        let h = r.headers().clone();
        let _ = r.body_mut().read_to_string();
        for name in [
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
            "x-frame-options",
            "permissions-policy",
            "x-request-id",
        ] {
            assert!(h.contains_key(name), "{method} {path} has no {name} header");
        }
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
    }
    drop(server);
    let log = std::fs::read_to_string(dir.path().join("data/server.log")).unwrap();
    assert!(
        log.contains("staff page viewed") || log.contains("\"path\":\"/staff"),
        "the staff visits are logged"
    );
    assert!(!log.contains(token), "the staff token is never logged");
    assert!(!log.contains("a-wrong-token"), "nor a wrong one");
    assert!(!log.contains("blue badge"), "nor what residents typed");
}
