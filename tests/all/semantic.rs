//! Semantic triage with the real embedding model (installed by ./setup.sh):
//! meaning, not wording, sends people in danger to urgent help.

use crate::common;

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::embed::cosine;
use signpost::pipeline::{Engine, Question, Route};

fn engine() -> (Engine, tempfile::TempDir) {
    engine_with(|_| {})
}

/// The Northbay engine with the real embedding model, with settings changed.
fn engine_with(change: impl FnOnce(&mut Config)) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir = common::kb_dir();
    config.data_dir = data.path().to_path_buf();
    change(&mut config);
    let e = Engine::new(config).unwrap();
    assert!(
        e.semantic().is_some(),
        "the embedding model must be installed: run ./setup.sh (signpost models fetch minilm)"
    );
    (e, data)
}

#[test]
fn embeddings_put_like_meanings_together() {
    let (e, _d) = engine();
    let emb = &e.semantic().as_ref().unwrap().embedder;
    let v = emb
        .embed(&[
            "my grandad has collapsed and is not breathing",
            "grandpa fell down and he isn't breathing",
            "how much does a blue badge cost",
        ])
        .unwrap();
    assert_eq!(v[0].len(), 384);
    let norm: f32 = v[0].iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-3, "unit length: {norm}");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.3);
}

#[test]
fn wording_no_pattern_knows_still_escalates() {
    let (e, _d) = engine();
    for m in [
        "grandad's gone all floppy on one side and can't lift his cup",
        "i have decided tonight is the night i stop being a problem for everyone",
    ] {
        // The patterns alone do not catch these...
        assert_eq!(
            signpost::triage::triage(m, false),
            signpost::triage::Triage::Proceed,
            "{m}"
        );
        // ...the whole triage does, and says it was by meaning.
        let r = e.answer(&Question::new(m, Channel::Web));
        assert_eq!(r.route, Route::Escalate, "{m}: {}", r.stages.triage);
        assert!(r.stages.triage.contains("semantic"), "{}", r.stages.triage);
    }
}

#[test]
fn ordinary_questions_stay_ordinary() {
    let (e, _d) = engine();
    for m in [
        "how much does a blue badge cost",
        "what is attendance allowance",
        "are there any lunch clubs for older people",
        "how do i get a needs assessment for my mum",
    ] {
        let r = e.answer(&Question::new(m, Channel::Web));
        assert_eq!(r.route, Route::Answer, "{m}: {}", r.stages.triage);
    }
}

#[test]
fn grounding_accepts_a_paraphrase_but_never_a_changed_number() {
    use signpost::eval::grounding;
    use signpost::pipeline::Passage;
    let (e, _d) = engine();
    let emb = &e.semantic().as_ref().unwrap().embedder;
    let passage = Passage {
        chunk: "blue-badge#1".into(),
        slug: "blue-badge".into(),
        text: "A Blue Badge in Northbay costs £10 and usually lasts up to 3 years.".into(),
    };
    let paraphrase = "The Northbay fee for a Blue Badge is £10, and the badge is normally valid for as long as 3 years.".to_string();
    let changed = "The Northbay fee for a Blue Badge is £15, and the badge is normally valid for as long as 3 years.".to_string();
    // The words alone do not carry it...
    assert_eq!(
        grounding::unsupported(
            std::slice::from_ref(&paraphrase),
            std::slice::from_ref(&passage)
        )
        .len(),
        1
    );
    let v = emb
        .embed(&[paraphrase.as_str(), passage.text.as_str()])
        .unwrap();
    eprintln!(
        "paraphrase similarity {:.3}",
        signpost::embed::cosine(&v[0], &v[1])
    );
    // ...the meaning does, but never with a different number.
    let unsupported = grounding::unsupported_with(
        &[paraphrase.clone(), changed.clone()],
        &[passage],
        Some(emb),
    );
    assert_eq!(unsupported, vec![changed]);
}

/// What fusion guarantees: with hybrid retrieval on, passages the embedding
/// ranking found are fused into BM25's list (so the list differs from BM25's
/// alone), the answer stays grounded, and `--explain` says how it ranked.
/// Whether the fused list is better is a measurement (BENCHMARKS.md), not a
/// test: on these pages it mostly is not.
#[test]
fn hybrid_retrieval_fuses_embedding_and_bm25_rankings() {
    let data = tempfile::tempdir().unwrap();
    let ask = |hybrid: &str| {
        let out = common::bin()
            .env("SIGNPOST_DATA_DIR", data.path())
            .env("SIGNPOST_SEARCH_HYBRID", hybrid)
            .args([
                "ask",
                "my mum can't manage the stairs any more, what can help",
                "--json",
                "--explain",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let retrieved = |v: &serde_json::Value| -> Vec<String> {
        v["stages"]["retrieved"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect()
    };
    let (hybrid, bm25) = (ask("1"), ask("0"));
    assert_eq!(hybrid["grounded"], true, "{hybrid}");
    assert!(hybrid["stages"]["retrieval"]
        .as_str()
        .unwrap()
        .starts_with("hybrid: "));
    assert_eq!(bm25["stages"]["retrieval"], "bm25");
    let from_bm25 = retrieved(&bm25);
    let fused = retrieved(&hybrid);
    assert!(
        fused.iter().any(|c| !from_bm25.contains(c)),
        "no embedding passage was fused in: {fused:?} against {from_bm25:?}"
    );
    // The explanation says which ranking was used.
    for (hybrid, expect) in [("1", "[retrieval] hybrid: "), ("0", "[retrieval] bm25")] {
        let out = common::bin()
            .env("SIGNPOST_DATA_DIR", data.path())
            .env("SIGNPOST_SEARCH_HYBRID", hybrid)
            .args(["ask", "what is reablement", "--explain"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(expect), "{text}");
    }
}

#[test]
fn unsure_triage_answers_with_the_urgent_line_first_and_what_to_do_stays_urgent() {
    let (e, _d) = engine();
    // Close in meaning to a bank-impersonation emergency, but a question
    // about checking a call, with nothing happening now: the answer, led by
    // the urgent line, citing the page that answers.
    let r = e.answer(&Question::new(
        "how do i check if someone on the phone is really from my bank",
        Channel::Web,
    ));
    assert_eq!(r.route, Route::Answer, "{}", r.stages.triage);
    assert!(
        r.stages.triage.starts_with("caution:"),
        "{}",
        r.stages.triage
    );
    assert!(r.answer[0].contains("999"), "{:?}", r.answer);
    assert!(r.answer.iter().any(|s| s.contains("159")), "{:?}", r.answer);
    assert!(r.grounded && !r.sources.is_empty());
    // The same worry while it is happening, or asked as "what do I do",
    // gets the urgent reply.
    for m in [
        "someone on the phone right now says they are my bank and i must move my money, how do i check",
        "someone rang saying they were from my bank and wants me to move my money. what do i do",
    ] {
        let r = e.answer(&Question::new(m, Channel::Web));
        assert_eq!(r.route, Route::Escalate, "{m}: {}", r.stages.triage);
    }
}

#[test]
fn sentences_are_chosen_by_meaning_as_well_as_words() {
    // "What is the State Pension age" matches many sentences that use the
    // words; the one that gives the ages by date of birth is found by its
    // meaning.
    let q = "what is the state pension age";
    let (e, _d) = engine();
    let r = e.answer(&Question::new(q, Channel::Web));
    assert_eq!(r.route, Route::Answer);
    let text = r.answer.join(" ");
    assert!(text.contains("6 April 1960"), "{text}");
    assert!(r.grounded);
    // With meaning switched off, words alone miss it.
    let (words_only, _d2) = engine_with(|c| c.answer.meaning_weight = 0.0);
    let r = words_only.answer(&Question::new(q, Channel::Web));
    assert!(
        !r.answer.join(" ").contains("6 April 1960"),
        "{:?}",
        r.answer
    );
}

#[test]
fn a_long_question_in_its_own_words_is_answered_when_a_sentence_means_the_same() {
    // Most of its words ("aunt", "stroke", "sandwiches", "biscuits") are on
    // no page, so too few are covered for words alone; the meals page says
    // what is asked in other words.
    let q = "my aunt lives alone and since her stroke she hasn't been bothering to cook, she's living on sandwiches and biscuits mostly. she's ok in herself and eating, just not proper meals. can someone bring her hot dinners?";
    // "Dinners" is an everyday word for the page's "lunch", so a little
    // more is covered than the default 0.25 asks; the bar is set above it.
    let bar = 0.35;
    let (e, _d) = engine_with(|c| c.search.min_coverage = bar);
    let r = e.answer(&Question::new(q, Channel::Web));
    assert_eq!(r.route, Route::Answer, "{}", r.stages.triage);
    assert!(r.stages.coverage < bar, "{}", r.stages.coverage);
    let text = r.answer.join(" ");
    assert!(text.contains("hot lunch"), "{text}");
    assert!(r.grounded);
    // With closeness in meaning switched off, it is not answered.
    let (words_only, _d2) = engine_with(|c| {
        c.search.min_coverage = bar;
        c.search.min_closeness = 0.0;
    });
    let r = words_only.answer(&Question::new(q, Channel::Web));
    assert_ne!(r.route, Route::Answer, "{:?}", r.answer);
    // A question on another subject is still not answered.
    let r = e.answer(&Question::new(
        "when is my council tax direct debit taken each month",
        Channel::Web,
    ));
    assert_ne!(r.route, Route::Answer, "{:?}", r.answer);
}
