//! The web page's server side over a real socket: forms with and without
//! their token, the no-JavaScript conversation, streaming, security headers,
//! friendly errors for oversized and malformed requests, the rate limit, the
//! call-back form and its staff view, and the OpenAPI document.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn get(server: &Server, path: &str, auth: Option<&str>) -> (u16, ureq::http::HeaderMap, String) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.get(&server.url(path));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let mut r = req.call().expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (
        status,
        headers,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn page_forms_streaming_and_friendly_errors() {
    let data = tempfile::tempdir().unwrap();
    let token = "staff-token-for-web-test";
    let server = Server::start(data.path(), &[("SIGNPOST_ADMIN_TOKEN", token)]);

    // The page, with security headers and a form token.
    let (status, h, html) = get(&server, "/", None);
    assert_eq!(status, 200);
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
    assert!(html.contains("role=\"log\"") && html.contains("role=\"status\""));
    assert!(html.contains("lang=\"en-GB\""));
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "no inline script or style"
    );

    // The no-JavaScript form: a post without the token is refused, keeping the question.
    let q = "how much does a blue badge cost";
    let (status, _, page) = post_form(&server, "/", &[("csrf", "x"), ("q", q)], None);
    assert_eq!(status, 403);
    assert!(
        page.contains("expired") && page.contains(q),
        "the question is kept: {page}"
    );

    // With the token: the whole conversation comes back as HTML.
    let (cookie, tok) = csrf(&server);
    let (status, _, page) = post_form(
        &server,
        "/",
        &[("csrf", &tok), ("conversation_id", ""), ("q", q)],
        Some(&cookie),
    );
    assert_eq!(status, 200);
    assert!(page.contains("£10"), "{page}");
    assert!(page.contains("https://www.northbay.example/care/blue-badge"));
    let conv = page
        .split("name=\"conversation_id\" id=\"conversation_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(!conv.is_empty());
    let (_, _, page) = post_form(
        &server,
        "/",
        &[
            ("csrf", &tok),
            ("conversation_id", &conv),
            ("q", "how long does it last"),
        ],
        Some(&cookie),
    );
    assert_eq!(page.matches("You said").count(), 2, "both questions shown");
    assert!(page.contains("3 years"));

    // Streaming: sentences as delta events, then one done event with sources.
    let (status, h, stream) = post_raw(
        &server,
        "/api/chat/stream",
        Some("application/json"),
        json!({"message": q}).to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert!(h
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert!(stream.matches("event: delta").count() >= 2, "{stream}");
    assert_eq!(stream.matches("event: done").count(), 1);
    let done: Value = serde_json::from_str(
        stream
            .split("event: done\ndata: ")
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(done["route"], "answer");
    assert_eq!(done["sources"][0]["slug"], "blue-badge");
    let deltas: String = stream
        .split("event: delta\ndata: ")
        .skip(1)
        .map(|b| {
            let v: Value = serde_json::from_str(b.lines().next().unwrap()).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        deltas,
        done["reply"].as_str().unwrap(),
        "the deltas make up the reply"
    );

    // Friendly errors in the documented shape.
    let (status, _, body) = post_raw(
        &server,
        "/api/chat",
        Some("application/json"),
        b"{\"message\": ",
    );
    assert_eq!(status, 400);
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"], "bad_request");
    assert!(
        e["message"].as_str().unwrap().contains("Send JSON like"),
        "{e}"
    );
    let (status, _, body) = post_raw(&server, "/api/chat/stream", None, b"hello");
    assert_eq!(status, 415, "{body}");
    let (status, _, body) = post_raw(
        &server,
        "/api/chat/stream",
        Some("application/json"),
        json!({"message": "  "}).to_string().as_bytes(),
    );
    assert_eq!(status, 400);
    assert!(body.contains("empty_message"), "{body}");
    // Over the 64 KiB limit, but small enough to be written whole before the
    // server answers (a much larger body can meet a closed socket on a busy machine).
    let huge = "a".repeat(80_000);
    let (status, _, body) = post_raw(
        &server,
        "/api/chat",
        Some("application/json"),
        json!({"message": huge}).to_string().as_bytes(),
    );
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "too_large"
    );
    let (status, _, page) = post_form(&server, "/", &[("q", &huge)], Some(&cookie));
    assert_eq!(status, 413);
    assert!(
        page.contains("too long") && page.contains("01632 960100"),
        "{page}"
    );
    let long = "a".repeat(2500);
    let (status, _, page) = post_form(&server, "/", &[("csrf", &tok), ("q", &long)], Some(&cookie));
    assert_eq!(status, 413);
    assert!(
        page.contains("under 2000 characters") && page.contains("aria-invalid"),
        "{page}"
    );

    // The OpenAPI document lists the routes and the error shape.
    let (status, _, doc) = get(&server, "/api/openapi.json", None);
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/api/chat/stream"]["post"]["responses"]["429"].is_object());
    assert!(doc["components"]["schemas"]["Error"].is_object());

    // The call-back form: errors, then stored; staff see it with the token.
    let (status, _, page) = post_form(
        &server,
        "/talk-to-a-person",
        &[
            ("csrf", &tok),
            ("name", ""),
            ("contact", "not a number"),
            ("best_time", ""),
        ],
        Some(&cookie),
    );
    assert_eq!(status, 422);
    assert!(page.contains("There is a problem") && page.contains("<title>Error:"));
    assert!(page.contains("Enter a UK phone number"), "{page}");
    assert!(
        page.contains("value=\"not a number\""),
        "what was typed is kept"
    );
    let (status, _, page) = post_form(
        &server,
        "/talk-to-a-person",
        &[
            ("csrf", &tok),
            ("name", "Pat Example"),
            ("contact", "01632 960 999"),
            ("best_time", "morning"),
            ("question", "help with a care assessment"),
        ],
        Some(&cookie),
    );
    assert_eq!(status, 200);
    assert!(page.contains("We have your request"));
    let (status, _, _) = get(&server, "/staff/callbacks", None);
    assert_eq!(status, 401);
    let (status, _, page) = get(
        &server,
        "/staff/callbacks",
        Some(&format!("Bearer {token}")),
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("Pat Example") && page.contains("01632 960 999") && page.contains("Morning")
    );
    let (_, _, audit) = get(&server, "/staff/audit", Some(&format!("Bearer {token}")));
    assert!(audit.contains("/staff/callbacks"), "{audit}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    assert!(
        !log.contains("Pat Example") && !log.contains("960 999"),
        "call-back details are not logged"
    );

    // "Check what you might pay": the form uses the chat's calculator.
    let (status, _, page) = get(
        &server,
        "/check-what-you-might-pay?care=home&savings=about+20%2C000",
        None,
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("£23 a week") && page.contains("paying-for-care-at-home"),
        "{page}"
    );
    for (savings, expect) in [
        ("14250", "will not be counted"),
        ("14251", "£1 a week"),
        ("23250", "£36 a week"),
        ("23251", "full cost"),
    ] {
        let (_, _, page) = get(
            &server,
            &format!(
                "/check-what-you-might-pay?care=care-home&savings={savings}&own=yes&lives=partner"
            ),
            None,
        );
        assert!(page.contains(expect), "£{savings}: {page}");
        assert!(page.contains("not counted while your partner still lives there"));
    }
    let (status, _, page) = get(
        &server,
        "/check-what-you-might-pay?care=care-home&savings=lots",
        None,
    );
    assert_eq!(status, 422);
    assert!(
        page.contains("Enter savings as an amount of money")
            && page.contains("Choose whether you own your home")
    );

    // Settings without JavaScript: saved in a cookie, then applied.
    let (status, h, _) = post_form(
        &server,
        "/settings",
        &[("csrf", &tok), ("contrast", "on"), ("short", "on")],
        Some(&cookie),
    );
    assert_eq!(status, 303);
    let set = h.get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.starts_with("sp_prefs=contrast.short;"), "{set}");
}

#[test]
fn over_the_limit_gets_a_friendly_answer_with_the_phone_number() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("signpost.toml");
    std::fs::write(&config, "[server]\nrate_limit_per_minute = 3\n").unwrap();
    let server = Server::start(
        data.path(),
        &[("SIGNPOST_CONFIG", config.to_str().unwrap())],
    );
    let ask = || {
        post_raw(
            &server,
            "/api/chat",
            Some("application/json"),
            json!({"message": "what is reablement"})
                .to_string()
                .as_bytes(),
        )
    };
    for _ in 0..3 {
        assert_eq!(ask().0, 200);
    }
    let (status, h, body) = ask();
    assert_eq!(status, 429);
    assert_eq!(h.get("retry-after").unwrap(), "60");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"], "rate_limited");
    assert!(
        e["message"].as_str().unwrap().contains("01632 960100"),
        "{e}"
    );
    // People using the form get a page, not a bare status.
    let (status, h, page) = post_form(&server, "/", &[("q", "what is reablement")], None);
    assert_eq!(status, 429);
    assert!(h
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.contains("Please wait a minute") && page.contains("01632 960100"),
        "{page}"
    );
    assert!(page.contains("999"));
    // Reading pages is never limited.
    assert_eq!(get(&server, "/", None).0, 200);
}
