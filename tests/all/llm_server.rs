//! The language model on an OpenAI-compatible server: llama.cpp's real
//! `llama-server` (built once by ./setup.sh from the llama.cpp source inside
//! the llama-cpp-python source package, cached outside the repository)
//! serving the same SmolLM2 file the in-process tests use. Every model job
//! runs through it with the same checks; a dead server means the quoted
//! answer, never an error, and `/healthz` says the model is unreachable
//! while `/readyz` stays green.

use crate::common::{self, free_port};

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::pipeline::{Engine, Question, Route};

pub struct LlamaServer {
    child: Child,
    pub url: String,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The program ./setup.sh built (scripts/build-llama-server.sh).
fn program() -> PathBuf {
    let out = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/build-llama-server.sh"
        ))
        .env("SIGNPOST_LLAMA_SERVER_ONLY_CACHED", "1")
        .output()
        .expect("run scripts/build-llama-server.sh");
    assert!(
        out.status.success(),
        "llama-server is not built: run ./setup.sh ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn model_file() -> PathBuf {
    let p = Config::default()
        .models
        .cache()
        .join("smollm2-135m")
        .join("model.gguf");
    assert!(
        p.exists(),
        "run ./setup.sh (signpost models fetch smollm2-135m)"
    );
    p
}

/// A real llama-server on a free loopback port, ready to answer.
pub fn start() -> LlamaServer {
    let port = free_port();
    let child = Command::new(program())
        .arg("-m")
        .arg(model_file())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["-c", "4096", "-np", "2", "-t", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start llama-server");
    let server = LlamaServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let agent = common::lenient();
    loop {
        if agent
            .get(&format!("{}/health", server.url))
            .call()
            .is_ok_and(|r| r.status().as_u16() == 200)
        {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "llama-server did not load the model in 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn engine(url: &str, roles: &[&str]) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir = common::kb_dir();
    config.data_dir = data.path().to_path_buf();
    config.llm.server_url = url.to_string();
    config.llm.roles = roles.iter().map(|r| r.parse().unwrap()).collect();
    // Tests share two cores; the deadline is for production, not for them.
    config.llm.deadline_ms = 120_000;
    (Engine::new(config).unwrap(), data)
}

#[test]
fn every_model_job_runs_on_a_model_server_with_the_same_checks() {
    let server = start();
    let (e, _d) = engine(&server.url, &["rerank", "rephrase"]);
    let mut drafts = 0;
    for q in [
        "how do I get a blue badge",
        "what is a carer's assessment",
        "can I get meals delivered at home",
    ] {
        let r = e.answer(&Question::new(q, Channel::Web));
        assert_eq!(r.route, Route::Answer, "{q}");
        assert!(r.grounded, "{q}");
        let m = r.stages.model.as_ref().expect("the model took part");
        assert!(m.model.contains(&server.url), "{}", m.model);
        assert!(m.notes.is_empty(), "{q}: {:?}", m.notes);
        // The reranker read the server's log-probabilities.
        assert_eq!(m.ranking.len(), 4, "{q}");
        assert!(m.ranking.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
        assert!(
            m.ranking.iter().any(|(_, p)| *p != 0.5),
            "{q}: no judgement came back: {:?}",
            m.ranking
        );
        // The draft streamed back, and was checked like any other.
        let draft = m.draft.as_deref().expect("a draft");
        assert!(!draft.trim().is_empty(), "{q}");
        assert!(m.first_token_ms.is_some(), "{q}");
        drafts += 1;
        let unsupported = signpost::eval::grounding::unsupported(&r.answer, &r.passages);
        assert!(unsupported.is_empty(), "{q}: {unsupported:?}");
    }
    assert_eq!(drafts, 3);
    // An emergency never reaches the server.
    let r = e.answer(&Question::new(
        "my dad has fallen and can't get up",
        Channel::Web,
    ));
    assert_eq!(r.route, Route::Escalate);
    assert!(r.stages.model.is_none());
}

#[test]
fn a_dead_or_slow_model_server_means_the_quoted_answer_and_healthz_says_so() {
    let server = start();
    let url = server.url.clone();
    let (e, _d) = engine(&url, &["rephrase"]);
    let q = "how much does a blue badge cost";
    let quoted = {
        let (plain, _d2) = {
            let data = tempfile::tempdir().unwrap();
            let mut config = Config::default();
            config.kb.dir = common::kb_dir();
            config.data_dir = data.path().to_path_buf();
            (Engine::new(config).unwrap(), data)
        };
        plain.answer(&Question::new(q, Channel::Web)).answer
    };
    // A deadline the server cannot meet: the quoted answer, with a note.
    {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.kb.dir = common::kb_dir();
        config.data_dir = data.path().to_path_buf();
        config.llm.server_url = url.clone();
        config.llm.roles = vec!["rephrase".parse().unwrap()];
        config.llm.deadline_ms = 1;
        let slow = Engine::new(config).unwrap();
        let r = slow.answer(&Question::new(q, Channel::Web));
        assert_eq!(r.route, Route::Answer);
        assert_eq!(r.answer, quoted);
        let m = r.stages.model.as_ref().unwrap();
        assert!(
            m.answer_from.starts_with("quoted answer"),
            "{}",
            m.answer_from
        );
    }
    // The server dies: the same engine answers from the pages.
    drop(server);
    let r = e.answer(&Question::new(q, Channel::Web));
    assert_eq!(r.route, Route::Answer);
    assert_eq!(r.answer, quoted);
    let m = r.stages.model.as_ref().unwrap();
    assert!(
        m.notes.iter().any(|n| n.contains("did not answer")),
        "{:?}",
        m.notes
    );

    // Served: /readyz stays green, /healthz says the model is unreachable.
    let dir = tempfile::tempdir().unwrap();
    let s = common::Server::start(
        dir.path(),
        &[
            ("SIGNPOST_LLM_SERVER_URL", url.as_str()),
            ("SIGNPOST_LLM_ROLES", "rephrase"),
        ],
    );
    let agent = common::lenient();
    let ready = agent.get(&s.url("/readyz")).call().unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let health: serde_json::Value = agent
        .get(&s.url("/healthz"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(health["model"]["runs"], "server", "{health}");
    assert_eq!(health["model"]["reachable"], false, "{health}");
    let chat: serde_json::Value = agent
        .post(&s.url("/api/chat"))
        .header("content-type", "application/json")
        .send(serde_json::json!({ "message": q }).to_string().as_bytes())
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(chat["route"], "answer", "{chat}");
}
