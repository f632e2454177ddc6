//! `signpost bench`: the language models and speech models, measured.

use std::path::PathBuf;
use std::process::ExitCode;

use signpost::config::Config;
use signpost::pipeline::Engine;

use super::{init_logging, write_atomic};

/// `bench model NAME`: one model, in this process.
pub fn model(
    mut config: Config,
    name: String,
    json: PathBuf,
    runs: usize,
) -> anyhow::Result<ExitCode> {
    init_logging(&config, "warn");
    config.llm.model = name;
    config.llm.roles = vec![signpost::config::Job::Rephrase];
    config.llm.deadline_ms = 60_000;
    let path = model_file(&config, &config.llm.model)?;
    let engine = Engine::new(config)?;
    let r = signpost::bench::model(&engine, &path, runs)?;
    write_atomic(&json, &serde_json::to_string_pretty(&r)?)?;
    Ok(ExitCode::SUCCESS)
}

fn model_file(config: &Config, name: &str) -> anyhow::Result<PathBuf> {
    use signpost::models::{manifest_path, Manifest};
    let manifest = Manifest::load(&manifest_path())?;
    Ok(manifest
        .get(name)?
        .dir(&config.models.cache())
        .join(signpost::llm::MODEL_FILE))
}

pub fn all(
    mut config: Config,
    names: Vec<String>,
    json: Option<PathBuf>,
    llama_bench: Option<PathBuf>,
    runs: usize,
) -> anyhow::Result<ExitCode> {
    use signpost::bench;
    use signpost::models::{manifest_path, Manifest, Status};
    let manifest = Manifest::load(&manifest_path())?;
    let cache = config.models.cache();
    let threads: usize = std::env::var("CANDLE_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let machine = machine_description(threads);
    println!("machine: {machine}");

    let questions: Vec<String> =
        signpost::eval::read_cases(std::path::Path::new("eval/cases.jsonl"))?
            .into_iter()
            .filter(|c| c.history.is_empty())
            .map(|c| c.question)
            .collect();
    config.llm.model.clear();
    config.llm.server_url.clear();
    let engine = Engine::new(config.clone())?;
    let none = bench::no_model(&engine, &questions);
    drop(engine);
    println!(
        "no model: {} questions, retrieval p50 {:.2} ms, p99 {:.2} ms; whole answer p50 {:.2} ms, p99 {:.2} ms",
        none.questions, none.retrieval_p50_ms, none.retrieval_p99_ms, none.answer_p50_ms, none.answer_p99_ms
    );

    let chosen: Vec<_> = manifest
        .models
        .iter()
        .filter(|m| m.role == "llm" && (names.is_empty() || names.contains(&m.name)))
        .collect();
    let exe = std::env::current_exe()?;
    let mut models = Vec::new();
    for m in chosen {
        if m.status(&cache) != Status::Verified {
            println!(
                "{}: not installed, skipped (run `signpost models fetch {}`)",
                m.name, m.name
            );
            continue;
        }
        let out = std::env::temp_dir().join(format!(
            "signpost-bench-{}-{}.json",
            m.name,
            std::process::id()
        ));
        let status = std::process::Command::new(&exe)
            .args([
                "bench",
                "model",
                &m.name,
                "--runs",
                &runs.to_string(),
                "--json",
            ])
            .arg(&out)
            .status()?;
        anyhow::ensure!(status.success(), "measuring {} failed", m.name);
        let r: bench::ModelBench = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
        let _ = std::fs::remove_file(&out);
        let anchor = match &llama_bench {
            Some(tool) => {
                let gguf = m.dir(&cache).join(signpost::llm::MODEL_FILE);
                match bench::llama_bench(tool, &gguf, r.prompt_tokens, threads, runs) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        eprintln!("{}: llama.cpp anchor not measured: {e:#}", m.name);
                        None
                    }
                }
            }
            None => None,
        };
        println!(
            "{}: load {:.0} ms, prompt {} tokens, prefill {:.1} tok/s, decode {:.1} tok/s, first token {:.0} ms (cold {:.0} ms), 60-word answer {:.0} ms, rerank of 4 {:.0} ms, whole answer {:.0} ms ({} of {} drafts used), peak {:.0} MiB{}",
            r.model, r.load_ms, r.prompt_tokens, r.prefill_tps, r.decode_tps, r.first_token_ms,
            r.first_token_cold_ms, r.answer_60_words_ms, r.rerank_ms, r.whole_answer_ms,
            r.drafts_used, bench::QUESTIONS.len(), r.peak_mib,
            anchor.as_ref().map(|a| format!(
                "; llama.cpp prefill {:.1} tok/s, decode {:.1} tok/s; ratio prefill {:.2}, decode {:.2}",
                a.prefill_tps, a.decode_tps, r.prefill_tps / a.prefill_tps.max(1e-9), r.decode_tps / a.decode_tps.max(1e-9)
            )).unwrap_or_default()
        );
        models.push(serde_json::json!({ "candle": r, "llama_cpp": anchor }));
    }
    if let Some(p) = json {
        let all = serde_json::json!({ "machine": machine, "threads": threads, "no_model": none, "models": models });
        write_atomic(&p, &serde_json::to_string_pretty(&all)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// CPU model and count, for benchmark records.
fn machine_description(threads: usize) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores, {threads} model threads")
}

pub fn speech(
    config: &Config,
    names: Vec<String>,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use signpost::models::{manifest_path, Manifest};
    let manifest = Manifest::load(&manifest_path())?;
    let cache = config.models.cache();
    let root = std::env::current_dir()?;
    let chosen: Vec<_> = manifest
        .models
        .iter()
        .filter(|m| m.role == "speech")
        .filter(|m| names.is_empty() || names.contains(&m.name))
        .collect();
    let mut results = Vec::new();
    for m in chosen {
        if m.status(&cache) != signpost::models::Status::Verified {
            eprintln!(
                "{}: not installed, skipped (run `signpost models fetch {}`)",
                m.name, m.name
            );
            continue;
        }
        let path = signpost::speech::converted(config, &m.name)?;
        let r = signpost::speech::bench::run_model(&m.name, &path, config, &root)?;
        println!(
            "{}: word error rate {:.3}, real-time factor {:.3} (median), load {:.0} ms",
            r.model, r.wer, r.rtf_median, r.load_ms
        );
        for v in &r.voices {
            println!(
                "  {:<16} WER {:.3} ({} of {} words)  RTF {:.3}",
                v.voice, v.wer, v.word_errors, v.words, v.rtf_median
            );
            for (said, heard) in &v.misheard {
                println!("      said \"{said}\", heard \"{heard}\"");
            }
        }
        results.push(r);
    }
    if let Some(p) = json {
        std::fs::write(&p, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `signpost bench model-server`: the same model file in this process and
/// on a server, measured in one run.
pub fn model_server(
    config: &Config,
    url: &str,
    model: &str,
    runs: usize,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    use signpost::config::Job;
    let mut local = config.clone();
    local.llm.model = model.to_string();
    local.llm.server_url = String::new();
    let mut server = config.clone();
    server.llm.model = String::new();
    server.llm.server_url = url.to_string();
    for c in [&mut local, &mut server] {
        c.llm.roles = vec![Job::Rerank, Job::Rephrase];
        c.llm.deadline_ms = 600_000;
    }
    let local = signpost::pipeline::Engine::new(local)?;
    let server = signpost::pipeline::Engine::new(server)?;
    anyhow::ensure!(
        server.llm().is_some_and(|m| m.reachable()),
        "the model server at {url} does not answer: start it (e.g. llama-server -m FILE --port N)"
    );
    let figures =
        signpost::bench::model_backends(&[("in-process", &local), ("server", &server)], runs)?;
    println!("{model}, medians of {runs} runs, both in this run:");
    println!(
        "| backend | first token | rephrase (tokens) | rerank of 4 | whole answer | drafts used |"
    );
    println!("|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {:.0} ms | {:.0} ms ({}) | {:.0} ms | {:.0} ms | {}/{} |",
            f.backend,
            f.first_token_ms,
            f.rephrase_ms,
            f.rephrase_tokens,
            f.rerank_ms,
            f.whole_answer_ms,
            f.drafts_used,
            f.questions
        );
    }
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_string_pretty(&figures)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
