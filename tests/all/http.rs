//! The HTTP API, driven over a real socket against a real index.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn post(server: &Server, body: &str) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut resp = agent
        .post(&server.url("/api/chat"))
        .header("content-type", "application/json")
        .send(body)
        .expect("request");
    let status = resp.status().as_u16();
    let v: Value = resp.body_mut().read_json().expect("JSON body");
    (status, v)
}

#[test]
fn chat_health_errors_and_follow_ups() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);

    // Health.
    let mut resp = ureq::get(&server.url("/healthz")).call().unwrap();
    assert!(resp.headers().get("x-request-id").is_some());
    let h: Value = resp.body_mut().read_json().unwrap();
    assert_eq!(h["status"], "ok");
    assert!(h["pages"].as_u64().unwrap() >= 47);

    // An answer, with sources and a new conversation id.
    let (status, v) = post(
        &server,
        &json!({"message": "how much does a blue badge cost"}).to_string(),
    );
    assert_eq!(status, 200);
    assert_eq!(v["route"], "answer");
    assert_eq!(slugs(&v)[0], "blue-badge");
    assert_eq!(v["grounded"], true);
    let conv = v["conversation_id"].as_str().unwrap().to_string();
    assert!(!conv.is_empty());

    // A follow-up in the same conversation uses the earlier question.
    let (_, f) = post(
        &server,
        &json!({"message": "how long does it last", "conversation_id": conv}).to_string(),
    );
    assert_eq!(f["route"], "answer");
    assert_eq!(f["conversation_id"], conv.as_str());
    assert!(slugs(&f).contains(&"blue-badge".to_string()), "{f}");
    assert!(f["reply"].as_str().unwrap().contains("3 years"), "{f}");

    // The same follow-up in a new conversation has nothing to lean on.
    let (_, alone) = post(
        &server,
        &json!({"message": "how long does it last"}).to_string(),
    );
    assert!(
        !slugs(&alone).contains(&"blue-badge".to_string()),
        "{alone}"
    );

    // A money question is answered by the calculator over the API too.
    let (_, m) = post(
        &server,
        &json!({"message": "my savings are about 20 thousand pounds, will i have to pay for carers at home"}).to_string(),
    );
    assert_eq!(m["route"], "answer");
    assert!(m["reply"].as_str().unwrap().contains("£23 a week"), "{m}");
    assert_eq!(slugs(&m)[0], "paying-for-care-at-home");

    // Emergencies over HTTP.
    let (_, e) = post(
        &server,
        &json!({"message": "my dad fell and hit his head"}).to_string(),
    );
    assert_eq!(e["route"], "escalate");
    assert!(e["reply"].as_str().unwrap().starts_with("Call 999"));

    // Voice channel.
    let (_, voice) = post(
        &server,
        &json!({"message": "what is reablement", "channel": "voice"}).to_string(),
    );
    let text = voice["reply"].as_str().unwrap();
    assert!(
        text.split_whitespace().count() <= 90 && !text.contains("http"),
        "{text}"
    );

    // Malformed JSON, unknown fields, wrong types: clear JSON errors.
    let (status, err) = post(&server, "{\"message\": ");
    assert_eq!(status, 400);
    assert_eq!(err["error"], "bad_request");
    assert!(err["message"].as_str().unwrap().contains("Send JSON like"));
    let (status, err) = post(&server, &json!({"msg": "hi"}).to_string());
    assert_eq!(status, 400, "{err}");
    let (status, _) = post(
        &server,
        &json!({"message": "hi", "channel": "fax"}).to_string(),
    );
    assert_eq!(status, 400);

    // Too long a message, and too large a body.
    let (status, err) = post(&server, &json!({"message": "a ".repeat(1500)}).to_string());
    assert_eq!(status, 413);
    assert_eq!(err["error"], "message_too_long");
    let (status, err) = post(
        &server,
        &json!({"message": "a".repeat(100_000)}).to_string(),
    );
    assert_eq!(status, 413);
    assert_eq!(err["error"], "too_large");
}

#[test]
fn message_text_is_not_logged_by_default() {
    let data = tempfile::tempdir().unwrap();
    {
        let server = Server::start(data.path(), &[]);
        let (_, v) = post(
            &server,
            &json!({"message": "my neighbour zebediah needs a blue badge"}).to_string(),
        );
        assert_eq!(v["route"], "answer");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    assert!(log.contains("answered"), "{log}");
    assert!(log.contains("request_id"), "{log}");
    assert!(!log.to_lowercase().contains("zebediah"), "{log}");
}

#[test]
fn home_assistant_conversation_api() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let ha = |body: serde_json::Value| -> Value {
        let mut r = ureq::post(&server.url("/api/conversation/process"))
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap();
        r.body_mut().read_json().unwrap()
    };
    // Home Assistant sends extra fields (agent_id, device_id): they are ignored.
    let v = ha(
        json!({"text": "how much does a blue badge cost", "language": "en", "agent_id": "signpost", "device_id": "kitchen"}),
    );
    assert_eq!(v["response"]["response_type"], "query_answer");
    assert_eq!(v["response"]["language"], "en");
    let speech = v["response"]["speech"]["plain"]["speech"].as_str().unwrap();
    assert!(speech.contains("£10"), "{speech}");
    assert!(
        !speech.contains("http")
            && !speech.contains("www.")
            && speech.split_whitespace().count() <= 90,
        "{speech}"
    );
    assert_eq!(v["continue_conversation"], false);
    let conv = v["conversation_id"].as_str().unwrap().to_string();

    // One conversation per conversation_id: a follow-up is understood.
    let f = ha(json!({"text": "how long does it last", "conversation_id": conv}));
    assert_eq!(f["conversation_id"], conv.as_str());
    assert!(
        f["response"]["speech"]["plain"]["speech"]
            .as_str()
            .unwrap()
            .contains("3 years"),
        "{f}"
    );

    // Urgent help first, by voice too.
    let e = ha(json!({"text": "my dad has fallen and he cant get up"}));
    assert!(e["response"]["speech"]["plain"]["speech"]
        .as_str()
        .unwrap()
        .starts_with("Call 999"));

    // A clarifying question keeps the satellite listening.
    let c = ha(json!({"text": "hello"}));
    assert_eq!(c["continue_conversation"], true);
}
