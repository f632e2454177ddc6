//! `signpost bench councils`: one install serving 1, 2, 13... councils
//! (copies of the knowledge base, each its own council with its own index
//! and store), measured from outside: start-up with empty data folders
//! (every index built) and again with the indexes on disk, each council's
//! time to be ready, the server's peak memory, and answer times across the
//! councils.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;
use signpost::config::Config;

use super::load::{percentile, server_resources, spawn_serve};

#[derive(Debug, Serialize)]
pub struct CouncilsRow {
    pub councils: usize,
    /// From starting the process to taking requests, every index built.
    pub cold_start_s: f64,
    /// The same with every index already on disk.
    pub warm_start_s: f64,
    /// Each council's own load (knowledge base, rules, index, example
    /// bank) on the cold start, median and longest, in ms.
    pub council_ready_ms_p50: f64,
    pub council_ready_ms_max: f64,
    /// Resident memory once ready, and its peak after the answers, MiB.
    pub ready_rss_mib: f64,
    pub peak_rss_mib: f64,
    pub answers: usize,
    pub answer_ms_p50: f64,
    pub answer_ms_p95: f64,
    pub errors: usize,
}

struct Running {
    child: std::process::Child,
    base: String,
    ready_ms: Vec<f64>,
    started_s: f64,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// Settings for `n` councils, each a copy of the knowledge base.
fn settings(root: &Path, kb: &Path, n: usize) -> anyhow::Result<PathBuf> {
    let mut text = format!(
        "data_dir = \"{}\"\n\n[server]\nrate_limit_per_minute = 0\n",
        root.join("data").display()
    );
    for i in 1..=n {
        let dir = root.join(format!("kb-{i:02}"));
        copy_dir(kb, &dir)?;
        text.push_str(&format!(
            "\n[councils.council-{i:02}]\nkb.dir = \"{}\"\n",
            dir.display()
        ));
    }
    let path = root.join("signpost.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

fn start(settings: &Path) -> anyhow::Result<Running> {
    let started = Instant::now();
    let mut ready_ms = Vec::new();
    let (child, base) = spawn_serve(
        settings,
        &[("SIGNPOST_LOG", "info"), ("SIGNPOST_LOG_JSON", "1")],
        |line| {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                let m = v["fields"]["message"].as_str().unwrap_or("");
                if m.starts_with("council ") && m.ends_with(" ready") {
                    if let Some(ms) = v["fields"]["ms"].as_f64() {
                        ready_ms.push(ms);
                    }
                }
            }
        },
    )?;
    Ok(Running {
        child,
        base,
        ready_ms,
        started_s: started.elapsed().as_secs_f64(),
    })
}

fn vm_hwm(pid: u32) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()
        .map(|kb| kb / 1024.0)
}

fn measure(
    kb: &Path,
    n: usize,
    answers: usize,
    questions: &[String],
) -> anyhow::Result<CouncilsRow> {
    let dir = tempfile::tempdir()?;
    let settings = settings(dir.path(), kb, n)?;
    let cold = start(&settings)?;
    let cold_start_s = cold.started_s;
    let mut ready = cold.ready_ms.clone();
    ready.sort_by(f64::total_cmp);
    drop(cold);
    let warm = start(&settings)?;
    let pid = warm.child.id();
    let ready_rss_mib = server_resources(Some(pid)).0.unwrap_or(0.0);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut times = Vec::with_capacity(answers);
    let mut errors = 0;
    for i in 0..answers {
        let council = format!("council-{:02}", i % n + 1);
        let q = &questions[i % questions.len()];
        let body = serde_json::json!({ "message": q }).to_string();
        let t = Instant::now();
        let r = agent
            .post(&format!("{}/c/{council}/api/chat", warm.base))
            .header("content-type", "application/json")
            .send(body.as_bytes());
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        match r {
            Ok(mut r) if r.status().as_u16() == 200 => {
                let _ = r.body_mut().read_to_string();
                times.push(ms);
            }
            _ => errors += 1,
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(CouncilsRow {
        councils: n,
        cold_start_s,
        warm_start_s: warm.started_s,
        council_ready_ms_p50: percentile(&ready, 0.5),
        council_ready_ms_max: ready.last().copied().unwrap_or(0.0),
        ready_rss_mib,
        peak_rss_mib: vm_hwm(pid).unwrap_or(0.0),
        answers: times.len(),
        answer_ms_p50: percentile(&times, 0.5),
        answer_ms_p95: percentile(&times, 0.95),
        errors,
    })
}

/// Each figure's median over several runs.
fn median_row(runs: Vec<CouncilsRow>) -> CouncilsRow {
    let med = |f: &dyn Fn(&CouncilsRow) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    CouncilsRow {
        councils: runs[0].councils,
        cold_start_s: med(&|r| r.cold_start_s),
        warm_start_s: med(&|r| r.warm_start_s),
        council_ready_ms_p50: med(&|r| r.council_ready_ms_p50),
        council_ready_ms_max: med(&|r| r.council_ready_ms_max),
        ready_rss_mib: med(&|r| r.ready_rss_mib),
        peak_rss_mib: med(&|r| r.peak_rss_mib),
        answers: runs.iter().map(|r| r.answers).sum(),
        answer_ms_p50: med(&|r| r.answer_ms_p50),
        answer_ms_p95: med(&|r| r.answer_ms_p95),
        errors: runs.iter().map(|r| r.errors).sum(),
    }
}

pub fn run(
    config: &Config,
    counts: &[usize],
    answers: usize,
    runs: usize,
    json: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        counts.iter().all(|&n| n > 0),
        "--counts: each count of councils must be at least 1"
    );
    let kb = if config.kb.dir.as_os_str().is_empty() {
        PathBuf::from("knowledge-base")
    } else {
        config.kb.dir.clone()
    };
    anyhow::ensure!(
        kb.join("pages").is_dir(),
        "{} is not a knowledge base: run this from Signpost's folder or set kb.dir",
        kb.display()
    );
    let questions: Vec<String> = signpost::eval::read_cases(Path::new("eval/cases.jsonl"))?
        .into_iter()
        .filter(|c| c.history.is_empty())
        .map(|c| c.question)
        .collect();
    anyhow::ensure!(!questions.is_empty(), "eval/cases.jsonl has no questions");
    let mut rows = Vec::new();
    println!("councils  cold start  warm start  council ready p50/max  ready RSS  peak RSS  answers p50/p95  errors");
    for &n in counts {
        let mut each = Vec::new();
        for run in 1..=runs.max(1) {
            eprintln!("measuring {n} council(s), run {run} of {}…", runs.max(1));
            each.push(measure(&kb, n, answers, &questions)?);
        }
        let r = median_row(each);
        println!(
            "{:>8}  {:>9.1}s  {:>9.1}s  {:>12.0}/{:.0} ms  {:>6.0} MiB  {:>5.0} MiB  {:>7.0}/{:.0} ms  {:>6}",
            r.councils,
            r.cold_start_s,
            r.warm_start_s,
            r.council_ready_ms_p50,
            r.council_ready_ms_max,
            r.ready_rss_mib,
            r.peak_rss_mib,
            r.answer_ms_p50,
            r.answer_ms_p95,
            r.errors
        );
        rows.push(r);
    }
    if let Some(path) = json {
        super::write_atomic(&path, &serde_json::to_string_pretty(&rows)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
