//! The `signpost` command: parses the arguments and hands each subcommand
//! to its file under `cli/`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{init_logging, BenchCommand, Cli, Command, KbCommand};
use signpost::config::Config;

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
    if let Some(id) = &cli.council {
        anyhow::ensure!(
            !matches!(cli.command, Command::Serve { .. }),
            "serve answers for every council in the settings; --council is for the other commands"
        );
        config = config.for_council(id)?;
    }
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
        Command::Serve { addr, wyoming_addr } => cli::serve::run(config, addr, wyoming_addr),
        Command::Ask {
            question,
            json,
            channel,
            explain,
            no_llm,
            after,
        } => cli::ask::run(config, question, json, channel, explain, no_llm, after),
        Command::Kb { command } => match command {
            KbCommand::Check {
                kb,
                readability,
                today,
            } => cli::kb::check(config, kb, readability, today),
            KbCommand::Index => cli::kb::index(config),
            KbCommand::TriageScores { files } => {
                init_logging(&config, "warn");
                cli::kb::triage_scores(config, &files)
            }
        },
        Command::Transcribe { file, model, json } => {
            cli::transcribe::run(config, file, model, json)
        }
        Command::Bench {
            what:
                Some(BenchCommand::Councils {
                    counts,
                    answers,
                    runs,
                    json,
                }),
            ..
        } => {
            init_logging(&config, "warn");
            cli::councils::run(&config, &counts, answers, runs, json)
        }
        Command::Bench {
            what:
                Some(BenchCommand::ModelServer {
                    url,
                    model,
                    runs,
                    json,
                }),
            ..
        } => {
            init_logging(&config, "warn");
            cli::bench::model_server(&config, &url, &model, runs, json)
        }
        Command::Bench {
            what: Some(BenchCommand::Speech { models, json }),
            ..
        } => {
            init_logging(&config, "warn");
            cli::bench::speech(&config, models, json)
        }
        Command::Bench {
            what:
                Some(BenchCommand::Load {
                    url,
                    endpoints,
                    concurrency,
                    seconds,
                    soak,
                    voice_clip,
                    keep_rate_limit,
                    json,
                }),
            ..
        } => {
            init_logging(&config, "warn");
            let args = cli::load::LoadArgs {
                url,
                endpoints,
                concurrency,
                seconds,
                soak,
                voice_clip,
                keep_rate_limit,
                json,
            };
            cli::load::run(&config, args)
        }
        Command::Bench {
            what: Some(BenchCommand::Model { name, json, runs }),
            ..
        } => cli::bench::model(config, name, json, runs),
        Command::Bench {
            what: None,
            json,
            models,
            llama_bench,
            runs,
        } => {
            init_logging(&config, "warn");
            cli::bench::all(config, models, json, llama_bench, runs)
        }
        Command::Import { command } => {
            init_logging(&config, "info");
            cli::import::run(&config, command)
        }
        Command::Models { command } => {
            init_logging(&config, "warn");
            cli::models::run(&config, command)
        }
        Command::Eval(args) => {
            init_logging(&config, "warn");
            cli::eval::run(config, args)
        }
    }
}
