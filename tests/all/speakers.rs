//! Home speakers. Alexa: requests signed for real (RSA, SHA-256) with a
//! locally made CA and certificate (made by the `openssl` command), checked
//! by the server before parsing, then answered. Wyoming: the real `wyoming`
//! Python library as Home Assistant's side of the protocol.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue};
use common::*;
use serde_json::{json, Value};
use signpost::config::AlexaSettings;
use signpost::speakers::alexa::{Refused, Verifier};

const SKILL: &str = "amzn1.ask.skill.00000000-test-northbay";
pub(crate) const CERT_URL: &str = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem";

fn now_iso(offset_seconds: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_seconds))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

pub(crate) fn envelope(request: Value, app: &str, attributes: Value) -> Vec<u8> {
    json!({
        "version": "1.0",
        "session": {
            "new": false,
            "sessionId": "amzn1.echo-api.session.test",
            "application": {"applicationId": app},
            "attributes": attributes,
            "user": {"userId": "amzn1.ask.account.test"}
        },
        "context": {"System": {
            "application": {"applicationId": app},
            "user": {"userId": "amzn1.ask.account.test"},
            "apiEndpoint": "https://api.eu.amazonalexa.com"
        }},
        "request": request
    })
    .to_string()
    .into_bytes()
}

pub(crate) fn intent(name: &str, question: Option<&str>) -> Value {
    let slots = match question {
        Some(q) => {
            json!({"question": {"name": "question", "value": q, "confirmationStatus": "NONE"}})
        }
        None => json!({"question": {"name": "question", "confirmationStatus": "NONE"}}),
    };
    // Every request has its own id, as Amazon's do (a repeated id is a replay).
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    json!({
        "type": "IntentRequest", "requestId": format!("amzn1.echo-api.request.{n}"),
        "timestamp": now_iso(0), "locale": "en-GB",
        "intent": {"name": name, "confirmationStatus": "NONE", "slots": slots}
    })
}

fn post_alexa(server: &Server, body: &[u8], url: &str, signature: &str) -> (u16, Value) {
    post_alexa_at(server, "/alexa", body, url, signature)
}

/// A signed Alexa request to the endpoint at `path`.
pub(crate) fn post_alexa_at(
    server: &Server,
    path: &str,
    body: &[u8],
    url: &str,
    signature: &str,
) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut r = agent
        .post(&server.url(path))
        .header("content-type", "application/json;charset=UTF-8")
        .header("SignatureCertChainUrl", url)
        .header("Signature-256", signature)
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn speech(v: &Value) -> String {
    v["response"]["outputSpeech"]["ssml"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn alexa_requests_are_verified_then_answered() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, leaf, key) = make_certs(d, "good", "echo-api.amazon.com");
    let config = d.join("signpost.toml");
    std::fs::write(
        &config,
        format!(
            "[alexa]\nskill_id = \"{SKILL}\"\ntesting_trust_root = \"{}\"\ntesting_cert_chain = \"{}\"\nrate_limit_per_minute = 3\n",
            ca.display(),
            leaf.display()
        ),
    )
    .unwrap();
    let data = d.join("data");
    let server = Server::start(&data, &[("SIGNPOST_CONFIG", config.to_str().unwrap())]);
    let signed = |body: &[u8]| sign(d, &key, body);

    // Launch: a welcome with an example, the session kept open.
    let launch = envelope(
        json!({"type": "LaunchRequest", "requestId": "r1", "timestamp": now_iso(0), "locale": "en-GB"}),
        SKILL,
        json!({}),
    );
    let (status, v) = post_alexa(&server, &launch, CERT_URL, &signed(&launch));
    assert_eq!(status, 200, "{v}");
    assert!(speech(&v).contains("Blue Badge"), "{v}");
    assert_eq!(v["response"]["shouldEndSession"], false);

    // A question: a speakable answer in SSML, a card with the source, only a
    // conversation id in the session.
    let ask = envelope(
        intent("AskQuestionIntent", Some("how much does a blue badge cost")),
        SKILL,
        json!({}),
    );
    let (status, v) = post_alexa(&server, &ask, CERT_URL, &signed(&ask));
    assert_eq!(status, 200, "{v}");
    let s = speech(&v);
    assert!(s.starts_with("<speak>") && s.ends_with("</speak>"), "{s}");
    assert!(s.contains("£10"), "{s}");
    assert!(
        !s.contains("http") && !s.contains("www."),
        "no web addresses spoken: {s}"
    );
    assert!(
        s.contains("<say-as interpret-as=\"telephone\">01632 960100</say-as>"),
        "{s}"
    );
    let words = s.replace("<speak>", "").split_whitespace().count();
    assert!(words <= 100, "{words} words");
    let card = v["response"]["card"]["content"].as_str().unwrap();
    assert!(
        card.contains("Blue Badge parking permits")
            && card.contains("https://www.northbay.example/care/blue-badge"),
        "{card}"
    );
    let attrs = v["sessionAttributes"].as_object().unwrap();
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["conversation_id"]);
    let conv = attrs["conversation_id"].as_str().unwrap();

    // A follow-up in the same session uses the conversation.
    let follow = envelope(
        intent("AskQuestionIntent", Some("how long does it last")),
        SKILL,
        json!({"conversation_id": conv}),
    );
    let (_, v) = post_alexa(&server, &follow, CERT_URL, &signed(&follow));
    assert!(speech(&v).contains("3 years"), "{v}");

    // An emergency: urgent advice first, and the session ends.
    let urgent = envelope(
        intent(
            "AskQuestionIntent",
            Some("my mum has fallen and she can't get up"),
        ),
        SKILL,
        json!({}),
    );
    let (_, v) = post_alexa(&server, &urgent, CERT_URL, &signed(&urgent));
    let s = speech(&v);
    let first_999 = s.find("999").expect("999 is said");
    assert!(first_999 < 120, "urgent advice comes first: {s}");
    assert_eq!(v["response"]["shouldEndSession"], true);
    assert_eq!(v["response"]["card"]["title"], "Urgent help");

    // Built-in intents, a missing slot, an unknown intent, and session end.
    for (name, expect, end) in [
        ("AMAZON.HelpIntent", "01632 960100", false),
        ("AMAZON.StopIntent", "Goodbye", true),
        ("AMAZON.CancelIntent", "Goodbye", true),
        (
            "AMAZON.FallbackIntent",
            "only help with questions about adult social care",
            false,
        ),
        ("AMAZON.NavigateHomeIntent", "Welcome", false),
        (
            "SomeUnknownIntent",
            "only help with questions about adult social care",
            false,
        ),
    ] {
        let b = envelope(intent(name, None), SKILL, json!({}));
        let (status, v) = post_alexa(&server, &b, CERT_URL, &signed(&b));
        assert_eq!(status, 200, "{name}: {v}");
        assert!(speech(&v).contains(expect), "{name}: {v}");
        assert_eq!(v["response"]["shouldEndSession"], end, "{name}");
    }
    let b = envelope(intent("AskQuestionIntent", None), SKILL, json!({}));
    let (_, v) = post_alexa(&server, &b, CERT_URL, &signed(&b));
    assert!(
        speech(&v).contains("What would you like to ask about"),
        "{v}"
    );
    let ended = envelope(
        json!({"type": "SessionEndedRequest", "requestId": "r9", "timestamp": now_iso(0), "reason": "USER_INITIATED"}),
        SKILL,
        json!({}),
    );
    let (status, v) = post_alexa(&server, &ended, CERT_URL, &signed(&ended));
    assert_eq!(status, 200);
    assert_eq!(v, json!({"version": "1.0", "response": {}}));

    // Refusals: each is HTTP 400.
    let good_sig = signed(&ask);
    let mut tampered = ask.clone();
    let pos = tampered.windows(4).position(|w| w == b"blue").unwrap();
    tampered[pos] = b'B';
    let old = envelope(
        json!({"type": "LaunchRequest", "requestId": "r2", "timestamp": now_iso(-200), "locale": "en-GB"}),
        SKILL,
        json!({}),
    );
    let other_skill = envelope(
        json!({"type": "LaunchRequest", "requestId": "r3", "timestamp": now_iso(0), "locale": "en-GB"}),
        "amzn1.ask.skill.someone-else",
        json!({}),
    );
    let cases: Vec<(&str, Vec<u8>, &str, String)> = vec![
        ("a changed body", tampered, CERT_URL, good_sig.clone()),
        (
            "a signature of other bytes",
            launch.clone(),
            CERT_URL,
            good_sig.clone(),
        ),
        (
            "a signature that is not base64",
            ask.clone(),
            CERT_URL,
            "!!!".into(),
        ),
        ("an old timestamp", old.clone(), CERT_URL, signed(&old)),
        (
            "another skill",
            other_skill.clone(),
            CERT_URL,
            signed(&other_skill),
        ),
        (
            "http",
            ask.clone(),
            "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            good_sig.clone(),
        ),
        (
            "another host",
            ask.clone(),
            "https://notamazon.com/echo.api/echo-api-cert.pem",
            good_sig.clone(),
        ),
        (
            "another port",
            ask.clone(),
            "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
            good_sig.clone(),
        ),
        (
            "another path",
            ask.clone(),
            "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
            good_sig.clone(),
        ),
    ];
    // A request already answered, sent again: a replay.
    let mut cases = cases;
    cases.push((
        "the same request again",
        ended.clone(),
        CERT_URL,
        signed(&ended),
    ));
    for (what, body, url, sig) in cases {
        let (status, v) = post_alexa(&server, &body, url, &sig);
        assert_eq!(status, 400, "{what}: {v}");
        assert_eq!(v["error"], "not_verified", "{what}");
    }
    // Three questions were asked this minute, the limit set above: the
    // fourth is turned away politely, with the council's number.
    let fourth = envelope(
        intent("AskQuestionIntent", Some("what is a carers assessment")),
        SKILL,
        json!({}),
    );
    let (status, v) = post_alexa(&server, &fourth, CERT_URL, &signed(&fourth));
    assert_eq!(status, 200);
    let said = speech(&v);
    assert!(
        said.contains("a lot of questions") && said.contains("01632 960100"),
        "{said}"
    );
    // Missing headers.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let r = agent
        .post(&server.url("/alexa"))
        .header("content-type", "application/json")
        .send(&launch[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

fn headers(sig: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("signaturecertchainurl", HeaderValue::from_static(CERT_URL));
    h.insert("signature-256", HeaderValue::from_str(sig).unwrap());
    h
}

#[test]
fn alexa_certificates_must_be_trusted_in_date_and_for_echo_api() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ca, leaf, key) = make_certs(d, "good", "echo-api.amazon.com");
    let (_, wrong_name_leaf, wrong_name_key) = {
        // Signed by the same CA, but for another name.
        let (_, l, k) = make_certs(d, "tmp", "other.example.com");
        let csr = d.join("wn.csr");
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                k.to_str().unwrap(),
                "-out",
                csr.to_str().unwrap(),
                "-subj",
                "/CN=other.example.com",
            ],
        );
        std::fs::write(d.join("wn.cnf"), "subjectAltName=DNS:other.example.com\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "wn.csr",
                "-CA",
                "good-ca.pem",
                "-CAkey",
                "good-ca.key",
                "-CAcreateserial",
                "-out",
                "wn.pem",
                "-days",
                "30",
                "-extfile",
                "wn.cnf",
            ],
        );
        (l, d.join("wn.pem"), k)
    };
    let (_, stranger_leaf, stranger_key) = make_certs(d, "stranger", "echo-api.amazon.com");
    let settings = |chain: &Path| AlexaSettings {
        skill_id: SKILL.into(),
        testing_trust_root: Some(ca.clone()),
        testing_cert_chain: Some(chain.to_path_buf()),
        ..AlexaSettings::default()
    };
    let body = envelope(
        json!({"type": "LaunchRequest", "requestId": "r1", "timestamp": now_iso(0)}),
        SKILL,
        json!({}),
    );
    // The good certificate verifies now...
    let v = Verifier::new(&settings(&leaf)).unwrap();
    let h = headers(&sign(d, &key, &body));
    assert!(v.verify(&h, &body, SystemTime::now()).is_ok());
    // ...but not after it expires (31 days on), nor before it was issued.
    let later = SystemTime::now() + Duration::from_secs(31 * 86_400);
    assert!(matches!(
        v.verify(&h, &body, later),
        Err(Refused::Certificate(_))
    ));
    let earlier = SystemTime::now() - Duration::from_secs(2 * 86_400);
    assert!(matches!(
        v.verify(&h, &body, earlier),
        Err(Refused::Certificate(_))
    ));
    // A certificate for another name, even from the trusted CA.
    let v = Verifier::new(&settings(&wrong_name_leaf)).unwrap();
    let h = headers(&sign(d, &wrong_name_key, &body));
    let e = v.verify(&h, &body, SystemTime::now()).unwrap_err();
    assert!(
        matches!(&e, Refused::Certificate(m) if m.contains("echo-api.amazon.com")),
        "{e}"
    );
    // A certificate from a CA nobody trusts.
    let v = Verifier::new(&settings(&stranger_leaf)).unwrap();
    let h = headers(&sign(d, &stranger_key, &body));
    assert!(matches!(
        v.verify(&h, &body, SystemTime::now()),
        Err(Refused::Certificate(_))
    ));
}

/// Where ./setup.sh puts the pinned `wyoming` wheel.
fn wyoming_wheel() -> PathBuf {
    let dir = std::env::var_os("SIGNPOST_TEST_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::cache_dir().unwrap().join("signpost/test-packages"));
    dir.join("wyoming-1.10.2-py3-none-any.whl")
}

/// Runs tests/wyoming_client.py (the real `wyoming` library, as Home
/// Assistant uses it) against a Wyoming server; what came back.
pub(crate) fn wyoming_client(addr: &str) -> Value {
    let wheel = wyoming_wheel();
    assert!(
        wheel.exists(),
        "{} is missing: run ./setup.sh",
        wheel.display()
    );
    let (host, port) = addr.rsplit_once(':').unwrap();
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wyoming_client.py");
    let out = Command::new("python3")
        .arg(client)
        .args([host, port])
        .env("PYTHONPATH", &wheel)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn wyoming_handle_server_answers_home_assistant() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), &[], &["--wyoming-addr", "127.0.0.1:0"]);
    let addr = server
        .early
        .iter()
        .find_map(|l| l.strip_prefix("Wyoming handle server is listening on tcp://"))
        .expect("the Wyoming address is printed")
        .to_string();
    let v = wyoming_client(&addr);
    assert_eq!(v["handle"][0]["name"], "signpost", "{v}");
    assert_eq!(v["handle"][0]["installed"], true);
    assert_eq!(v["handle"][0]["languages"], json!(["en"]));
    assert_eq!(v["answer"]["type"], "handled", "{v}");
    let text = v["answer"]["text"].as_str().unwrap();
    assert!(text.contains("£10") && !text.contains("http"), "{text}");
    assert_eq!(v["answer"]["context"]["conversation_id"], "ha-conv-1");
    assert!(
        v["follow_up"]["text"].as_str().unwrap().contains("3 years"),
        "{v}"
    );
    let urgent = v["emergency"]["text"].as_str().unwrap();
    assert!(urgent.find("999").is_some_and(|i| i < 120), "{urgent}");
    assert_eq!(v["empty"]["type"], "not-handled");
    assert_eq!(v["french"]["type"], "not-handled");
    assert!(v["french"]["text"].as_str().unwrap().contains("en"));
}
