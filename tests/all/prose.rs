//! Composition on a site written the way councils write: a quoted sentence
//! that leans on the one before it ("It is free to you") is never shown
//! without the sentence it refers to.

use std::path::Path;

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::pipeline::{Engine, Question, Route};

fn wrenfield() -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites/wrenfield-hand");
    config.data_dir = data.path().to_path_buf();
    (Engine::new(config).unwrap(), data)
}

/// Opens with a word that points back to an earlier sentence.
fn leans_back(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("").to_lowercase();
    [
        "it", "it's", "its", "they", "they're", "their", "them", "these", "those", "this", "that",
    ]
    .contains(&first.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''))
}

#[test]
fn a_sentence_that_leans_back_comes_with_what_it_refers_to() {
    let (e, _d) = wrenfield();
    let r = e.answer(&Question::new(
        "who can help me run payroll for my personal assistant",
        Channel::Web,
    ));
    assert_eq!(r.route, Route::Answer);
    let text = r.answer.join(" ");
    // "It is free to you. It can help you recruit a PA ... and run your
    // payroll" means nothing without the name of the organisation.
    let name = text
        .find("Wrenfield Independent Living")
        .unwrap_or(usize::MAX);
    let it = text.find("It can help you recruit").expect(&text);
    assert!(name < it, "{text}");
}

#[test]
fn no_answer_on_the_test_site_leaves_a_pronoun_hanging() {
    let (e, _d) = wrenfield();
    let set = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/sites/wrenfield-dev.jsonl"),
    )
    .unwrap();
    let mut leaning = 0;
    for line in set
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let q = case["question"].as_str().unwrap();
        let r = e.answer(&Question::new(q, Channel::Web));
        if r.route != Route::Answer {
            continue;
        }
        for (k, s) in r.answer.iter().enumerate() {
            if !leans_back(s) {
                continue;
            }
            leaning += 1;
            // The sentence before it in the answer is the one before it
            // on the page.
            assert!(k > 0, "{q}: the answer opens with '{s}'");
            let prev = &r.answer[k - 1];
            assert!(
                r.passages.iter().any(|p| p
                    .text
                    .find(prev.as_str())
                    .zip(p.text.find(s.as_str()))
                    .is_some_and(|(a, b)| a < b && p.text[a + prev.len()..b].trim().is_empty())),
                "{q}: '{s}' follows '{prev}', which is not the sentence before it"
            );
        }
    }
    assert!(
        leaning >= 3,
        "only {leaning} answers quoted a sentence that leans back"
    );
}

#[test]
fn an_urgent_reply_also_links_the_page_about_the_situation() {
    let (e, _d) = wrenfield();
    let q = "theres a builder sat in my mums front room right now saying she owes him 3 grand for the roof and he wants to drive her to the bank";
    let r = e.answer(&Question::new(q, Channel::Web));
    assert_eq!(r.route, Route::Escalate, "{:?}", r.answer);
    let slugs: Vec<&str> = r.sources.iter().map(|s| s.slug.as_str()).collect();
    // The urgent kind's own page first (danger's or money abuse's), then
    // the page about doorstep callers.
    assert!(
        ["contact-us", "report-abuse"].contains(&slugs[0]),
        "{slugs:?}"
    );
    assert_eq!(slugs[1..], ["doorstep-callers-and-scams"], "{slugs:?}");
    let own = slugs[0].to_string();
    // The urgent help is unchanged: the related page is a link, not text.
    let text = r.answer.join(" ");
    assert!(text.contains("999"), "{text}");

    // Turned off, the urgent kind's page alone.
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sites/wrenfield-hand");
    config.data_dir = data.path().to_path_buf();
    config.triage.related_page = false;
    let off = Engine::new(config).unwrap();
    let r = off.answer(&Question::new(q, Channel::Web));
    let slugs: Vec<&str> = r.sources.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, [own.as_str()]);
}
