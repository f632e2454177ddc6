//! The command line against the real knowledge base and a real index.

use crate::common;

use common::*;

#[test]
fn blue_badge_cost_is_answered_from_the_blue_badge_page() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(data.path(), "how much does a blue badge cost", &[]);
    assert_eq!(v["route"], "answer");
    assert_eq!(slugs(&v)[0], "blue-badge");
    assert_eq!(v["grounded"], true);
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("£10"), "{reply}");
    assert!(v["ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    let src = &v["sources"][0];
    assert_eq!(src["url"], "https://www.northbay.example/care/blue-badge");
    assert!(src["title"].as_str().unwrap().contains("Blue Badge"));
}

#[test]
fn a_fall_escalates_with_999_first() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(data.path(), "my mum has fallen and can't get up", &[]);
    assert_eq!(v["route"], "escalate");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.starts_with("Call 999"), "{reply}");
}

#[test]
fn voice_channel_reply_is_speakable() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(
        data.path(),
        "how do i apply for a blue badge",
        &["--channel", "voice"],
    );
    assert_eq!(v["route"], "answer");
    let reply = v["reply"].as_str().unwrap();
    assert!(
        !reply.contains("http") && !reply.contains("www."),
        "{reply}"
    );
    assert!(reply.split_whitespace().count() <= 90, "{reply}");
}

#[test]
fn unanswerable_questions_say_so_and_give_the_human_route() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(data.path(), "can you recommend a good plumber", &[]);
    assert_eq!(v["route"], "decline");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("01632 960100"), "{reply}");
    assert!(v["sources"].as_array().unwrap().is_empty());
}

#[test]
fn explain_shows_the_stages() {
    let data = tempfile::tempdir().unwrap();
    let out = run(data.path(), &["ask", "what is reablement", "--explain"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for s in [
        "[triage] proceed",
        "[query]",
        "[retrieved]",
        "[route] answer",
    ] {
        assert!(text.contains(s), "missing {s} in:\n{text}");
    }
}

#[test]
fn kb_check_passes_on_the_northbay_knowledge_base() {
    let data = tempfile::tempdir().unwrap();
    let out = run(data.path(), &["kb", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(summary.starts_with("pages: "), "{summary}");
    let nums: Vec<usize> = summary
        .split(", ")
        .map(|p| p.split(": ").nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(
        nums[0] >= 47 && nums[1] > nums[0] && nums[2] >= 120,
        "{summary}"
    );
    assert!(!text.contains("error:"), "{text}");
}

#[test]
fn bad_settings_file_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("signpost.toml");
    std::fs::write(&cfg, "[council]\nphnoe = \"1\"\n").unwrap();
    let out = run(
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "ask", "hello"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("phnoe") && err.contains("signpost.toml"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn settings_change_the_contacts_in_urgent_replies() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("signpost.toml");
    std::fs::write(&cfg, "[council]\nsafeguarding_phone = \"01632 960555\"\n").unwrap();
    let out = run(
        dir.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "ask",
            "my carer hits me",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["route"], "escalate");
    assert!(v["reply"].as_str().unwrap().contains("01632 960555"));
}

#[test]
fn the_readme_settings_example_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("README has a toml settings block");
    let config: signpost::config::Config = toml::from_str(block).expect("README settings parse");
    let defaults = signpost::config::Config::default();
    // The example documents the defaults (the council has none: its details
    // come from council.toml, and the example shows an override).
    assert!(defaults.council.phone.is_empty());
    assert!(!config.council.phone.is_empty());
    assert_eq!(config.search.min_coverage, defaults.search.min_coverage);
    assert_eq!(config.search.min_closeness, defaults.search.min_closeness);
    assert_eq!(
        config.triage.escalate_similarity,
        defaults.triage.escalate_similarity
    );
    assert_eq!(
        config.triage.decline_similarity,
        defaults.triage.decline_similarity
    );
}

#[test]
fn savings_question_gets_the_calculation_on_every_channel() {
    let data = tempfile::tempdir().unwrap();
    let q = "my savings are about 20 thousand pounds, will i have to pay for carers at home";
    for channel in ["web", "voice"] {
        let v = ask_json(data.path(), q, &["--channel", channel]);
        assert_eq!(v["route"], "answer", "{channel}");
        let reply = v["reply"].as_str().unwrap();
        assert!(
            reply.contains("you will usually pay something towards your care"),
            "{channel}: {reply}"
        );
        assert!(reply.contains("£23 a week"), "{channel}: {reply}");
        assert!(reply.contains("home is not counted"), "{channel}: {reply}");
        assert_eq!(slugs(&v)[0], "paying-for-care-at-home", "{channel}");
        assert_eq!(v["grounded"], true);
        if channel == "voice" {
            assert!(reply.split_whitespace().count() <= 90, "{reply}");
        } else {
            assert!(
                reply.contains("£1 a week for every £250, or part of £250, above £14,250"),
                "{reply}"
            );
        }
    }
}

#[test]
fn a_missing_fact_gets_one_short_question_after_the_pages_answer() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(
        data.path(),
        "will they count my house if i go into a care home",
        &[],
    );
    // The pages answer in general (the 12 weeks, deferred payments); the
    // calculator then offers to settle it with the one fact it lacks.
    assert_eq!(v["route"], "answer", "{v}");
    let reply = v["reply"].as_str().unwrap();
    assert_eq!(reply.matches('?').count(), 1, "{reply}");
    let offered = reply
        .find("Whether your home counts depends on who will still live in it.")
        .expect(reply);
    assert!(offered > 0, "the offer comes after the answer: {reply}");
    assert!(!v["sources"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn urgent_help_comes_first_then_the_answer_to_the_question() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(
        data.path(),
        "Can I get a carer's assessment? Honestly I can't cope anymore and I keep thinking about ending it.",
        &[],
    );
    assert_eq!(v["route"], "escalate");
    let reply = v["reply"].as_str().unwrap();
    let urgent = reply.find("116 123").expect("crisis line");
    let answer = reply
        .find("carer's assessment")
        .expect("the question is answered too");
    assert!(urgent < answer, "urgent help first: {reply}");
    assert_eq!(slugs(&v)[0], "mental-health-support");
    assert!(slugs(&v).contains(&"carers-assessment".to_string()), "{v}");
}

/// A second council, with its own council.toml and pages, never sees
/// Northbay's name, numbers or pages in its greeting, refusals, urgent
/// replies or hand-overs: nothing about a council is in the code.
#[test]
fn another_council_gets_its_own_words_and_numbers() {
    let data = tempfile::tempdir().unwrap();
    let kb = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sites/wrenfield-hand");
    let ask = |q: &str| {
        let out = bin()
            .env("SIGNPOST_DATA_DIR", data.path())
            .env("SIGNPOST_KB_DIR", &kb)
            .args(["ask", q, "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    for (q, route, expect) in [
        ("hello", "clarify", "adult social care in Wrenfield"),
        (
            "who will win the football tonight",
            "decline",
            "0118 496 0100",
        ),
        (
            "when are the bins collected",
            "decline",
            "https://www.wrenfield.example",
        ),
        ("my carer hits me", "escalate", "0118 496 0150"),
        (
            "my mum has fallen and can't get up",
            "escalate",
            "the Wrenfield Care Line",
        ),
        ("what is a carer's assessment", "answer", "0118 496 0100"),
    ] {
        let v = ask(q);
        let reply = v["reply"].as_str().unwrap();
        assert_eq!(v["route"], route, "{q}: {reply}");
        assert!(reply.contains(expect), "{q}: {reply}");
        for northbay in ["Northbay", "northbay", "01632"] {
            assert!(!reply.contains(northbay), "{q}: {reply}");
        }
        for s in v["sources"].as_array().unwrap() {
            assert!(
                s["url"].as_str().unwrap().contains("wrenfield.example"),
                "{q}: {s}"
            );
        }
    }
}

#[test]
fn a_knowledge_base_without_the_councils_details_says_what_is_missing() {
    let data = tempfile::tempdir().unwrap();
    let kb = tempfile::tempdir().unwrap();
    copy_kb(kb.path());
    std::fs::remove_file(kb.path().join("council.toml")).unwrap();
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .env("SIGNPOST_KB_DIR", kb.path())
        .args(["ask", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("council's details are missing") && err.contains("council.toml"),
        "{err}"
    );
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .args(["kb", "check", "--kb", kb.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("council.toml:1: error: the council's details are missing"),
        "{text}"
    );
}

/// Urgent replies fit the situation, and ordinary questions near an
/// emergency's words get their answer (the Northbay pages, real triage).
#[test]
fn urgent_replies_fit_the_situation() {
    let data = tempfile::tempdir().unwrap();
    let reply = |v: &serde_json::Value| v["reply"].as_str().unwrap().to_string();

    // A carer at breaking point: the crisis lines first, then a carer's
    // assessment and a break, from the carers' pages.
    let v = ask_json(
        data.path(),
        "I'm so tired of looking after my husband I can't do this anymore",
        &[],
    );
    assert_eq!(v["route"], "escalate");
    let r = reply(&v);
    assert!(r.starts_with("If your life"), "{r}");
    assert!(r.contains("116 123"), "{r}");
    assert!(r.contains("carer's assessment"), "{r}");
    assert!(
        slugs(&v)
            .iter()
            .any(|s| s.starts_with("carers") || s == "support-for-carers"),
        "{:?}",
        slugs(&v)
    );

    // A crisis with no caring in it gets the crisis lines alone.
    let v = ask_json(data.path(), "I can't go on anymore, I want to die", &[]);
    assert_eq!(v["route"], "escalate");
    assert!(!reply(&v).contains("carer's assessment"), "{}", reply(&v));

    // A wish to die at home is end-of-life care, not a crisis.
    let v = ask_json(
        data.path(),
        "dad is terminally ill and wants to die at home, what support is there",
        &[],
    );
    assert_eq!(v["route"], "answer", "{}", reply(&v));
    assert_eq!(slugs(&v)[0], "end-of-life-care");
    assert!(!reply(&v).contains("Samaritans"), "{}", reply(&v));

    // A doorstep caller who came and went: the urgent line, then staying
    // safe at home.
    let v = ask_json(
        data.path(),
        "a man came to my door saying my roof needs fixing and wanted cash",
        &[],
    );
    assert_eq!(v["route"], "answer", "{}", reply(&v));
    assert!(reply(&v).starts_with("If anyone is in danger now, call 999"));
    assert!(slugs(&v).contains(&"staying-safe-at-home".to_string()));
    // The same caller still there is urgent.
    let v = ask_json(
        data.path(),
        "a man is at my door right now saying my roof needs fixing and wants cash",
        &[],
    );
    assert_eq!(v["route"], "escalate", "{}", reply(&v));

    // A grab rail is equipment, not abuse.
    let v = ask_json(
        data.path(),
        "mum needs a grab rail putting in by the loo, do we have to pay for that",
        &[],
    );
    assert_eq!(v["route"], "answer", "{}", reply(&v));
    assert!(reply(&v).contains("free"), "{}", reply(&v));

    // Someone's own plan, and another team's work, are declined kindly with
    // the route to a person.
    for q in [
        "tell me about my mum's care plan",
        "when is my council tax due",
    ] {
        let v = ask_json(data.path(), q, &[]);
        assert_eq!(v["route"], "decline", "{q}: {}", reply(&v));
        assert!(reply(&v).contains("01632 960100"), "{}", reply(&v));
    }
}

/// "What are the two types" gets both types named, from the page.
#[test]
fn a_question_about_two_types_names_both() {
    let data = tempfile::tempdir().unwrap();
    let v = ask_json(
        data.path(),
        "what are the two types of lasting power of attorney",
        &[],
    );
    assert_eq!(v["route"], "answer");
    let r = v["reply"].as_str().unwrap();
    assert!(
        r.contains("property and financial affairs") && r.contains("health and welfare"),
        "{r}"
    );
}
