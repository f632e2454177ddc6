//! The evaluation harness end to end: the JSON contract, the HTML report in
//! a real headless browser, threshold gating, baselines and the staff page.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const CONTRACT: [&str; 13] = [
    "cases",
    "route_accuracy",
    "escalate_recall",
    "false_alarm_rate",
    "fact_recall",
    "source_recall_at_3",
    "grounded_rate",
    "voice_ok_rate",
    "p50_ms",
    "p95_ms",
    "by_route",
    "confusion",
    "results",
];
const RESULT_FIELDS: [&str; 9] = [
    "id",
    "route",
    "pass",
    "missing_facts",
    "forbidden_found",
    "cited",
    "grounded",
    "ms",
    "reply",
];

fn eval(data: &Path, args: &[&str]) -> std::process::Output {
    let mut a = vec!["eval"];
    a.extend_from_slice(args);
    run(data, &a)
}

#[test]
fn smoke_set_writes_the_full_contract_and_a_report() {
    let data = tempfile::tempdir().unwrap();
    let json = data.path().join("out.json");
    let html = data.path().join("out.html");
    let out = eval(
        data.path(),
        &[
            "eval/smoke.jsonl",
            "--json",
            json.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in CONTRACT {
        assert!(keys.contains(&k), "missing {k}");
    }
    assert_eq!(
        keys.len(),
        CONTRACT.len(),
        "exactly the contract's fields: {keys:?}"
    );
    let cases = v["cases"].as_u64().unwrap();
    assert_eq!(v["results"].as_array().unwrap().len() as u64, cases);
    for r in v["results"].as_array().unwrap() {
        for k in RESULT_FIELDS {
            assert!(r.get(k).is_some(), "result missing {k}: {r}");
        }
    }
    let by_route_total: u64 = v["by_route"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["cases"].as_u64().unwrap())
        .sum();
    assert_eq!(by_route_total, cases);
    for k in [
        "route_accuracy",
        "escalate_recall",
        "false_alarm_rate",
        "fact_recall",
        "grounded_rate",
    ] {
        let x = v[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{k} = {x}");
    }
    // The staff copy is kept in the data directory.
    assert!(data.path().join("eval/latest.html").exists());

    // Self-contained: no external scripts, styles, images or fonts.
    let page = std::fs::read_to_string(&html).unwrap();
    for bad in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!page.contains(bad), "report must not load {bad}");
    }
    assert!(page.matches("<svg").count() >= 3, "three charts");
}

/// Counts pixels close to a colour in a PNG.
fn count_colour(png_path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| {
            p[..3]
                .iter()
                .zip(rgb)
                .all(|(a, b)| (*a as i32 - b as i32).abs() <= 6)
        })
        .count()
}

#[test]
fn report_renders_its_charts_in_headless_chromium_without_a_network() {
    let data = tempfile::tempdir().unwrap();
    let html = data.path().join("report.html");
    let out = eval(
        data.path(),
        &["eval/smoke.jsonl", "--html", html.to_str().unwrap()],
    );
    assert!(out.status.success());
    let shot = data.path().join("report.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            // No network at all: any external asset would fail to load.
            "--proxy-server=127.0.0.1:9",
            &format!("--user-data-dir={}", data.path().join("chrome").display()),
            "--window-size=1200,2600",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("chromium must be installed (./setup.sh installs it)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // The charts are drawn: the confusion matrix's green diagonal, the blue
    // topic and latency bars.
    let green = count_colour(&shot, [0x00, 0x70, 0x3c]);
    let blue = count_colour(&shot, [0x1d, 0x70, 0xb8]);
    assert!(green > 2_000, "green matrix cells drawn: {green} px");
    assert!(blue > 5_000, "blue bars drawn: {blue} px");
    // Kept for people to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eval-report.png");
    std::fs::copy(&shot, keep).unwrap();
}

#[test]
fn a_missed_threshold_fails_the_run() {
    let data = tempfile::tempdir().unwrap();
    let cases = data.path().join("broken.jsonl");
    // Deliberately wrong: a Blue Badge question "should" escalate.
    std::fs::write(
        &cases,
        "# a deliberately broken case file\n\
         {\"id\":\"broken-001\",\"question\":\"how much does a blue badge cost\",\"expect\":{\"route\":\"escalate\"}}\n\
         {\"id\":\"broken-002\",\"question\":\"my dad fell and cant get up\",\"expect\":{\"route\":\"escalate\",\"facts\":[\"999\"]}}\n",
    )
    .unwrap();
    let out = eval(
        data.path(),
        &[cases.to_str().unwrap(), "--min-route-accuracy", "0.9"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("route accuracy 0.500 is below the minimum 0.900"),
        "{err}"
    );
    // Only the threshold that was asked for is checked, and nothing panicked.
    assert_eq!(err.matches("threshold missed").count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The same file passes a threshold it meets.
    let ok = eval(
        data.path(),
        &[cases.to_str().unwrap(), "--min-route-accuracy", "0.5"],
    );
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn malformed_case_files_name_the_line() {
    let data = tempfile::tempdir().unwrap();
    let cases = data.path().join("bad.jsonl");
    std::fs::write(
        &cases,
        "{\"id\":\"a-1\",\"question\":\"hi\",\"expect\":{\"route\":\"clarify\"}}\n\n\
         {\"id\":\"a-2\",\"question\":\"hi\",\"expect\":{\"route\":\"clarify\"},\"notes\":\"x\"}\n\
         {\"id\":\"a-1\",\"question\":\"hi\",\"expect\":{\"route\":\"clarify\"}}\n\
         {\"id\":\"a-4\",\"question\":\"hi\",\"expect\":{\"route\":\"maybe\"}}\n",
    )
    .unwrap();
    let out = eval(data.path(), &[cases.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:3: unknown field `notes`"), "{err}");
    assert!(err.contains("bad.jsonl:4: duplicate id 'a-1'"), "{err}");
    assert!(
        err.contains("bad.jsonl:5: unknown variant `maybe`"),
        "{err}"
    );
}

#[test]
fn baseline_shows_what_regressed_and_improved() {
    let data = tempfile::tempdir().unwrap();
    let good = data.path().join("good.jsonl");
    let worse = data.path().join("worse.jsonl");
    std::fs::write(
        &good,
        "{\"id\":\"bb-001\",\"question\":\"how much does a blue badge cost\",\"expect\":{\"route\":\"answer\",\"facts\":[\"£10\"]}}\n\
         {\"id\":\"bb-002\",\"question\":\"what is reablement\",\"expect\":{\"route\":\"answer\",\"facts\":[\"no such fact\"]}}\n",
    )
    .unwrap();
    std::fs::write(
        &worse,
        "{\"id\":\"bb-001\",\"question\":\"how much does a blue badge cost\",\"expect\":{\"route\":\"answer\",\"facts\":[\"£99\"]}}\n\
         {\"id\":\"bb-002\",\"question\":\"what is reablement\",\"expect\":{\"route\":\"answer\",\"facts\":[\"short-term help\"]}}\n",
    )
    .unwrap();
    let base = data.path().join("base.json");
    let html = data.path().join("cmp.html");
    assert!(eval(
        data.path(),
        &[good.to_str().unwrap(), "--json", base.to_str().unwrap()]
    )
    .status
    .success());
    let out = eval(
        data.path(),
        &[
            worse.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 improved, 1 regressed (bb-001)"), "{text}");
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("Now failing (regressed) (1)") && page.contains("bb-001"));
}

#[test]
fn staff_eval_page_needs_the_admin_token() {
    let data = tempfile::tempdir().unwrap();
    assert!(eval(data.path(), &["eval/smoke.jsonl"]).status.success());
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();

    // Off without a token.
    {
        let server = Server::start(data.path(), &[]);
        let r = agent.get(&server.url("/staff/eval")).call().unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    let server = Server::start(
        data.path(),
        &[("SIGNPOST_ADMIN_TOKEN", "s3cret-token-for-tests")],
    );
    let r = agent.get(&server.url("/staff/eval")).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("www-authenticate").is_some());
    let r = agent
        .get(&server.url("/staff/eval"))
        .header("authorization", "Bearer wrong")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let mut r = agent
        .get(&server.url("/staff/eval"))
        .header("authorization", "Bearer s3cret-token-for-tests")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.contains("Signpost evaluation report"));
    // Basic auth, as a browser sends it (user "staff", the token as password).
    let r = agent
        .get(&server.url("/staff/eval"))
        .header(
            "authorization",
            "Basic c3RhZmY6czNjcmV0LXRva2VuLWZvci10ZXN0cw==",
        )
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
