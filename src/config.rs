//! Settings: `signpost.toml` plus `SIGNPOST_*` environment overrides, with safe
//! defaults when there is no file at all. Everything a council may change
//! (contacts, thresholds, limits) lives here rather than in code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// All settings. Every section has defaults, so an empty file is valid.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the index and other generated state live (`SIGNPOST_DATA_DIR`).
    pub data_dir: PathBuf,
    pub council: Council,
    pub kb: KbSettings,
    pub search: SearchSettings,
    pub answer: AnswerSettings,
    pub server: ServerSettings,
    pub limits: LimitsSettings,
    pub logging: LoggingSettings,
    pub staff: StaffSettings,
    pub triage: TriageSettings,
    pub models: ModelSettings,
    pub privacy: PrivacySettings,
    pub alexa: AlexaSettings,
    pub wyoming: WyomingSettings,
    pub speech: SpeechSettings,
    pub llm: LlmSettings,
    pub import: ImportSettings,
    /// State shared by several replicas of this install.
    pub shared: SharedSettings,
    /// The chat on the council's own website (the embed snippet).
    pub embed: EmbedSettings,
    /// The council's look: its colour and the name in the page's banner.
    pub branding: BrandingSettings,
    /// Several councils served by one install: `[councils.<id>]`, each with
    /// its own knowledge base, contacts, staff token, limits and data (see
    /// [`Config::councils`]). Empty: one council, today's paths.
    pub councils: std::collections::BTreeMap<String, toml::Table>,
    /// The council's id when this is one council of several ("" otherwise).
    #[serde(skip)]
    pub council_id: String,
    /// Host names that reach this council of several at `/`.
    #[serde(skip)]
    pub hosts: Vec<String>,
}

/// State that several replicas share: conversations (so a follow-up may
/// land on any replica), the per-client rate limits and the kill switch.
/// Empty: kept in this process, as on one server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharedSettings {
    /// "redis://host:6379/0" (`SIGNPOST_REDIS_URL`); "" for none.
    pub redis_url: String,
    /// "postgres://user:password@host:5432/database"
    /// (`SIGNPOST_POSTGRES_URL`): conversations, call-backs, the audit log
    /// and settings live in PostgreSQL, shared by every replica. "" keeps
    /// them in the embedded SQLite file in the data folder.
    pub postgres_url: String,
    /// Longest wait for PostgreSQL (a connection or one statement).
    pub postgres_timeout_ms: u64,
    /// Longest wait for Redis before a replica carries on with its own state.
    pub timeout_ms: u64,
}

impl Default for SharedSettings {
    fn default() -> Self {
        Self {
            redis_url: String::new(),
            postgres_url: String::new(),
            postgres_timeout_ms: 5000,
            timeout_ms: 250,
        }
    }
}

/// Which other websites may show the chat in a frame (the embed snippet's
/// launcher opens it in one). Empty: none but Signpost's own pages.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedSettings {
    /// Origins such as "https://www.northbay.example", given to browsers as
    /// the Content-Security-Policy's frame-ancestors.
    pub allowed_sites: Vec<String>,
}

impl EmbedSettings {
    /// Each allowed site, checked: an origin (scheme, host, optional port)
    /// and nothing else, so nothing can be slipped into the header.
    pub fn check(&self) -> Result<()> {
        for site in &self.allowed_sites {
            let ok = url::Url::parse(site).ok().is_some_and(|u| {
                matches!(u.scheme(), "https" | "http")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && !site.ends_with('/')
            });
            anyhow::ensure!(
                ok,
                "embed.allowed_sites: '{site}' is not a site's origin: write it as https://www.example.gov.uk, with no path"
            );
        }
        Ok(())
    }
}

/// The council's look on the chat page and the embed button.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingSettings {
    /// The banner's and the embed button's colour, "#rrggbb" ("" for
    /// Signpost's). White text must read on it: a contrast of at least 4.5
    /// to 1 (WCAG 2.2 AA) is checked.
    pub accent: String,
    /// The name in the banner ("" for the council's name).
    pub logo_text: String,
    /// Links the council adds to every page's footer, after Signpost's own.
    pub footer_links: Vec<FooterLink>,
}

/// A link in the footer: its words and where it goes (an https or http
/// address, mailto:, tel:, or a path on this site).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FooterLink {
    pub text: String,
    pub url: String,
}

impl BrandingSettings {
    /// Every branding setting checked: the accent's contrast, and footer
    /// links with words and a safe address.
    pub fn check(&self) -> Result<()> {
        self.accent()?;
        for l in &self.footer_links {
            let u = l.url.trim();
            let safe = ["https://", "http://", "mailto:", "tel:"]
                .iter()
                .any(|p| u.to_ascii_lowercase().starts_with(p))
                || (u.starts_with('/') && !u.starts_with("//"));
            anyhow::ensure!(
                !l.text.trim().is_empty() && safe,
                "branding.footer_links: each link needs text and an address starting https://, http://, mailto:, tel: or / (got '{}')",
                l.url
            );
        }
        Ok(())
    }

    /// The accent colour, checked; None for Signpost's own.
    pub fn accent(&self) -> Result<Option<String>> {
        let a = self.accent.trim();
        if a.is_empty() {
            return Ok(None);
        }
        let hex = a
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            anyhow::bail!(
                "branding.accent: '{a}' is not a colour: write it as #rrggbb, e.g. #1d4f91"
            );
        };
        let ratio = contrast_with_white(hex);
        anyhow::ensure!(
            ratio >= 4.5,
            "branding.accent: white text on {a} has a contrast of {ratio:.2} to 1, and needs at least 4.5 to 1 to be read easily; choose a darker colour"
        );
        Ok(Some(a.to_ascii_lowercase()))
    }
}

/// WCAG's contrast ratio of white against a colour given as six hex digits.
fn contrast_with_white(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    1.05 / (l + 0.05)
}

/// Settings a council of several sets for itself and never takes from the
/// top of signpost.toml.
const COUNCIL_OWN: [&str; 12] = [
    "council",
    "branding",
    "staff",
    "embed",
    "data_dir",
    "kb.dir",
    "import.site",
    "import.allow",
    "import.exclude",
    "import.services",
    "alexa.skill_id",
    "wyoming.addr",
];

/// Settings the whole install shares: a council cannot set them.
const INSTALL_WIDE: [&str; 14] = [
    "councils",
    "shared",
    "models",
    "llm",
    "speech",
    "limits",
    "logging",
    "server.addr",
    "server.max_body_bytes",
    "server.header_timeout_seconds",
    "server.body_timeout_seconds",
    "server.max_connections",
    "server.trust_forwarded_for",
    "server.secure_cookies",
];

fn remove_dotted(t: &mut toml::Table, key: &str) -> Option<toml::Value> {
    match key.split_once('.') {
        None => t.remove(key),
        Some((head, rest)) => match t.get_mut(head) {
            Some(toml::Value::Table(inner)) => remove_dotted(inner, rest),
            _ => None,
        },
    }
}

/// `over` laid over `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// A council's id: lower-case letters, digits and hyphens, as in its path.
pub fn valid_council_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// Importing the council's own website and services directory, and keeping
/// them fresh (`signpost import`, and on a schedule in `serve`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// The adult social care section of the council's website ("" for none).
    pub site: String,
    /// Path prefixes the crawl stays under (default: the site address's path).
    pub allow: Vec<String>,
    /// Path prefixes never imported (and removed if they were).
    pub exclude: Vec<String>,
    /// The Open Referral UK feed, or a JSON file of services ("" for none).
    pub services: String,
    /// Who to contact about the importer, sent in its user agent (an email
    /// address or web page of the council's IT team).
    pub contact: String,
    /// Time of day, in UTC, for the daily run in `serve` ("" for none), "HH:MM".
    pub schedule: String,
    /// A random delay of up to this many minutes after the scheduled time.
    pub jitter_minutes: u64,
    /// Apply additions and changes without waiting for staff (never
    /// removals, never pages flagged for review).
    pub auto_apply: bool,
    pub max_pages: usize,
    /// Least time between two requests to the council's site, in ms.
    pub interval_ms: u64,
    /// Answers from a page not re-checked for this many days say when it
    /// was last checked.
    pub stale_days: i64,
    /// Import from private and loopback addresses (a site on the council's
    /// own network, or a test). Off by default.
    pub allow_private_addresses: bool,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            site: String::new(),
            allow: Vec::new(),
            exclude: Vec::new(),
            services: String::new(),
            contact: String::new(),
            schedule: String::new(),
            jitter_minutes: 30,
            auto_apply: false,
            max_pages: 500,
            interval_ms: 1000,
            stale_days: 14,
            allow_private_addresses: false,
        }
    }
}

/// The local language model and the jobs it may do. Each job is used only
/// where the evaluation set showed it helps (BENCHMARKS.md explains the
/// default); with no model the answers are quoted from the pages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// A model of role "llm" from models/manifest.toml, or "" for none
    /// (`SIGNPOST_LLM_MODEL`).
    pub model: String,
    /// Jobs for the model (`SIGNPOST_LLM_ROLES`, comma-separated); a name
    /// that is not a job is an error when settings load.
    pub roles: Vec<Job>,
    /// CPU threads for the model (0: one per core).
    pub threads: usize,
    /// Most tokens the model may write for one job.
    pub max_tokens: usize,
    /// Time allowed for all model work on one question, in ms; after it the
    /// answer is given without the model.
    pub deadline_ms: u64,
    /// Questions that may wait for the model; beyond this, the answer is
    /// given without the model and the log says the model was busy.
    pub max_waiting: usize,
    /// Passages the reranker judges.
    pub rerank_passages: usize,
    /// Share of a rephrased sentence's words that must be in a cited passage.
    pub min_support: f32,
    /// Re-quantize tensor types with no fast CPU kernel (Q4_1, Q5_0, Q5_1) to Q8_0 once, at first load.
    pub requantize: bool,
    /// An OpenAI-compatible model server (llama.cpp's llama-server, vLLM,
    /// Ollama) such as "http://10.0.0.7:8080" (`SIGNPOST_LLM_SERVER_URL`),
    /// used instead of a model in this process; "" for none. Its API key,
    /// if it needs one, comes from `SIGNPOST_LLM_SERVER_API_KEY`.
    pub server_url: String,
    /// The model name to ask the server for ("" lets it choose).
    pub server_model: String,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            model: String::new(),
            roles: Vec::new(),
            threads: 0,
            max_tokens: 120,
            deadline_ms: 4000,
            max_waiting: 4,
            rerank_passages: 4,
            min_support: 0.8,
            requantize: true,
            server_url: String::new(),
            server_model: String::new(),
        }
    }
}

/// A job the language model can do. Every job runs greedy (the same output
/// for the same input), so answers can be checked and reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    /// A follow-up rewritten as a stand-alone question.
    Rewrite,
    /// Passages reordered by the model's yes/no judgement of relevance.
    Rerank,
    /// The quoted answer in warmer words, every sentence checked.
    Rephrase,
}

impl Job {
    pub const ALL: [Job; 3] = [Job::Rewrite, Job::Rerank, Job::Rephrase];

    pub fn name(self) -> &'static str {
        match self {
            Job::Rewrite => "rewrite",
            Job::Rerank => "rerank",
            Job::Rephrase => "rephrase",
        }
    }
}

impl std::str::FromStr for Job {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Job, String> {
        Job::ALL
            .into_iter()
            .find(|j| j.name() == s.trim())
            .ok_or_else(|| {
                format!(
                    "llm.roles: '{}' is not a job the model can do; use rewrite, rerank or rephrase",
                    s.trim()
                )
            })
    }
}

impl LlmSettings {
    /// Whether a model (in this process, or on a server) is configured.
    pub fn configured(&self) -> bool {
        !self.model.is_empty() || !self.server_url.trim().is_empty()
    }

    pub fn has(&self, job: Job) -> bool {
        self.configured() && self.roles.contains(&job)
    }
}

/// Speech to text (whisper.cpp through whisper-rs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeechSettings {
    /// A speech model from models/manifest.toml, converted with
    /// `signpost models convert-whisper`; empty turns speech input off.
    pub model: String,
    /// Or a standard whisper.cpp ggml `.bin` file the council downloaded itself.
    pub ggml_path: Option<PathBuf>,
    /// CPU threads for one transcription.
    pub threads: u32,
    /// Largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Longest recording accepted, in seconds.
    pub max_seconds: f32,
    /// Below this loudness (RMS, 0 to 1) a recording is treated as silence.
    pub silence_rms: f32,
    /// Words the recogniser should expect.
    pub prompt: String,
    /// Shrink Whisper's 30-second window to the recording's length (faster
    /// for short questions; see BENCHMARKS.md for the effect on accuracy).
    pub fit_window: bool,
    /// A transcription still running after this many milliseconds is
    /// stopped, and the person asked to try again or type.
    pub deadline_ms: u64,
}

impl Default for SpeechSettings {
    fn default() -> Self {
        Self {
            // Chosen by measurement: see "Speech input" in BENCHMARKS.md.
            model: "whisper-base".into(),
            ggml_path: None,
            threads: 2,
            max_upload_bytes: 10 * 1024 * 1024,
            max_seconds: 30.0,
            silence_rms: 0.003,
            fit_window: false,
            deadline_ms: 30_000,
            prompt: String::new(),
        }
    }
}

/// The Alexa custom skill endpoint (`POST /alexa`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlexaSettings {
    /// The skill's id from the Alexa developer console (`SIGNPOST_ALEXA_SKILL_ID`).
    /// The endpoint is off while it is empty.
    pub skill_id: String,
    /// Requests whose timestamp is further than this from now are refused.
    pub timestamp_tolerance_seconds: u64,
    /// The reply must be ready within this; past it, a short holding answer is given.
    pub reply_deadline_ms: u64,
    /// Questions one Alexa user may ask per minute (0 turns the limit off).
    pub rate_limit_per_minute: u32,
    /// Fetching Amazon's signing certificate chain: time limit and size cap.
    pub cert_fetch_timeout_ms: u64,
    pub cert_max_bytes: usize,
    /// FOR TESTS ONLY: trust this PEM root instead of the real roots, and use
    /// this PEM chain instead of fetching the certificate URL.
    pub testing_trust_root: Option<PathBuf>,
    pub testing_cert_chain: Option<PathBuf>,
}

impl Default for AlexaSettings {
    fn default() -> Self {
        Self {
            skill_id: String::new(),
            timestamp_tolerance_seconds: 150,
            reply_deadline_ms: 6000,
            rate_limit_per_minute: 20,
            cert_fetch_timeout_ms: 3000,
            cert_max_bytes: 64 * 1024,
            testing_trust_root: None,
            testing_cert_chain: None,
        }
    }
}

/// The Wyoming "handle" server for Home Assistant voice satellites.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WyomingSettings {
    /// Where to listen (`serve --wyoming-addr`); empty for off.
    pub addr: String,
    /// Languages offered to Home Assistant.
    pub languages: Vec<String>,
    /// Questions per minute from one address (a Home Assistant server may
    /// speak for several satellites; 0 turns the limit off).
    pub rate_limit_per_minute: u32,
}

impl Default for WyomingSettings {
    fn default() -> Self {
        Self {
            addr: String::new(),
            languages: vec!["en".into()],
            rate_limit_per_minute: 60,
        }
    }
}

/// What is kept, and for how long.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// Keep a record of conversations (redacted) for service improvement.
    /// Off by default.
    pub store_conversations: bool,
    /// Stored conversations are deleted after this many days.
    pub retention_days: u32,
    /// Call-back requests (name and contact details) are deleted after this many days.
    pub callback_retention_days: u32,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        Self {
            store_conversations: false,
            retention_days: 30,
            callback_retention_days: 30,
        }
    }
}

/// Semantic triage: how close a message must be to the labelled examples
/// (cosine similarity, 0 to 1). Chosen on the development evaluation sets
/// for about 3% false alarms; see BENCHMARKS.md. Lower values catch more
/// emergencies and raise more false alarms.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriageSettings {
    /// Use the example bank when the embedding model is installed.
    pub semantic: bool,
    /// Escalate when the nearest emergency example is at least this similar...
    pub escalate_similarity: f32,
    /// ...and at least this much more similar than the nearest ordinary question.
    pub escalate_lead: f32,
    /// When the patterns decline a message (a dosing question, a poem), an
    /// emergency example must be at least this similar to overrule them.
    pub escalate_over_decline: f32,
    /// A crisis, fall or medical emergency found by meaning alone and less
    /// similar than this is unsure (the answer, with the urgent line first)
    /// when the message asks for information, says nothing is happening
    /// now and has no word of self-harm, despair, injury or illness. 0:
    /// these are never unsure.
    pub unsure_below: f32,
    /// Decline when the nearest decline example is at least this similar...
    pub decline_similarity: f32,
    /// ...and at least this much more similar than the nearest ordinary question.
    pub decline_lead: f32,
    /// Asked of the council's pages after the crisis lines when someone
    /// caring for another says they cannot go on, so the urgent reply also
    /// offers a carer's assessment, a break and carers' support. Empty: the
    /// urgent reply alone.
    pub carer_support_question: String,
    /// An urgent reply also links the page that covers what the message is
    /// about (a doorstep caller, a fall), when the pages cover it well
    /// enough to answer, beside the urgent kind's own page.
    pub related_page: bool,
}

impl Default for TriageSettings {
    fn default() -> Self {
        Self {
            semantic: true,
            escalate_similarity: 0.48,
            escalate_lead: 0.08,
            escalate_over_decline: 0.65,
            unsure_below: 0.70,
            decline_similarity: 0.80,
            decline_lead: 0.10,
            carer_support_question:
                "What support is there for carers, such as a carer's assessment and a break from caring?"
                    .into(),
            related_page: true,
        }
    }
}

/// Which installed models Signpost uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSettings {
    /// The model cache (`SIGNPOST_MODELS_DIR`; default ~/.cache/signpost/models).
    pub dir: Option<PathBuf>,
    /// Files made from the models and kept between runs: re-quantized
    /// language models, converted speech models, embedded examples and
    /// passages (`SIGNPOST_DERIVED_DIR`; default `derived` in the model
    /// cache). Safe to delete: each is made again when next needed.
    pub derived: Option<PathBuf>,
    /// The sentence-embedding model from models/manifest.toml.
    pub embedding: String,
}

impl ModelSettings {
    /// The model cache folder: the setting, else the default.
    pub fn cache(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(crate::models::cache_dir)
    }

    /// The folder for derived files: the setting, else the default.
    pub fn derived(&self) -> PathBuf {
        self.derived
            .clone()
            .unwrap_or_else(|| crate::derived::default_dir(&self.cache()))
    }
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            dir: None,
            derived: None,
            embedding: "minilm".into(),
        }
    }
}

/// Staff pages (`/staff/...`). They are off until an admin token is set.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StaffSettings {
    /// The token staff enter to see staff pages (`SIGNPOST_ADMIN_TOKEN`).
    /// Use a long random value; staff pages are off while it is empty.
    pub admin_token: String,
}

/// The council: its name, contacts and the pages urgent replies cite. They
/// come from `council.toml` in the knowledge base, and any field set in
/// signpost.toml's `[council]` overrides it. Nothing about a council is in
/// the code, so there are no defaults: a field left empty is reported.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Council {
    pub name: String,
    /// The area the council covers, as residents say it ("Northbay").
    pub area: String,
    /// The council's main website, for its other services.
    pub website: String,
    /// Where the adult social care pages are.
    pub care_pages: String,
    /// Name of the adult social care front door.
    pub front_door_name: String,
    pub phone: String,
    pub hours: String,
    pub out_of_hours_phone: String,
    /// How urgent replies name the safeguarding team ("Northbay safeguarding").
    pub safeguarding_name: String,
    pub safeguarding_phone: String,
    /// Welfare rights and money advice, given when someone asks about benefits
    /// or how to avoid charges.
    pub welfare_rights_phone: String,
    pub email: String,
    /// How text relay users reach the council.
    pub text_relay: String,
    /// What the council promises after a call-back request.
    pub callback_promise: String,
    /// Words that help speech recognition hear the council's own names
    /// (services, places); see `speech.prompt`.
    pub speech_prompt: String,
    /// The page each kind of urgent reply cites, by kind ("abuse", "fall", ...).
    pub urgent_pages: std::collections::BTreeMap<String, String>,
    /// The council's own words, where it wants them ("" for Signpost's):
    /// the line under the chat page's heading,
    pub greeting: String,
    /// what is said to a question that is not about adult social care,
    pub refusal: String,
    /// and how every refusal and "I don't know" offers a person.
    pub handover: String,
}

impl Council {
    /// The fields replies cannot do without, if any are empty.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("name", &self.name),
            ("front_door_name", &self.front_door_name),
            ("phone", &self.phone),
            ("hours", &self.hours),
            ("out_of_hours_phone", &self.out_of_hours_phone),
            ("safeguarding_name", &self.safeguarding_name),
            ("safeguarding_phone", &self.safeguarding_phone),
            ("welfare_rights_phone", &self.welfare_rights_phone),
            ("email", &self.email),
            ("website", &self.website),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect()
    }

    /// The front door to call: "Northbay Care Connect on 01632 960100".
    pub fn front_door(&self) -> String {
        format!("{} on {}", self.front_door_name, self.phone)
    }

    /// The front door with its hours: "... on 01632 960100 (Monday to Friday, ...)".
    pub fn front_door_hours(&self) -> String {
        format!("{} ({})", self.front_door(), self.hours)
    }

    /// "adult social care in Northbay", or "adult social care" with no area.
    pub fn service_area(&self) -> String {
        if self.area.trim().is_empty() {
            "adult social care".into()
        } else {
            format!("adult social care in {}", self.area.trim())
        }
    }

    /// How a refusal offers a person: the council's own words, or "To
    /// talk to a person, call ... or email ...".
    pub fn handover(&self) -> String {
        if self.handover.trim().is_empty() {
            format!(
                "To talk to a person, call {} or email {}.",
                self.front_door_hours(),
                self.email
            )
        } else {
            self.handover.trim().to_string()
        }
    }

    /// This council with every empty field taken from `base`.
    fn over(self, base: Council) -> Council {
        let pick = |a: String, b: String| if a.trim().is_empty() { b } else { a };
        let mut urgent_pages = base.urgent_pages;
        urgent_pages.extend(self.urgent_pages);
        Council {
            name: pick(self.name, base.name),
            area: pick(self.area, base.area),
            website: pick(self.website, base.website),
            care_pages: pick(self.care_pages, base.care_pages),
            front_door_name: pick(self.front_door_name, base.front_door_name),
            phone: pick(self.phone, base.phone),
            hours: pick(self.hours, base.hours),
            out_of_hours_phone: pick(self.out_of_hours_phone, base.out_of_hours_phone),
            safeguarding_name: pick(self.safeguarding_name, base.safeguarding_name),
            safeguarding_phone: pick(self.safeguarding_phone, base.safeguarding_phone),
            welfare_rights_phone: pick(self.welfare_rights_phone, base.welfare_rights_phone),
            email: pick(self.email, base.email),
            text_relay: pick(self.text_relay, base.text_relay),
            callback_promise: pick(self.callback_promise, base.callback_promise),
            speech_prompt: pick(self.speech_prompt, base.speech_prompt),
            greeting: pick(self.greeting, base.greeting),
            refusal: pick(self.refusal, base.refusal),
            handover: pick(self.handover, base.handover),
            urgent_pages,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KbSettings {
    /// The knowledge-base folder (`SIGNPOST_KB_DIR`).
    pub dir: PathBuf,
    /// Flesch-Kincaid grade above which `kb check` warns about a page.
    pub max_reading_grade: f64,
    /// A `last_reviewed` date older than this many days is a warning.
    pub review_warn_days: i64,
    /// How often `serve` looks for changed files in the knowledge base and,
    /// when there are any, loads them without a restart (0: never).
    pub reload_check_seconds: u64,
}

impl Default for KbSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("knowledge-base"),
            max_reading_grade: 8.0,
            review_warn_days: 365,
            reload_check_seconds: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSettings {
    /// How many passages retrieval hands to answer composition.
    pub top_k: usize,
    /// Below this share of the question's key words found in the best passage,
    /// Signpost says it doesn't know instead of guessing.
    pub min_coverage: f32,
    /// A question below `min_coverage` is still answered when a sentence in
    /// the best three passages is at least this close to it in meaning
    /// (cosine of the sentence embeddings); 0 turns this off.
    pub min_closeness: f32,
    /// Minimum BM25 score of the best passage.
    pub min_score: f32,
    pub title_boost: f32,
    pub heading_boost: f32,
    /// Also rank passages by embedding similarity and fuse the two rankings
    /// (reciprocal rank fusion); needs the embedding model. See BENCHMARKS.md.
    pub hybrid: bool,
    /// Reciprocal rank fusion's constant: 1 / (rrf_k + rank).
    pub rrf_k: f32,
    /// How many passages the embedding ranking contributes.
    pub dense_k: usize,
    /// Weight of the words the synonyms add to a search (the pages' words
    /// for the resident's), beside the resident's own words at 1.
    pub synonym_weight: f32,
    /// For a question that asks what something costs ("how much", "the
    /// charge"), a passage that gives a figure in pounds scores this much
    /// more (0.4: 40% more), so a fee table's row is found beside the pages
    /// that talk about the service. 0 turns it off.
    pub figure_weight: f32,
}

impl SearchSettings {
    /// The settings a wrong value would quietly spoil, checked.
    pub fn check(&self) -> Result<()> {
        let w = self.synonym_weight;
        anyhow::ensure!(
            w.is_finite() && (0.0..=2.0).contains(&w),
            "search.synonym_weight: {w} is out of range: use a number from 0 (synonyms ignored) to 2; the default is 0.7"
        );
        let f = self.figure_weight;
        anyhow::ensure!(
            f.is_finite() && (0.0..=2.0).contains(&f),
            "search.figure_weight: {f} is out of range: use a number from 0 (off) to 2; the default is 0.4"
        );
        Ok(())
    }
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            top_k: 8,
            min_coverage: 0.25,
            min_closeness: 0.5,
            min_score: 2.0,
            title_boost: 2.5,
            heading_boost: 1.5,
            hybrid: false,
            rrf_k: 60.0,
            dense_k: 20,
            synonym_weight: 0.7,
            figure_weight: 0.4,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerSettings {
    /// Longest answer, in words, before the standard note.
    pub max_words: usize,
    pub max_sources: usize,
    /// Longest speakable answer for voice channels, in words.
    pub voice_max_words: usize,
    /// How much a sentence's closeness in meaning to the question counts
    /// when choosing what to quote, beside the question's words (0: words
    /// alone). Needs the embedding model; see BENCHMARKS.md.
    pub meaning_weight: f32,
    /// An answer that gives no number to call ends with the next step: the
    /// answering page's nearest sentence that does, if it has at most this
    /// many words. It may take the answer past `max_words`. 0: never added.
    pub next_step_words: usize,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        Self {
            max_words: 80,
            max_sources: 3,
            voice_max_words: 90,
            // Chosen on the development sets: see "Choosing sentences by
            // meaning" in BENCHMARKS.md.
            meaning_weight: 24.0,
            // See "The next step" in BENCHMARKS.md.
            next_step_words: 40,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub addr: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest message accepted, in characters.
    pub max_message_chars: usize,
    /// Conversations kept in memory for follow-up questions.
    pub max_conversations: usize,
    /// A conversation is forgotten after this many minutes without a message.
    pub conversation_ttl_minutes: u64,
    /// Messages and forms one client may send per minute (0 turns the limit off).
    pub rate_limit_per_minute: u32,
    /// Take the client's address from X-Forwarded-For (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Mark cookies Secure (turn on when the site is served over HTTPS).
    pub secure_cookies: bool,
    /// A client must send a request's headers within this many seconds, or
    /// the connection is closed (so slow clients cannot pile up).
    pub header_timeout_seconds: u64,
    /// A request's body must arrive within this many seconds.
    pub body_timeout_seconds: u64,
    /// Connections open at once; past this, new ones are closed at once.
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            max_body_bytes: 64 * 1024,
            max_message_chars: 2000,
            max_conversations: 10_000,
            conversation_ttl_minutes: 30,
            rate_limit_per_minute: 20,
            trust_forwarded_for: false,
            secure_cookies: false,
            header_timeout_seconds: 10,
            body_timeout_seconds: 20,
            max_connections: 1024,
        }
    }
}

/// How much work runs at once, and how much may wait, before people are
/// told the service is busy (503 with Retry-After, and the council's phone
/// number) instead of waiting without end. The language model's own queue
/// is `llm.max_waiting`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    /// Answers worked on at once (0: one per processor core).
    pub answers_at_once: usize,
    /// Answers that may wait for a turn (0: none wait).
    pub answers_waiting: usize,
    /// Longest wait for a turn, in milliseconds.
    pub wait_ms: u64,
    /// Recordings transcribed at once.
    pub speech_at_once: usize,
    /// Recordings that may wait for a turn.
    pub speech_waiting: usize,
    /// What Retry-After says when busy, in seconds.
    pub busy_retry_after_seconds: u64,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            answers_at_once: 0,
            answers_waiting: 32,
            wait_ms: 5_000,
            speech_at_once: 1,
            speech_waiting: 2,
            busy_retry_after_seconds: 10,
        }
    }
}

impl LimitsSettings {
    /// Answers at once, with 0 read as one per core.
    pub fn answers(&self) -> usize {
        if self.answers_at_once > 0 {
            self.answers_at_once
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingSettings {
    /// Log what residents type. Off by default: only lengths and routes are logged.
    pub log_message_text: bool,
    /// Write logs as JSON lines instead of human-readable text.
    pub json: bool,
}

impl Config {
    /// Each council of several, in id order, with its whole settings: the
    /// top of signpost.toml, then the council's own table over it. Its data
    /// folder is `<data_dir>/councils/<id>` unless it sets one. Empty when
    /// the install serves one council.
    pub fn councils(&self) -> Result<Vec<Config>> {
        let mut out = Vec::new();
        let mut addrs = std::collections::HashMap::new();
        let mut hosts_seen = std::collections::HashMap::new();
        let mut data_dirs = std::collections::HashMap::new();
        for id in self.councils.keys() {
            let c = self.for_council(id)?;
            if let Some(other) = data_dirs.insert(c.data_dir.clone(), id.clone()) {
                anyhow::bail!(
                    "councils.{id}.data_dir: {} is already council '{other}'s; each council keeps its index and records in its own folder",
                    c.data_dir.display()
                );
            }
            // (Port 0, a free port chosen at start, is never shared.)
            if !c.wyoming.addr.is_empty() && !c.wyoming.addr.ends_with(":0") {
                if let Some(other) = addrs.insert(c.wyoming.addr.clone(), id.clone()) {
                    anyhow::bail!(
                        "councils.{id}.wyoming.addr: {} is already council '{other}'s; give each council its own port",
                        c.wyoming.addr
                    );
                }
            }
            for h in &c.hosts {
                if let Some(other) = hosts_seen.insert(h.clone(), id.clone()) {
                    anyhow::bail!(
                        "councils.{id}.hosts: '{h}' is already council '{other}'s; a host name reaches one council"
                    );
                }
            }
            out.push(c);
        }
        Ok(out)
    }

    /// Where this council's pages and APIs are: "" for an install with one
    /// council, "/c/<id>" for one of several.
    pub fn base_path(&self) -> String {
        if self.council_id.is_empty() {
            String::new()
        } else {
            format!("/c/{}", self.council_id)
        }
    }

    /// One council's whole settings (see [`Config::councils`]).
    pub fn for_council(&self, id: &str) -> Result<Config> {
        let Some(own) = self.councils.get(id) else {
            let known: Vec<&str> = self.councils.keys().map(String::as_str).collect();
            anyhow::bail!(
                "there is no council '{id}' in the settings (known: {})",
                if known.is_empty() {
                    "none: add [councils.<id>] to signpost.toml".to_string()
                } else {
                    known.join(", ")
                }
            );
        };
        anyhow::ensure!(
            valid_council_id(id),
            "councils.{id}: a council's id is lower-case letters, digits and hyphens (it is part of its address, /c/{id}/)"
        );
        let mut own = own.clone();
        for key in INSTALL_WIDE {
            if remove_dotted(&mut own, key).is_some() {
                anyhow::bail!(
                    "councils.{id}.{key}: this setting is shared by every council; set it once at the top of signpost.toml"
                );
            }
        }
        let hosts = match own.remove("hosts") {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a
                .into_iter()
                .map(|h| match h {
                    toml::Value::String(h) if !h.trim().is_empty() => {
                        Ok(h.trim().to_ascii_lowercase())
                    }
                    _ => Err(anyhow::anyhow!(
                        "councils.{id}.hosts: write host names as strings, e.g. [\"care.example.gov.uk\"]"
                    )),
                })
                .collect::<Result<_>>()?,
            Some(_) => anyhow::bail!(
                "councils.{id}.hosts: write host names as a list, e.g. [\"care.example.gov.uk\"]"
            ),
        };
        let mut base = toml::Table::try_from(self).context("settings")?;
        for key in COUNCIL_OWN {
            remove_dotted(&mut base, key);
        }
        base.remove("councils");
        let set_data_dir = own.contains_key("data_dir");
        // Without its own folder a council would silently answer from
        // the default knowledge base, which is another council's.
        anyhow::ensure!(
            own.get("kb").and_then(|k| k.get("dir")).is_some(),
            "councils.{id}: set kb.dir, the council's knowledge-base folder"
        );
        merge(&mut base, own);
        let mut c: Config = base.try_into().map_err(|e| {
            anyhow::anyhow!(
                "councils.{id}: {e}\nFix this setting, or delete it to use the default."
            )
        })?;
        anyhow::ensure!(
            !c.kb.dir.as_os_str().is_empty(),
            "councils.{id}: kb.dir is empty; set the council's knowledge-base folder"
        );
        if !set_data_dir {
            c.data_dir = self.data_dir.join("councils").join(id);
        }
        c.embed.check().with_context(|| format!("councils.{id}"))?;
        c.branding
            .accent()
            .with_context(|| format!("councils.{id}"))?;
        c.council_id = id.to_string();
        c.hosts = hosts;
        Ok(c)
    }

    /// Loads settings: the given file, else `SIGNPOST_CONFIG`, else
    /// `./signpost.toml` if it exists, else defaults; then environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let env_path = std::env::var_os("SIGNPOST_CONFIG").map(PathBuf::from);
        let chosen = path.map(Path::to_path_buf).or(env_path);
        let mut config = match chosen {
            Some(p) => Self::from_file(&p)?,
            None if Path::new("signpost.toml").exists() => {
                Self::from_file(Path::new("signpost.toml"))?
            }
            None => Config::default(),
        };
        config.apply_env()?;
        Ok(config)
    }

    /// Fills the council from `council.toml` in the knowledge base, under
    /// anything signpost.toml's `[council]` set. Call after the knowledge-base
    /// folder is final; [`crate::pipeline::Engine::new`] does.
    pub fn resolve_council(&mut self) -> Result<()> {
        let path = self.kb.dir.join("council.toml");
        if !path.exists() {
            return Ok(());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let base: Council = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}\nFix this line of the council's details.",
                path.display()
            )
        })?;
        self.council = std::mem::take(&mut self.council).over(base);
        Ok(())
    }

    fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the settings file {}: check the path, or leave it out to use the defaults",
                path.display()
            )
        })?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}\nFix this setting, or delete it to use the default.",
                path.display(),
                e
            )
        })
    }

    fn apply_env(&mut self) -> Result<()> {
        if let Some(v) = env_nonempty("SIGNPOST_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env_nonempty("SIGNPOST_KB_DIR") {
            self.kb.dir = PathBuf::from(v);
        }
        if let Some(v) = env_nonempty("SIGNPOST_ADDR") {
            self.server.addr = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_SEARCH_HYBRID") {
            self.search.hybrid = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env_nonempty("SIGNPOST_SPEECH_FIT_WINDOW") {
            self.speech.fit_window = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Ok(v) = std::env::var("SIGNPOST_LLM_MODEL") {
            self.llm.model = v.trim().to_string();
        }
        if let Ok(v) = std::env::var("SIGNPOST_LLM_ROLES") {
            self.llm.roles = v
                .split(',')
                .filter(|r| !r.trim().is_empty())
                .map(str::parse)
                .collect::<std::result::Result<_, String>>()
                .map_err(|e| anyhow::anyhow!("SIGNPOST_LLM_ROLES: {e}"))?;
        }
        if let Some(v) = env_nonempty("SIGNPOST_ALEXA_SKILL_ID") {
            self.alexa.skill_id = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_REDIS_URL") {
            self.shared.redis_url = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_LLM_SERVER_URL") {
            self.llm.server_url = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_POSTGRES_URL") {
            self.shared.postgres_url = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_ADMIN_TOKEN") {
            self.staff.admin_token = v;
        }
        if let Some(v) = env_nonempty("SIGNPOST_STORE_CONVERSATIONS") {
            self.privacy.store_conversations = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env_nonempty("SIGNPOST_LOG_MESSAGE_TEXT") {
            self.logging.log_message_text = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env_nonempty("SIGNPOST_LOG_JSON") {
            self.logging.json = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if self.data_dir.as_os_str().is_empty() {
            self.data_dir = PathBuf::from("data");
        }
        Ok(())
    }
}

/// The built-in knowledge base's council, for unit tests that need one.
#[cfg(test)]
pub(crate) fn test_council() -> Council {
    let mut c = Config::default();
    c.kb.dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge-base");
    c.resolve_council().unwrap();
    c.council
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_and_no_council() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c.answer.max_words, 80);
        assert!(c.council.missing().contains(&"phone"));
    }

    #[test]
    fn the_council_comes_from_the_knowledge_base_under_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("council.toml"),
            "name = \"Testshire Council\"\nphone = \"0113 496 0000\"\nout_of_hours_phone = \"0113 496 0999\"\n[urgent_pages]\nfall = \"falls\"\n",
        )
        .unwrap();
        let mut c: Config = toml::from_str("[council]\nphone = \"0113 496 0555\"\n").unwrap();
        c.kb.dir = dir.path().to_path_buf();
        c.resolve_council().unwrap();
        assert_eq!(c.council.phone, "0113 496 0555", "the settings file wins");
        assert_eq!(c.council.out_of_hours_phone, "0113 496 0999");
        assert_eq!(c.council.name, "Testshire Council");
        assert_eq!(c.council.urgent_pages["fall"], "falls");
        assert_eq!(c.council.service_area(), "adult social care");
        std::fs::write(dir.path().join("council.toml"), "nmae = \"x\"\n").unwrap();
        let err = c.resolve_council().unwrap_err();
        assert!(err.to_string().contains("council.toml"), "{err}");
    }

    #[test]
    fn a_synonym_weight_out_of_range_is_refused_with_what_to_use() {
        assert!(SearchSettings::default().check().is_ok());
        let c: Config = toml::from_str("[search]\nsynonym_weight = 3.5\n").unwrap();
        let err = c.search.check().unwrap_err().to_string();
        assert!(
            err.contains("search.synonym_weight") && err.contains("0.7"),
            "{err}"
        );
        let c: Config = toml::from_str("[search]\nfigure_weight = -1\n").unwrap();
        let err = c.search.check().unwrap_err().to_string();
        assert!(
            err.contains("search.figure_weight") && err.contains("0.4"),
            "{err}"
        );
    }

    #[test]
    fn each_council_is_the_shared_settings_with_its_own_table_over_them() {
        let text = r#"
data_dir = "/srv/signpost"
[council]
phone = "0113 496 0555"
[staff]
admin_token = "install-wide-token-should-not-leak"
[server]
rate_limit_per_minute = 30
[councils.north-bay]
hosts = ["Care.Northbay.example"]
kb.dir = "/srv/content/northbay"
staff.admin_token = "northbay-token"
server.rate_limit_per_minute = 10
[councils.wrenfield]
kb.dir = "/srv/content/wrenfield"
"#;
        let c: Config = toml::from_str(text).unwrap();
        let all = c.councils().unwrap();
        assert_eq!(all.len(), 2);
        let n = &all[0];
        assert_eq!(n.council_id, "north-bay");
        assert_eq!(n.base_path(), "/c/north-bay");
        assert_eq!(n.hosts, ["care.northbay.example"]);
        assert_eq!(n.data_dir, Path::new("/srv/signpost/councils/north-bay"));
        assert_eq!(n.staff.admin_token, "northbay-token");
        assert_eq!(n.server.rate_limit_per_minute, 10);
        let w = &all[1];
        assert_eq!(
            w.server.rate_limit_per_minute, 30,
            "shared settings reach every council"
        );
        assert!(
            w.staff.admin_token.is_empty(),
            "a council never takes the install's staff token"
        );
        assert!(w.council.phone.is_empty(), "nor its contacts");
        assert_eq!(c.base_path(), "");
    }

    #[test]
    fn a_council_cannot_set_what_the_install_shares_or_reuse_a_host() {
        let err = |text: &str| {
            let c: Config = toml::from_str(text).unwrap();
            format!("{:#}", c.councils().unwrap_err())
        };
        let e = err("[councils.a]\nkb.dir = \"x\"\nllm.model = \"qwen\"\n");
        assert!(
            e.contains("councils.a.llm") && e.contains("shared by every council"),
            "{e}"
        );
        let e = err("[councils.a]\nkb.dir = \"x\"\nserver.addr = \"0.0.0.0:80\"\n");
        assert!(e.contains("councils.a.server.addr"), "{e}");
        let e = err("[councils.a]\nkb.dir = \"x\"\nhosts = [\"h\"]\n[councils.b]\nkb.dir = \"y\"\nhosts = [\"h\"]\n");
        assert!(e.contains("'h' is already council 'a'"), "{e}");
        let e = err("[councils.a]\nkb.dir = \"x\"\nwyoming.addr = \"0.0.0.0:10700\"\n[councils.b]\nkb.dir = \"y\"\nwyoming.addr = \"0.0.0.0:10700\"\n");
        assert!(e.contains("own port"), "{e}");
        let e = err("[councils.a]\nkb.dir = \"x\"\ndata_dir = \"/d\"\n[councils.b]\nkb.dir = \"y\"\ndata_dir = \"/d\"\n");
        assert!(e.contains("own folder"), "{e}");
        let e = err("[councils.Bad_Id]\nkb.dir = \"x\"\n");
        assert!(e.contains("lower-case letters"), "{e}");
        let e = err("[councils.a]\nstaff.admin_token = \"t\"\n");
        assert!(e.contains("set kb.dir"), "{e}");
        let e = err("[councils.a]\nkb.dir = \"x\"\nsearch.top_kk = 3\n");
        assert!(e.contains("top_kk"), "{e}");
        let e = err("[councils.a]\nkb.dir = \"x\"\nbranding.accent = \"#ffee00\"\n");
        assert!(e.contains("contrast") && e.contains("4.5"), "{e}");
        let e = err(
            "[councils.a]\nkb.dir = \"x\"\nembed.allowed_sites = [\"https://x.example/page\"]\n",
        );
        assert!(e.contains("no path"), "{e}");
        let c: Config = toml::from_str("[councils.a]\nkb.dir = \"x\"\n").unwrap();
        let e = format!("{:#}", c.for_council("b").unwrap_err());
        assert!(
            e.contains("no council 'b'") && e.contains("known: a"),
            "{e}"
        );
    }

    #[test]
    fn the_accent_colour_must_carry_white_text() {
        let b = |a: &str| {
            BrandingSettings {
                accent: a.into(),
                ..Default::default()
            }
            .accent()
        };
        assert_eq!(b("").unwrap(), None);
        assert_eq!(b("#1D4F91").unwrap().as_deref(), Some("#1d4f91"));
        assert!(b("#0b0c0c").is_ok());
        assert!(b("#767676").is_ok(), "4.54 to 1, just enough");
        assert!(b("#777777").is_err(), "4.48 to 1, not enough");
        assert!(b("blue").is_err());
    }

    #[test]
    fn unknown_setting_is_an_error_naming_it() {
        let err = toml::from_str::<Config>("[council]\nphnoe = \"1\"\n").unwrap_err();
        assert!(err.to_string().contains("phnoe"), "{err}");
    }
}
