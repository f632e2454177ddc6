//! Two councils in one process: Northbay (the built-in knowledge base) and
//! Wrenfield (the hand-converted second council). The same questions, on
//! every channel (page form, JSON API, stream, voice, Home Assistant's API,
//! Wyoming with the real Python library, Alexa with a skill id per council
//! and really signed requests), get each council's own numbers and pages and
//! never a word of the other's. Staff of one council cannot see the other's
//! call-backs, audit log or evaluation; one council's kill switch turns off
//! that council only; every log line of a request names its council.

use crate::common;
use crate::speakers::{envelope, intent, post_alexa_at, speech, wyoming_client, CERT_URL};

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};

const NORTHBAY_TOKEN: &str = "northbay-staff-token-0123456789abcdef";
const WRENFIELD_TOKEN: &str = "wrenfield-staff-token-0123456789abcdef";
const NORTHBAY_SKILL: &str = "amzn1.ask.skill.00000000-test-northbay";
const WRENFIELD_SKILL: &str = "amzn1.ask.skill.00000000-test-wrenfield";

/// What marks each council's replies: its name, its numbers, its addresses.
const NORTHBAY: [&str; 3] = ["northbay", "01632", "01632 9"];
const WRENFIELD: [&str; 3] = ["wrenfield", "0118 496", "0118496"];

fn wrenfield_kb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites/wrenfield-hand")
}

/// The reply is `council`'s and has no word of the other's.
fn only(council: &str, reply: &str, what: &str) {
    let lower = reply.to_lowercase();
    let (own, other) = if council == "northbay" {
        (NORTHBAY, WRENFIELD)
    } else {
        (WRENFIELD, NORTHBAY)
    };
    assert!(
        own.iter().any(|m| lower.contains(m)),
        "{what}: {council}'s reply names neither it nor its numbers: {reply}"
    );
    for m in other {
        assert!(
            !lower.contains(m),
            "{what}: {council}'s reply has the other council's '{m}': {reply}"
        );
    }
}

fn agent() -> ureq::Agent {
    lenient()
}

fn get(server: &Server, path: &str, host: Option<&str>, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(&server.url(path));
    if let Some(h) = host {
        req = req.header("host", h);
    }
    if let Some(t) = token {
        req = req.header("authorization", &format!("Bearer {t}"));
    }
    let mut r = req.call().unwrap();
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn post_json(server: &Server, path: &str, body: &Value, token: Option<&str>) -> (u16, String) {
    let mut req = agent()
        .post(&server.url(path))
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", &format!("Bearer {t}"));
    }
    let mut r = req.send(body.to_string().as_bytes()).unwrap();
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn chat(server: &Server, council: &str, message: &str) -> Value {
    let (status, text) = post_json(
        server,
        &format!("/c/{council}/api/chat"),
        &json!({ "message": message }),
        None,
    );
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A form on a council's page, as a browser without script sends it.
fn form(server: &Server, council: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut page = agent()
        .get(&server.url(&format!("/c/{council}/")))
        .call()
        .unwrap();
    let cookie = csrf_cookie(page.headers());
    let token = form_token(&page.body_mut().read_to_string().unwrap());
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    let (status, _, body) = post_form(server, &format!("/c/{council}{path}"), &all, Some(&cookie));
    (status, body)
}

fn post_alexa(server: &Server, council: &str, body: &[u8], signature: &str) -> (u16, Value) {
    post_alexa_at(
        server,
        &format!("/c/{council}/alexa"),
        body,
        CERT_URL,
        signature,
    )
}

/// The settings for both councils, and the key that signs Alexa requests.
fn settings(d: &Path) -> (PathBuf, PathBuf) {
    let (ca, leaf, key) = make_certs(d, "councils", "echo-api.amazon.com");
    let alexa = format!(
        "testing_trust_root = \"{}\"\ntesting_cert_chain = \"{}\"",
        ca.display(),
        leaf.display()
    );
    let config = d.join("signpost.toml");
    std::fs::write(
        &config,
        format!(
            r##"[server]
rate_limit_per_minute = 1000

[privacy]
store_conversations = true

[alexa]
{alexa}

[councils.northbay]
hosts = ["care.northbay.example"]
kb.dir = "{northbay}"
staff.admin_token = "{NORTHBAY_TOKEN}"
alexa.skill_id = "{NORTHBAY_SKILL}"
wyoming.addr = "127.0.0.1:0"
embed.allowed_sites = ["https://www.northbay.example"]

[councils.wrenfield]
kb.dir = "{wrenfield}"
staff.admin_token = "{WRENFIELD_TOKEN}"
alexa.skill_id = "{WRENFIELD_SKILL}"
wyoming.addr = "127.0.0.1:0"
branding.accent = "#4a2574"
branding.logo_text = "Wrenfield <Care> & Support"
branding.footer_links = [{{ text = "Wrenfield's care directory", url = "https://www.wrenfield.example/directory" }}]
council.refusal = "Sorry, this chat only covers adult social care in Wrenfield."
"##,
            northbay = kb_dir().display(),
            wrenfield = wrenfield_kb().display(),
        ),
    )
    .unwrap();
    (config, key)
}

#[test]
fn two_councils_in_one_process_each_get_their_own_answers_on_every_channel() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, key) = settings(d);
    let data = d.join("data");
    let server = Server::start(&data, &[("SIGNPOST_CONFIG", config.to_str().unwrap())]);

    // The install lists its councils; each one's health is its own.
    let (status, home) = get(&server, "/", None, None);
    assert_eq!(status, 200);
    assert!(
        home.contains("/c/northbay/") && home.contains("/c/wrenfield/"),
        "{home}"
    );
    let (_, health) = get(&server, "/healthz", None, None);
    let health: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["councils"].as_array().unwrap().len(), 2, "{health}");

    let questions = [
        "how much does a blue badge cost",
        "how do I get a care needs assessment",
        "my mum has fallen and she can't get up",
    ];
    for council in ["northbay", "wrenfield"] {
        for q in questions {
            // JSON API.
            let v = chat(&server, council, q);
            let reply = v["reply"].as_str().unwrap();
            only(council, reply, &format!("api: {q}"));
            for s in v["sources"].as_array().unwrap() {
                let url = s["url"].as_str().unwrap_or("");
                only(council, url, &format!("api source: {q}"));
            }

            // The page's form, without script.
            let (status, page) = form(&server, council, "/", &[("q", q), ("conversation_id", "")]);
            assert_eq!(status, 200, "{page}");
            let answer = page
                .split("<main")
                .nth(1)
                .unwrap()
                .split("</main>")
                .next()
                .unwrap();
            let answer = answer
                .split("id=\"turns\"")
                .nth(1)
                .unwrap()
                .split("</ol>")
                .next()
                .unwrap();
            only(council, answer, &format!("page: {q}"));

            // Home Assistant's conversation API: speakable text.
            let (status, text) = post_json(
                &server,
                &format!("/c/{council}/api/conversation/process"),
                &json!({"text": q}),
                None,
            );
            assert_eq!(status, 200, "{text}");
            let v: Value = serde_json::from_str(&text).unwrap();
            let said = v["response"]["speech"]["plain"]["speech"].as_str().unwrap();
            only(council, said, &format!("home assistant: {q}"));
        }

        // The stream.
        let (status, _, stream) = post_raw(
            &server,
            &format!("/c/{council}/api/chat/stream"),
            Some("application/json"),
            json!({"message": questions[1]}).to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{stream}");
        assert!(stream.contains("event: done"), "{stream}");
        only(council, &stream, "stream");

        // Voice: real speech, the council's answer.
        let wav = crate::speech::speak(d, "en-gb-x-rp", "how much does a blue badge cost");
        let (status, _, text) = post_raw(
            &server,
            &format!("/c/{council}/api/voice"),
            Some("audio/wav"),
            &std::fs::read(wav).unwrap(),
        );
        assert_eq!(status, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        only(council, v["reply"].as_str().unwrap(), "voice");

        // Alexa: the council's own skill id is answered with its words; the
        // other council's skill id is refused at this council's endpoint.
        let (own_skill, other_skill) = if council == "northbay" {
            (NORTHBAY_SKILL, WRENFIELD_SKILL)
        } else {
            (WRENFIELD_SKILL, NORTHBAY_SKILL)
        };
        let ask = envelope(
            intent("AskQuestionIntent", Some(questions[0])),
            own_skill,
            json!({}),
        );
        let (status, v) = post_alexa(&server, council, &ask, &sign(d, &key, &ask));
        assert_eq!(status, 200, "{v}");
        only(council, &speech(&v), "alexa");
        let card = v["response"]["card"]["content"].as_str().unwrap_or("");
        only(council, card, "alexa card");
        let wrong = envelope(
            intent("AskQuestionIntent", Some(questions[0])),
            other_skill,
            json!({}),
        );
        let (status, _) = post_alexa(&server, council, &wrong, &sign(d, &key, &wrong));
        assert_ne!(status, 200, "{council} answered the other council's skill");
    }

    // Wyoming: one handle server per council, driven by the real library.
    for council in ["northbay", "wrenfield"] {
        let prefix = format!("Wyoming handle server for {council} is listening on tcp://");
        let addr = server
            .early
            .iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{council}'s Wyoming address is printed: {:?}", server.early))
            .to_string();
        let v = wyoming_client(&addr);
        only(
            council,
            v["answer"]["text"].as_str().unwrap(),
            "wyoming answer",
        );
        only(
            council,
            v["emergency"]["text"].as_str().unwrap(),
            "wyoming emergency",
        );
    }

    // Each council's own words and colour, where it set them.
    let w = chat(&server, "wrenfield", "who won the football last night");
    assert!(
        w["reply"]
            .as_str()
            .unwrap()
            .starts_with("Sorry, this chat only covers adult social care in Wrenfield."),
        "{w}"
    );
    let n = chat(&server, "northbay", "who won the football last night");
    assert!(
        !n["reply"]
            .as_str()
            .unwrap()
            .contains("this chat only covers"),
        "{n}"
    );
    let (_, css) = get(&server, "/c/wrenfield/static/council.css", None, None);
    assert!(css.contains("#4a2574"), "{css}");
    // Its banner and footer, from its settings, escaped by the templates.
    let (_, page) = get(&server, "/c/wrenfield/", None, None);
    assert!(
        !page.contains("<Care>") && page.contains("Wrenfield &"),
        "the banner text is escaped"
    );
    assert!(
        page.contains("href=\"https://www.wrenfield.example/directory\""),
        "the footer link"
    );
    assert!(
        page.contains("/c/wrenfield/static/council.css"),
        "its colour"
    );
    let (_, page) = get(&server, "/c/northbay/", None, None);
    assert!(!page.contains("directory\">Wrenfield") && !page.contains("council.css"));

    // A council's host name reaches its pages at /, and only its pages.
    let (status, page) = get(&server, "/", Some("care.northbay.example"), None);
    assert_eq!(status, 200);
    assert!(page.contains("Northbay") && !page.to_lowercase().contains("wrenfield"));
    assert!(
        page.contains("href=\"/c/northbay/talk-to-a-person\""),
        "links keep to the council"
    );
    let (status, _) = get(
        &server,
        "/c/wrenfield/",
        Some("care.northbay.example"),
        None,
    );
    assert_eq!(status, 404);

    // Framing: only the sites a council allows may show its chat.
    let head = |path: &str| {
        let r = agent().get(&server.url(path)).call().unwrap();
        r.headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(head("/c/northbay/").contains("frame-ancestors 'self' https://www.northbay.example;"));
    assert!(head("/c/wrenfield/").contains("frame-ancestors 'self';"));
}

#[test]
fn one_councils_staff_never_see_anothers_data_and_its_kill_switch_is_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (config, _) = settings(d);
    let data = d.join("data");
    let server = Server::start(
        &data,
        &[
            ("SIGNPOST_CONFIG", config.to_str().unwrap()),
            ("SIGNPOST_LOG_JSON", "true"),
        ],
    );

    // A call-back request to each council.
    let fields = |name| {
        [
            ("name", name),
            ("contact", "01632 960999"),
            ("best_time", "morning"),
            ("question", "I would like to talk about help at home."),
        ]
    };
    let (status, page) = form(
        &server,
        "northbay",
        "/talk-to-a-person",
        &fields("Northbay Resident"),
    );
    assert_eq!(status, 200, "{page}");
    let (status, page) = form(
        &server,
        "wrenfield",
        "/talk-to-a-person",
        &fields("Wrenfield Resident"),
    );
    assert_eq!(status, 200, "{page}");
    // A question Wrenfield's pages cannot answer, for its content-gaps export.
    let gap = chat(
        &server,
        "wrenfield",
        "how do I get a zorblax permit for care",
    );
    assert_eq!(gap["route"], "decline", "{gap}");

    // Each council's staff see their own call-backs and nothing else.
    let (status, list) = get(
        &server,
        "/c/northbay/staff/callbacks",
        None,
        Some(NORTHBAY_TOKEN),
    );
    assert_eq!(status, 200);
    assert!(
        list.contains("Northbay Resident") && !list.contains("Wrenfield Resident"),
        "{list}"
    );
    let (status, list) = get(
        &server,
        "/c/wrenfield/staff/callbacks",
        None,
        Some(WRENFIELD_TOKEN),
    );
    assert_eq!(status, 200);
    assert!(
        list.contains("Wrenfield Resident") && !list.contains("Northbay Resident"),
        "{list}"
    );
    // One council's token opens none of the other's staff pages.
    for path in [
        "staff/callbacks",
        "staff/audit",
        "staff/gaps",
        "staff/eval",
        "staff/changes",
    ] {
        let (status, body) = get(
            &server,
            &format!("/c/wrenfield/{path}"),
            None,
            Some(NORTHBAY_TOKEN),
        );
        assert_eq!(status, 401, "{path}: {body}");
        let (status, body) = get(
            &server,
            &format!("/c/northbay/{path}"),
            None,
            Some(WRENFIELD_TOKEN),
        );
        assert_eq!(status, 401, "{path}: {body}");
    }
    let (_, gaps) = get(
        &server,
        "/c/wrenfield/staff/gaps",
        None,
        Some(WRENFIELD_TOKEN),
    );
    assert!(gaps.contains("zorblax"), "{gaps}");
    let (_, gaps) = get(
        &server,
        "/c/northbay/staff/gaps",
        None,
        Some(NORTHBAY_TOKEN),
    );
    assert!(
        gaps.starts_with("date,question") && !gaps.contains("zorblax"),
        "{gaps}"
    );
    let (_, audit) = get(
        &server,
        "/c/wrenfield/staff/audit",
        None,
        Some(WRENFIELD_TOKEN),
    );
    let audit: Value = serde_json::from_str(&audit).unwrap();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["detail"] != "/staff/callbacks" || e["at"].is_number()),
        "{audit}"
    );
    let wrenfield_views = audit.as_array().unwrap().len();
    let (_, audit) = get(
        &server,
        "/c/northbay/staff/audit",
        None,
        Some(NORTHBAY_TOKEN),
    );
    let northbay_audit: Value = serde_json::from_str(&audit).unwrap();
    // Northbay's log holds its own views (callbacks, gaps, audit) and none of Wrenfield's.
    assert_eq!(
        northbay_audit.as_array().unwrap().len(),
        3,
        "{northbay_audit} (wrenfield had {wrenfield_views})"
    );

    // Evaluation per council: the report lands in that council's data and
    // only its staff page shows it.
    let cases = d.join("cases.jsonl");
    std::fs::write(
        &cases,
        r#"{"id": "w1", "question": "how do I get a care needs assessment", "expect": {"route": "answer"}}
"#,
    )
    .unwrap();
    let out = bin()
        .env("SIGNPOST_DATA_DIR", &data)
        .env("SIGNPOST_CONFIG", &config)
        .args(["--council", "wrenfield", "eval"])
        .arg(&cases)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, report) = get(
        &server,
        "/c/wrenfield/staff/eval",
        None,
        Some(WRENFIELD_TOKEN),
    );
    assert_eq!(status, 200, "{report}");
    let (status, _) = get(
        &server,
        "/c/northbay/staff/eval",
        None,
        Some(NORTHBAY_TOKEN),
    );
    assert_eq!(status, 404, "Northbay has no evaluation of its own yet");
    let out = bin()
        .env("SIGNPOST_CONFIG", &config)
        .args(["--council", "nowhere", "eval"])
        .arg(&cases)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("no council 'nowhere'")
            && err.contains("northbay, wrenfield"),
        "{err}"
    );

    // Northbay's kill switch turns off Northbay only.
    let (status, body) = post_json(
        &server,
        "/c/northbay/staff/kill-switch",
        &json!({"on": true}),
        Some(NORTHBAY_TOKEN),
    );
    assert_eq!(status, 200, "{body}");
    let off = chat(&server, "northbay", "how much does a blue badge cost");
    assert_eq!(off["route"], "decline", "{off}");
    let reply = off["reply"].as_str().unwrap();
    assert!(
        reply.contains("not available") && reply.contains("01632 960100"),
        "{off}"
    );
    let v = chat(&server, "wrenfield", "how much does a blue badge cost");
    assert_eq!(v["route"], "answer", "{v}");

    // The install's metrics: every series carries its council, and nothing
    // anyone typed is in them.
    let (status, metrics) = get(&server, "/metrics", None, None);
    assert_eq!(status, 200);
    for line in [
        "signpost_answers_total{council=\"wrenfield\",channel=\"web\",route=\"decline\"}",
        "signpost_refusals_total{council=\"northbay\",outcome=\"switched-off\"} 1",
        "signpost_http_requests_total{council=\"wrenfield\",route=\"/c/wrenfield/talk-to-a-person\",method=\"POST\",status=\"200\"} 1",
        "signpost_http_requests_total{council=\"northbay\",route=\"/c/northbay/staff/callbacks\",method=\"GET\",status=\"401\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} is missing from:\n{metrics}");
    }
    assert!(
        !metrics.contains("zorblax") && !metrics.contains("Resident"),
        "{metrics}"
    );
    let (status, ready) = get(&server, "/readyz", None, None);
    assert_eq!((status, ready.as_str()), (200, "{\"ready\":true}"));

    // Every log line of a council's request names the council.
    drop(server);
    // The log is copied from the server's output by a thread: wait for it.
    let mut log = String::new();
    for _ in 0..100 {
        log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
        if log.contains("kill switch changed by staff") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["name"] == "request")
        .collect();
    assert!(lines.len() >= 5, "{log}");
    for v in &lines {
        let path = v["span"]["path"].as_str().unwrap_or("");
        if let Some(rest) = path.strip_prefix("/c/") {
            let id = rest.split('/').next().unwrap();
            assert_eq!(
                v["span"]["council"], id,
                "a request's line without its council: {v}"
            );
        }
    }
    assert!(lines
        .iter()
        .any(|v| v["fields"]["message"] == "answered" && v["span"]["council"] == "wrenfield"));
}
