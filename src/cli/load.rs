//! `signpost bench load`: a bounded load test from outside, on loopback.
//! It starts `signpost serve` as its own process (or uses `--url`), then
//! for each concurrency level runs that many clients for a fixed time
//! against the JSON API, the stream, the no-JavaScript form and (with a
//! recording) the voice API. It reports throughput, latency percentiles,
//! refusals (busy 503, rate limited 429; a refused client pauses a second
//! before trying again) and errors, and the server's
//! memory and open files. `--soak` holds one level steady for longer and
//! samples memory, files and latency as it goes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use signpost::config::Config;

use super::write_atomic;

/// How long a client waits after a refusal before its next request.
const REFUSED_PAUSE: Duration = Duration::from_secs(1);

/// What one run is asked to do.
pub struct LoadArgs {
    pub url: Option<String>,
    pub endpoints: Vec<String>,
    pub concurrency: Vec<usize>,
    pub seconds: u64,
    pub soak: Option<u64>,
    pub voice_clip: Option<PathBuf>,
    pub keep_rate_limit: bool,
    pub json: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub endpoint: String,
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: usize,
    pub ok: usize,
    /// 503 busy (admission control).
    pub busy: usize,
    /// 429 rate limited.
    pub limited: usize,
    /// Any other status, or no response at all.
    pub errors: usize,
    /// Answers (2xx) per second.
    pub throughput: f64,
    /// Latency of answered requests, in ms.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Latency of refusals (how fast "busy" comes back), median, in ms.
    pub refusal_p50_ms: Option<f64>,
    /// The server's resident memory and open files after the level.
    pub server_rss_mib: Option<f64>,
    pub server_open_files: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoakSample {
    pub at_s: f64,
    pub requests: usize,
    pub busy: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rss_mib: Option<f64>,
    pub open_files: Option<usize>,
}

/// The server under test: a child process, or one given by URL.
struct Target {
    base: String,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_server(config: &Config, keep_rate_limit: bool) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    let mut c = config.clone();
    c.data_dir = dir.path().join("data");
    if !keep_rate_limit {
        // Every request comes from one address here; the limit per address
        // would measure only itself.
        c.server.rate_limit_per_minute = 0;
    }
    let settings = dir.path().join("signpost.toml");
    std::fs::write(&settings, toml::to_string(&c)?)?;
    let (child, base) = spawn_serve(&settings, &[("SIGNPOST_LOG", "warn")], |_| {})?;
    Ok(Target {
        base,
        child: Some(child),
        _dir: Some(dir),
    })
}

/// Starts `signpost serve` on a free loopback port with these settings and
/// waits until it takes requests; each line it logs before then goes to
/// `early`. Returns the process and its address. Its later output is read
/// and dropped, so it never blocks on a full pipe.
pub(super) fn spawn_serve(
    settings: &std::path::Path,
    envs: &[(&str, &str)],
    mut early: impl FnMut(&str),
) -> anyhow::Result<(std::process::Child, String)> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["serve", "--addr", "127.0.0.1:0"])
        .env("SIGNPOST_CONFIG", settings)
        .env("SIGNPOST_QUIET", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    let base = loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            let _ = child.kill();
            anyhow::bail!("the server stopped before it was ready: {line}");
        }
        if let Some(rest) = line.trim().strip_prefix("Signpost is listening on ") {
            break rest.to_string();
        }
        early(&line);
    };
    std::thread::spawn(move || for _ in reader.lines().map_while(Result::ok) {});
    Ok((child, base))
}

/// Resident memory (MiB) and open files of a process, from /proc.
pub(super) fn server_resources(pid: Option<u32>) -> (Option<f64>, Option<usize>) {
    let Some(pid) = pid else {
        return (None, None);
    };
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0);
    let files = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count());
    (rss, files)
}

/// One request of a kind; what came back and how long it took.
struct Outcome {
    status: Option<u16>,
    ms: f64,
}

/// A client: its own connection, and for the form, its own form token.
struct Client {
    agent: ureq::Agent,
    base: String,
    form: Option<(String, String)>,
}

impl Client {
    fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Client {
            agent,
            base: base.to_string(),
            form: None,
        }
    }

    fn request(&mut self, endpoint: &str, question: &str, clip: &[u8]) -> Outcome {
        let started = Instant::now();
        let status = self.send(endpoint, question, clip);
        Outcome {
            status,
            ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    fn send(&mut self, endpoint: &str, question: &str, clip: &[u8]) -> Option<u16> {
        let url = |p: &str| format!("{}{p}", self.base);
        let json = serde_json::json!({ "message": question }).to_string();
        let mut r = match endpoint {
            "chat" => self
                .agent
                .post(&url("/api/chat"))
                .header("content-type", "application/json")
                .send(&json),
            "stream" => self
                .agent
                .post(&url("/api/chat/stream"))
                .header("content-type", "application/json")
                .send(&json),
            "voice" => self
                .agent
                .post(&url("/api/voice"))
                .header("content-type", "audio/wav")
                .send(clip),
            "form" => {
                if self.form.is_none() {
                    self.form = self.form_token();
                }
                let (cookie, token) = self.form.clone()?;
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("csrf", &token)
                    .append_pair("q", question)
                    .finish();
                self.agent
                    .post(&url("/"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", &cookie)
                    .send(body.as_bytes())
            }
            other => unreachable!("unknown endpoint {other}"),
        }
        .ok()?;
        let status = r.status().as_u16();
        // Read the whole reply (the stream to its end).
        let _ = r.body_mut().read_to_vec();
        Some(status)
    }

    /// The page's form token and cookie, as a browser gets them.
    fn form_token(&self) -> Option<(String, String)> {
        let mut r = self.agent.get(&format!("{}/", self.base)).call().ok()?;
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sp_csrf="))?
            .split(';')
            .next()?
            .to_string();
        let html = r.body_mut().read_to_string().ok()?;
        let token = html
            .split("name=\"csrf\" value=\"")
            .nth(1)?
            .split('"')
            .next()?
            .to_string();
        Some((cookie, token))
    }
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `clients` clients against one endpoint until `stop` is set, each
/// outcome going to `sink`.
fn run_clients(
    base: &str,
    endpoint: &str,
    clients: usize,
    questions: &Arc<Vec<String>>,
    clip: &Arc<Vec<u8>>,
    stop: &Arc<AtomicBool>,
    sink: &Arc<Mutex<Vec<Outcome>>>,
) -> Vec<std::thread::JoinHandle<()>> {
    let next = Arc::new(AtomicUsize::new(0));
    // Several servers (replicas behind no balancer): clients take turns.
    let bases: Vec<&str> = base.split(',').collect();
    (0..clients)
        .map(|i| {
            let (base, endpoint) = (bases[i % bases.len()].to_string(), endpoint.to_string());
            let (questions, clip, stop, sink, next) = (
                questions.clone(),
                clip.clone(),
                stop.clone(),
                sink.clone(),
                next.clone(),
            );
            std::thread::spawn(move || {
                let mut client = Client::new(&base);
                while !stop.load(Ordering::Relaxed) {
                    let q = &questions[next.fetch_add(1, Ordering::Relaxed) % questions.len()];
                    let o = client.request(&endpoint, q, &clip);
                    // Told to wait (busy, or rate limited), a client pauses
                    // before trying again, as a person or a polite program
                    // would, instead of hammering the server.
                    let refused = matches!(o.status, Some(503) | Some(429));
                    if let Ok(mut s) = sink.lock() {
                        s.push(o);
                    }
                    if refused {
                        std::thread::sleep(REFUSED_PAUSE);
                    }
                }
            })
        })
        .collect()
}

fn summarise(endpoint: &str, concurrency: usize, secs: f64, outcomes: &[Outcome]) -> Level {
    let mut ok: Vec<f64> = Vec::new();
    let mut refused: Vec<f64> = Vec::new();
    let (mut busy, mut limited, mut errors) = (0, 0, 0);
    for o in outcomes {
        match o.status {
            Some(s) if (200..300).contains(&s) => ok.push(o.ms),
            Some(503) => {
                busy += 1;
                refused.push(o.ms);
            }
            Some(429) => {
                limited += 1;
                refused.push(o.ms);
            }
            _ => errors += 1,
        }
    }
    ok.sort_by(f64::total_cmp);
    refused.sort_by(f64::total_cmp);
    Level {
        endpoint: endpoint.to_string(),
        concurrency,
        seconds: secs,
        requests: outcomes.len(),
        ok: ok.len(),
        busy,
        limited,
        errors,
        throughput: ok.len() as f64 / secs.max(1e-9),
        p50_ms: percentile(&ok, 0.50),
        p95_ms: percentile(&ok, 0.95),
        p99_ms: percentile(&ok, 0.99),
        max_ms: ok.last().copied().unwrap_or(0.0),
        refusal_p50_ms: (!refused.is_empty()).then(|| percentile(&refused, 0.5)),
        server_rss_mib: None,
        server_open_files: None,
    }
}

/// A recording for the voice endpoint: the one given, or one spoken now by
/// espeak-ng.
fn voice_clip(given: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    if let Some(p) = given {
        return Ok(std::fs::read(p)?);
    }
    let dir = tempfile::tempdir()?;
    let wav = dir.path().join("q.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-gb", "-w"])
        .arg(&wav)
        .arg("how much does a blue badge cost")
        .status()
        .map_err(|e| anyhow::anyhow!("espeak-ng is needed to make a recording for the voice endpoint ({e}); give one with --voice-clip"))?;
    anyhow::ensure!(status.success(), "espeak-ng failed");
    Ok(std::fs::read(&wav)?)
}

pub fn run(config: &Config, args: LoadArgs) -> anyhow::Result<ExitCode> {
    for e in &args.endpoints {
        anyhow::ensure!(
            ["chat", "stream", "form", "voice"].contains(&e.as_str()),
            "unknown endpoint '{e}': choose from chat, stream, form, voice"
        );
    }
    let questions: Vec<String> =
        signpost::eval::read_cases(std::path::Path::new("eval/cases.jsonl"))?
            .into_iter()
            .filter(|c| c.history.is_empty())
            .map(|c| c.question)
            .collect();
    anyhow::ensure!(!questions.is_empty(), "eval/cases.jsonl has no questions");
    let questions = Arc::new(questions);
    let clip = Arc::new(if args.endpoints.iter().any(|e| e == "voice") {
        voice_clip(args.voice_clip.as_ref())?
    } else {
        Vec::new()
    });
    let target = match &args.url {
        Some(u) => Target {
            base: u
                .split(',')
                .map(|b| b.trim().trim_end_matches('/'))
                .collect::<Vec<_>>()
                .join(","),
            child: None,
            _dir: None,
        },
        None => start_server(config, args.keep_rate_limit)?,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load test of {} ({} cores here; client and server share them)",
        target.base, cores
    );
    let (rss, files) = server_resources(target.pid());
    if let (Some(r), Some(f)) = (rss, files) {
        println!("server at rest: {r:.0} MiB resident, {f} open files");
    }
    let mut levels = Vec::new();
    for endpoint in &args.endpoints {
        // Warm up: each endpoint's first answers load what they need.
        for base in target.base.split(',') {
            let mut warm = Client::new(base);
            for q in questions.iter().take(3) {
                warm.request(endpoint, q, &clip);
            }
        }
        for &c in &args.concurrency {
            let stop = Arc::new(AtomicBool::new(false));
            let sink = Arc::new(Mutex::new(Vec::new()));
            let started = Instant::now();
            let threads = run_clients(&target.base, endpoint, c, &questions, &clip, &stop, &sink);
            std::thread::sleep(Duration::from_secs(args.seconds));
            stop.store(true, Ordering::Relaxed);
            for t in threads {
                let _ = t.join();
            }
            let secs = started.elapsed().as_secs_f64();
            let outcomes =
                std::mem::take(&mut *sink.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
            let mut level = summarise(endpoint, c, secs, &outcomes);
            (level.server_rss_mib, level.server_open_files) = server_resources(target.pid());
            println!(
                "{:<7} {:>4} clients: {:>7.1} answers/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>7.1} ms  busy {:>5}  limited {:>4}  errors {:>3}{}",
                level.endpoint, level.concurrency, level.throughput, level.p50_ms, level.p95_ms,
                level.p99_ms, level.busy, level.limited, level.errors,
                level.refusal_p50_ms.map(|m| format!("  (busy in {m:.1} ms)")).unwrap_or_default()
            );
            levels.push(level);
        }
    }
    let soak = match args.soak {
        Some(total) => Some(soak(&target, &args, total, &questions, &clip)?),
        None => None,
    };
    if let Some(p) = &args.json {
        let all = serde_json::json!({
            "target": target.base,
            "cores": cores,
            "seconds_per_level": args.seconds,
            "levels": levels,
            "soak": soak,
        });
        write_atomic(p, &serde_json::to_string_pretty(&all)?)?;
    }
    let failed = levels.iter().map(|l| l.errors).sum::<usize>()
        + soak
            .as_ref()
            .map_or(0, |s| s.iter().map(|x| x.errors).sum());
    if failed > 0 {
        eprintln!("{failed} requests failed (no answer, or a status other than 2xx, 429 or 503)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Steady load on the first endpoint at the first concurrency level for
/// `total` seconds, sampled every 30 seconds.
fn soak(
    target: &Target,
    args: &LoadArgs,
    total: u64,
    questions: &Arc<Vec<String>>,
    clip: &Arc<Vec<u8>>,
) -> anyhow::Result<Vec<SoakSample>> {
    let endpoint = args.endpoints.first().map_or("chat", String::as_str);
    let c = args.concurrency.first().copied().unwrap_or(16);
    println!("soak: {endpoint}, {c} clients, {total} s");
    let stop = Arc::new(AtomicBool::new(false));
    let sink = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let threads = run_clients(&target.base, endpoint, c, questions, clip, &stop, &sink);
    let mut samples = Vec::new();
    let step = Duration::from_secs(30.min(total.max(1)));
    while started.elapsed() < Duration::from_secs(total) {
        std::thread::sleep(step);
        let window = std::mem::take(&mut *sink.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        let l = summarise(endpoint, c, step.as_secs_f64(), &window);
        let (rss, files) = server_resources(target.pid());
        let s = SoakSample {
            at_s: started.elapsed().as_secs_f64(),
            requests: l.requests,
            busy: l.busy,
            errors: l.errors,
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
            rss_mib: rss,
            open_files: files,
        };
        println!(
            "  {:>5.0} s: {:>6} requests, p50 {:>6.1} ms, p99 {:>7.1} ms, busy {}, errors {}, {} MiB, {} files",
            s.at_s, s.requests, s.p50_ms, s.p99_ms, s.busy, s.errors,
            s.rss_mib.map_or("-".into(), |r| format!("{r:.0}")),
            s.open_files.map_or("-".into(), |f| f.to_string())
        );
        samples.push(s);
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    Ok(samples)
}
