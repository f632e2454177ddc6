//! The local language model, end to end with real GGUF files installed by
//! ./setup.sh: SmolLM2-135M (llama architecture, Q4_1 re-quantized to Q8_0)
//! and Qwen2.5-0.5B (qwen2 architecture, our own decoder checked against
//! candle's). Generation limits, the system-prompt cache, the busy queue,
//! every model job in the request path, and the missing and damaged model
//! paths.

use crate::common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::llm::{Limits, Llm, Stop};
use signpost::pipeline::{Engine, Question, Role, Route, Turn};

fn model_path(name: &str) -> PathBuf {
    let p = Config::default()
        .models
        .cache()
        .join(name)
        .join("model.gguf");
    assert!(
        p.exists(),
        "{} is missing: run ./setup.sh (signpost models fetch {name})",
        p.display()
    );
    p
}

fn smollm(max_waiting: usize) -> Llm {
    Llm::load(
        "smollm2-135m",
        &model_path("smollm2-135m"),
        Some(&Config::default().models.derived()),
        max_waiting,
    )
    .unwrap()
}

fn limits(max_tokens: usize) -> Limits<'static> {
    Limits {
        max_tokens,
        deadline: None,
        cancel: None,
    }
}

const SYSTEM: &str = "You are a helpful assistant. Answer in one short sentence.";

#[test]
fn the_model_file_decides_architecture_template_and_requantizing() {
    let m = smollm(4);
    assert_eq!(m.arch, "llama");
    assert_eq!(m.template, signpost::llm::Template::ChatMl);
    assert!(
        m.requantized.iter().any(|r| r.starts_with("q4_1")),
        "{:?}",
        m.requantized
    );
}

#[test]
fn generation_is_greedy_streams_and_stops_where_told() {
    let m = smollm(4);
    let mut streamed = String::new();
    let a = m
        .generate(
            SYSTEM,
            "What colour is the sky?",
            0.0,
            limits(12),
            &mut |t| streamed.push_str(t),
        )
        .unwrap();
    assert!(!a.text.trim().is_empty());
    assert_eq!(streamed, a.text, "the streamed pieces make the whole text");
    assert!(a.new_tokens <= 12);
    if a.stop == Stop::TokenCap {
        assert_eq!(a.new_tokens, 12);
    }
    // The second call reuses the system prompt's state and, being greedy,
    // writes exactly the same.
    let b = m
        .generate(
            SYSTEM,
            "What colour is the sky?",
            0.0,
            limits(12),
            &mut |_| {},
        )
        .unwrap();
    assert!(b.cached_tokens > 0, "system prompt state was not reused");
    assert_eq!(a.cached_tokens, 0);
    assert_eq!(a.text, b.text, "cached and uncached runs must agree");
    assert!(b.prompt_tokens < a.prompt_tokens);

    let capped = m
        .generate(
            SYSTEM,
            "Count from one to fifty.",
            0.0,
            limits(5),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(capped.stop, Stop::TokenCap);
    assert_eq!(capped.new_tokens, 5);

    // Cancelled part-way (the person left): it stops at the next token.
    let gone = AtomicBool::new(false);
    let mut pieces = 0;
    let c = m
        .generate(
            SYSTEM,
            "Count from one to fifty.",
            0.0,
            Limits {
                cancel: Some(&gone),
                ..limits(50)
            },
            &mut |_| {
                pieces += 1;
                if pieces == 3 {
                    gone.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            },
        )
        .unwrap();
    assert_eq!(c.stop, Stop::Cancelled);
    assert!(c.new_tokens >= 3 && c.new_tokens < 50, "{}", c.new_tokens);

    // Already past its deadline (say, after waiting in the queue): not started.
    let late = m.generate(
        SYSTEM,
        "Count from one to fifty.",
        0.0,
        Limits {
            deadline: Some(Instant::now()),
            ..limits(50)
        },
        &mut |_| {},
    );
    let err = late.expect_err("a job past its deadline must not start");
    assert!(err.to_string().contains("Deadline"), "{err:#}");
}

/// What the code guarantees of a yes/no judgement: a probability, the same
/// every time for the same prompt (with or without the cached system
/// prompt), and one that follows a plain instruction. The margin was
/// measured on 2026-11-29 with the re-quantized SmolLM2-135M: P(yes) 0.80
/// when told to say yes and 0.42 when told to say no; the assertion asks
/// for a 0.2 gap. SmolLM2's judgements of whether a passage is relevant are
/// noise (0.31 to 0.35 whatever the passage), so they are not tested here.
#[test]
fn a_yes_no_judgement_is_a_repeatable_probability_that_follows_an_instruction() {
    let m = smollm(4);
    let sys = "You are a helpful assistant.";
    let p = |user: &str| m.yes_probability(sys, user, limits(1)).unwrap();
    let yes = p("Reply with the single word yes.");
    let no = p("Reply with the single word no.");
    assert!((0.0..=1.0).contains(&yes) && (0.0..=1.0).contains(&no));
    assert_eq!(yes, p("Reply with the single word yes."), "not repeatable");
    assert!(yes > no + 0.2, "yes {yes} should clearly beat no {no}");
}

/// Relevance, on the model the rerank job is measured with: Qwen2.5-0.5B
/// (re-quantized). Measured on 2026-11-29: 0.42 for a passage that answers
/// the question and 0.17 for one about something else (the closest of three
/// such pairs measured was 0.30 against 0.19); the assertion asks for a 0.1
/// gap on the pair with the widest margin.
#[test]
fn a_relevance_judgement_follows_the_passage() {
    let m = Llm::load(
        "qwen2.5-0.5b",
        &model_path("qwen2.5-0.5b"),
        Some(&Config::default().models.derived()),
        4,
    )
    .unwrap();
    let sys = "You check whether a passage answers a question. Reply with yes or no only.";
    let p = |passage: &str| {
        m.yes_probability(
            sys,
            &format!("Question: What colour is the sky on a clear day?\n\nPassage: {passage}\n\nDoes this passage answer the question? Reply yes or no."),
            limits(1),
        )
        .unwrap()
    };
    let on = p("On a clear day the sky is blue.");
    let off = p("Potatoes grow under the ground.");
    assert!(on > off + 0.1, "relevant {on} should beat irrelevant {off}");
}

#[test]
fn when_the_queue_is_full_the_model_says_busy() {
    let m = Arc::new(smollm(0));
    let running = m.clone();
    let first = std::thread::spawn(move || {
        running
            .generate(
                SYSTEM,
                "Count from one to one hundred.",
                0.0,
                limits(80),
                &mut |_| {},
            )
            .unwrap()
    });
    // Wait until the first job is reading its prompt, then ask again.
    std::thread::sleep(Duration::from_millis(150));
    let second = m.generate(SYSTEM, "Hello", 0.0, limits(3), &mut |_| {});
    let err = second.expect_err("a second job must not queue when max_waiting is 0");
    assert!(err.is::<signpost::llm::Busy>(), "{err:#}");
    first.join().unwrap();
    // Once the model is free it takes work again.
    assert!(m
        .generate(SYSTEM, "Hello", 0.0, limits(3), &mut |_| {})
        .is_ok());
}

#[test]
fn our_qwen2_decoder_matches_candles() {
    use candle_core::quantized::gguf_file;
    use candle_core::{Device, Tensor};
    let path = model_path("qwen2.5-0.5b");
    let ids: Vec<u32> = vec![151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645];
    let input = Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let ct = gguf_file::Content::read(&mut f).unwrap();
    let mut ours = signpost::llm::qwen2::Qwen2::from_gguf(&ct, &mut f, &Device::Cpu).unwrap();
    let mut f2 = std::fs::File::open(&path).unwrap();
    let ct2 = gguf_file::Content::read(&mut f2).unwrap();
    let mut theirs = candle_transformers::models::quantized_qwen2::ModelWeights::from_gguf(
        ct2,
        &mut f2,
        &Device::Cpu,
    )
    .unwrap();
    let a = ours.forward(&input, 0).unwrap().flatten_all().unwrap();
    let b = theirs.forward(&input, 0).unwrap().flatten_all().unwrap();
    let diff: f32 = (&a - &b)
        .unwrap()
        .abs()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    let top = |t: &Tensor| t.argmax(0).unwrap().to_scalar::<u32>().unwrap();
    assert_eq!(top(&a), top(&b));
    assert!(diff < 1e-2, "logits differ by {diff}");
    // And one step on from the cache.
    let next = Tensor::new(&[top(&a)], &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let a2 = ours
        .forward(&next, ids.len())
        .unwrap()
        .flatten_all()
        .unwrap();
    let b2 = theirs
        .forward(&next, ids.len())
        .unwrap()
        .flatten_all()
        .unwrap();
    assert_eq!(top(&a2), top(&b2));
}

fn engine(roles: &[&str]) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir = common::kb_dir();
    config.data_dir = data.path().to_path_buf();
    config.llm.model = "smollm2-135m".into();
    config.llm.roles = roles.iter().map(|r| r.parse().unwrap()).collect();
    // Tests share two cores; the deadline is for production, not for them.
    config.llm.deadline_ms = 120_000;
    (Engine::new(config).unwrap(), data)
}

#[test]
fn every_model_job_in_the_request_path_keeps_answers_grounded() {
    let (e, _d) = engine(&["rewrite", "rerank", "rephrase"]);
    for q in [
        "how do I get a blue badge",
        "what is a carer's assessment",
        "can I get meals delivered at home",
    ] {
        let r = e.answer(&Question::new(q, Channel::Web));
        assert_eq!(r.route, Route::Answer, "{q}");
        assert!(!r.sources.is_empty(), "{q}");
        assert!(r.grounded, "{q}");
        let m = r.stages.model.as_ref().expect("the model took part");
        assert_eq!(m.model, "smollm2-135m");
        assert!(m.notes.is_empty(), "{q}: {:?}", m.notes);
        assert_eq!(m.ranking.len(), 4, "{q}: the reranker judged four passages");
        assert!(m.ranking.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
        assert!(m.ranking.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(m.draft.is_some(), "{q}");
        // Whatever was kept, the independent measure finds every sentence
        // supported by a cited passage, and no number is new.
        let unsupported = signpost::eval::grounding::unsupported(&r.answer, &r.passages);
        assert!(unsupported.is_empty(), "{q}: {unsupported:?}");
        if m.answer_from == "model draft" {
            for s in &r.answer {
                assert!(
                    signpost::llm::check::reject(
                        s,
                        &r.passages
                            .iter()
                            .map(|p| p.text.as_str())
                            .collect::<Vec<_>>(),
                        0.8
                    )
                    .is_none(),
                    "{s}"
                );
            }
        } else {
            assert!(
                m.answer_from.starts_with("quoted answer"),
                "{}",
                m.answer_from
            );
        }
    }
}

#[test]
fn a_calculation_is_never_reworded_and_an_emergency_never_reaches_the_model() {
    let (e, _d) = engine(&["rephrase"]);
    let r = e.answer(&Question::new(
        "I have £30,000 in savings, will I have to pay for care at home?",
        Channel::Web,
    ));
    assert_eq!(r.route, Route::Answer);
    assert!(r.stages.calculator.is_some());
    let m = r.stages.model.as_ref().unwrap();
    assert!(
        m.draft.is_none(),
        "the calculator's answer went to the model"
    );
    let text = r.answer.join(" ");
    assert!(text.contains("£23,250"), "{text}");

    let r = e.answer(&Question::new(
        "my dad has fallen and can't get up",
        Channel::Web,
    ));
    assert_eq!(r.route, Route::Escalate);
    assert!(r.stages.model.is_none(), "an emergency reached the model");
}

#[test]
fn a_follow_up_is_rewritten_or_the_reason_is_shown() {
    let (e, _d) = engine(&["rewrite"]);
    let mut q = Question::new("how much does it cost", Channel::Web);
    q.history = vec![Turn {
        role: Role::User,
        text: "how do I get a blue badge".into(),
    }];
    let r = e.answer(&q);
    assert_eq!(r.route, Route::Answer);
    assert!(
        r.sources.iter().any(|s| s.slug == "blue-badge"),
        "{:?}",
        r.sources
    );
    let m = r.stages.model.as_ref().unwrap();
    match &m.rewrite {
        Some(text) => assert!(r.stages.query.starts_with(text.as_str())),
        None => assert!(
            m.notes.iter().any(|n| n.starts_with("rewrite not used")),
            "{:?}",
            m.notes
        ),
    }
}

#[test]
fn ask_uses_the_model_and_explains_each_stage_and_no_llm_leaves_it_out() {
    let data = tempfile::tempdir().unwrap();
    // Tests share two cores; the deadline is for production, not for them.
    let config = data.path().join("signpost.toml");
    std::fs::write(&config, "[llm]\ndeadline_ms = 120000\n").unwrap();
    let bin = || {
        let mut c = common::bin();
        c.env("SIGNPOST_CONFIG", &config);
        c
    };
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .env("SIGNPOST_LLM_MODEL", "smollm2-135m")
        .env("SIGNPOST_LLM_ROLES", "rewrite,rerank,rephrase")
        .args([
            "ask",
            "how much does it cost",
            "--after",
            "how do I get a blue badge",
            "--explain",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("[model] smollm2-135m"), "{text}");
    assert!(text.contains("[ranking] P(yes)"), "{text}");
    assert!(text.contains("[answer from]"), "{text}");
    assert!(
        text.contains("[rewrite]")
            || text.contains("rewrite not used")
            || text.contains("[model note]"),
        "{text}"
    );

    let v = common::ask_json(data.path(), "how do I get a blue badge", &["--explain"]);
    assert!(
        v["stages"].get("model").is_none(),
        "no model unless configured"
    );
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .env("SIGNPOST_LLM_MODEL", "smollm2-135m")
        .env("SIGNPOST_LLM_ROLES", "rerank")
        .args(["ask", "how do I get a blue badge", "--json", "--explain"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["route"], "answer");
    assert_eq!(v["grounded"], true);
    assert_eq!(v["stages"]["model"]["model"], "smollm2-135m");
    assert_eq!(v["stages"]["model"]["ranking"].as_array().unwrap().len(), 4);
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .env("SIGNPOST_LLM_MODEL", "smollm2-135m")
        .env("SIGNPOST_LLM_ROLES", "rerank")
        .args([
            "ask",
            "how do I get a blue badge",
            "--json",
            "--explain",
            "--no-llm",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["route"], "answer");
    assert!(v["stages"].get("model").is_none());
}

/// Several processes starting at once on a new server, with no derived files
/// yet: each needs the re-quantized language model and the embedded triage
/// examples. All must answer, and the files left behind must be good ones
/// that a later start uses as they are.
#[test]
fn processes_starting_together_on_an_empty_derived_folder_all_load_good_files() {
    let tmp = tempfile::tempdir().unwrap();
    let derived = tmp.path().join("derived");
    let start = || {
        common::bin()
            .env("SIGNPOST_DATA_DIR", tmp.path().join("data"))
            .env("SIGNPOST_DERIVED_DIR", &derived)
            .env("SIGNPOST_LLM_MODEL", "smollm2-135m")
            .env("SIGNPOST_LLM_ROLES", "rerank")
            .args(["ask", "how much does a blue badge cost", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| start()).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["route"], "answer", "{v}");
    }
    let files = |ext: &str| -> Vec<PathBuf> {
        std::fs::read_dir(&derived)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .collect()
    };
    let ggufs = files("gguf");
    let vectors = files("vectors");
    assert_eq!(ggufs.len(), 1, "{ggufs:?}");
    // One file of embedded triage examples, and each page's embedded
    // sentences (named by their contents, so never made twice).
    let named = |prefix: &str| {
        vectors
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .count()
    };
    assert_eq!(named("triage-examples-"), 1, "{vectors:?}");
    assert!(named("sentences-") > 1, "{vectors:?}");
    assert_eq!(
        named("triage-examples-") + named("sentences-"),
        vectors.len(),
        "{vectors:?}"
    );
    assert!(files("tmp").is_empty(), "temporary files were left behind");
    // The copy is a good model: it loads and generates.
    let m = Llm::load(
        "smollm2-135m",
        &model_path("smollm2-135m"),
        Some(&derived),
        1,
    )
    .unwrap();
    let out = m
        .generate(SYSTEM, "Say hello.", 0.0, limits(4), &mut |_| {})
        .unwrap();
    assert!(!out.text.is_empty());
    // A later start uses both files as they are.
    let before: Vec<_> = [&ggufs[0], &vectors[0]]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert!(start().wait().unwrap().success());
    let after: Vec<_> = [&ggufs[0], &vectors[0]]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(before, after, "a good derived file was made again");
}

/// A derived copy that was cut short (a full disk, or an older version that
/// wrote in place) is never trusted: the next load makes it again.
#[test]
fn a_damaged_requantized_copy_is_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let load = || {
        Llm::load(
            "smollm2-135m",
            &model_path("smollm2-135m"),
            Some(tmp.path()),
            1,
        )
    };
    load().unwrap();
    let copy = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "gguf"))
        .unwrap();
    let whole = std::fs::read(&copy).unwrap();
    for damaged in [whole[..whole.len() - 4096].to_vec(), {
        let mut b = whole.clone();
        b[8..24].fill(0xff);
        b
    }] {
        std::fs::write(&copy, &damaged).unwrap();
        let m = load().unwrap();
        assert!(!m.requantized.is_empty());
        assert_eq!(std::fs::read(&copy).unwrap().len(), whole.len());
    }
}

#[test]
fn a_missing_damaged_or_unknown_model_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let ask = |models: &std::path::Path, model: &str, roles: &str| {
        let out = common::bin()
            .env("SIGNPOST_DATA_DIR", tmp.path().join("data"))
            .env("SIGNPOST_MODELS_DIR", models)
            .env("SIGNPOST_LLM_MODEL", model)
            .env("SIGNPOST_LLM_ROLES", roles)
            .args(["ask", "how do I get a blue badge"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let empty = tmp.path().join("none");
    let err = ask(&empty, "smollm2-135m", "rerank");
    assert!(
        err.contains("is not installed") && err.contains("signpost models fetch smollm2-135m"),
        "{err}"
    );
    // A cut-short file is found before it is read.
    let cache = tmp.path().join("cache");
    let dir = cache.join("smollm2-135m");
    std::fs::create_dir_all(&dir).unwrap();
    let real = model_path("smollm2-135m");
    std::fs::copy(real.with_file_name(".verified"), dir.join(".verified")).unwrap();
    let bytes = std::fs::read(&real).unwrap();
    std::fs::write(dir.join("model.gguf"), &bytes[..bytes.len() / 2]).unwrap();
    let err = ask(&cache, "smollm2-135m", "rerank");
    assert!(err.contains("damaged") && err.contains("fetch"), "{err}");
    // A file of the right size whose contents are not a model.
    let mut junk = bytes.clone();
    junk[..64].fill(0);
    std::fs::write(dir.join("model.gguf"), &junk).unwrap();
    let err = ask(&cache, "smollm2-135m", "rerank");
    assert!(err.contains("not a readable GGUF model"), "{err}");
    // Not a language model, and not a job.
    let err = ask(&empty, "minilm", "rerank");
    assert!(err.contains("not a language model"), "{err}");
    let err = ask(&empty, "smollm2-135m", "summarise");
    assert!(err.contains("'summarise' is not a job"), "{err}");
}

#[test]
fn bench_measures_each_installed_model() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("bench.json");
    let out = common::bin()
        .env("SIGNPOST_DATA_DIR", tmp.path().join("data"))
        .args(["bench", "--models", "smollm2-135m", "--runs", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(v["no_model"]["retrieval_p50_ms"].as_f64().unwrap() > 0.0);
    assert!(v["no_model"]["questions"].as_u64().unwrap() > 100);
    let m = &v["models"][0]["candle"];
    assert_eq!(m["model"], "smollm2-135m");
    for k in [
        "prefill_tps",
        "decode_tps",
        "first_token_ms",
        "answer_60_words_ms",
        "whole_answer_ms",
        "peak_mib",
    ] {
        assert!(m[k].as_f64().unwrap() > 0.0, "{k}: {m}");
    }
    assert!(m["prompt_tokens"].as_u64().unwrap() > 200);
}

#[test]
fn a_busy_model_does_not_stop_the_server_answering() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("signpost.toml");
    std::fs::write(
        &config,
        "[llm]\nmodel = \"smollm2-135m\"\nroles = [\"rerank\"]\nmax_waiting = 0\ndeadline_ms = 120000\n\n[server]\nrate_limit_per_minute = 1000\n",
    )
    .unwrap();
    let server = common::Server::start(
        data.path(),
        &[
            ("SIGNPOST_CONFIG", config.to_str().unwrap()),
            ("SIGNPOST_LOG_JSON", "1"),
        ],
    );
    let url = server.url("/api/chat");
    let askers: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut r = ureq::post(&url)
                    .send_json(serde_json::json!({ "message": "how much does a blue badge cost" }))
                    .unwrap();
                r.body_mut().read_json::<serde_json::Value>().unwrap()
            })
        })
        .collect();
    for a in askers {
        let v = a.join().unwrap();
        assert_eq!(v["route"], "answer", "{v}");
        assert_eq!(v["grounded"], true);
        assert!(v["reply"].as_str().unwrap().contains("£10"), "{v}");
    }
    // One model job at a time and none waiting: the others were answered
    // without the model, and the log says so (without any message text).
    std::thread::sleep(Duration::from_millis(300));
    let log = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    let answered: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["route"].is_string() && v["fields"].get("model_busy").is_some())
        .collect();
    assert_eq!(answered.len(), 3, "{log}");
    let busy = answered
        .iter()
        .filter(|v| v["fields"]["model_busy"] == true)
        .count();
    assert!((1..=2).contains(&busy), "{log}");
    assert!(!log.contains("blue badge"), "message text was logged");
}
