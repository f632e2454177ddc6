//! The `signpost` command: serve, ask, kb.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use signpost::answer::{Engine, Question};
use signpost::channels::Channel;
use signpost::config::Config;
use signpost::kb::Kb;
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
    },
    /// Work with the knowledge base.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
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
    },
    /// Build the search index now (it is otherwise built on first use).
    Index,
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
    match cli.command {
        Command::Serve { addr } => {
            init_logging(&config, "info");
            let addr = addr.unwrap_or_else(|| config.server.addr.clone());
            let engine = Engine::new(config)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(signpost::server::serve(engine, &addr))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask {
            question,
            json,
            channel,
            explain,
        } => {
            init_logging(&config, "warn");
            let engine = Engine::new(config)?;
            let reply = engine.answer(&Question::new(question, channel));
            if json {
                let mut out = serde_json::json!({
                    "route": reply.route.as_str(),
                    "reply": reply.reply,
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
                println!("{}", reply.reply);
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
                        println!("[coverage] {:.2}", st.coverage);
                        for (id, score) in &st.retrieved {
                            println!("[retrieved] {score:7.2} {id}");
                        }
                    }
                    for s in &st.removed {
                        println!("[removed] {s}");
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
            command: KbCommand::Check { kb, readability },
        } => {
            init_logging(&config, "warn");
            if let Some(dir) = kb {
                config.kb.dir = dir;
            }
            let today = time::OffsetDateTime::now_utc().date();
            let (kb, problems) = Kb::load(&config.kb, today)?;
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
        Command::Kb {
            command: KbCommand::Index,
        } => {
            init_logging(&config, "warn");
            let engine = Engine::new(config)?;
            println!(
                "index ready: {} passages from {} pages at {} ({})",
                engine.index.num_docs(),
                engine.kb.pages.len(),
                engine.index.path.display(),
                if engine.index.built {
                    "built"
                } else {
                    "already up to date"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
