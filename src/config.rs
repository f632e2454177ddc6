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
    pub logging: LoggingSettings,
    pub staff: StaffSettings,
    pub triage: TriageSettings,
    pub models: ModelSettings,
    pub privacy: PrivacySettings,
    pub alexa: AlexaSettings,
    pub wyoming: WyomingSettings,
    pub speech: SpeechSettings,
    pub llm: LlmSettings,
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
    /// Jobs for the model: "rewrite" (follow-ups into stand-alone questions),
    /// "rerank" (yes/no relevance of passages), "rephrase" (the quoted answer
    /// in warmer words, every sentence checked). `SIGNPOST_LLM_ROLES`, comma-separated.
    pub roles: Vec<String>,
    /// CPU threads for the model (0: one per core).
    pub threads: usize,
    /// Most tokens the model may write for one job.
    pub max_tokens: usize,
    /// 0 for greedy (the same answer every time).
    pub temperature: f64,
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
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            model: String::new(),
            roles: Vec::new(),
            threads: 0,
            max_tokens: 120,
            temperature: 0.0,
            deadline_ms: 4000,
            max_waiting: 4,
            rerank_passages: 4,
            min_support: 0.8,
            requantize: true,
        }
    }
}

impl LlmSettings {
    pub fn has(&self, role: &str) -> bool {
        !self.model.is_empty() && self.roles.iter().any(|r| r == role)
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
            prompt: "Adult social care in Northbay: a care needs assessment, reablement, Attendance Allowance, a Blue Badge, an occupational therapist, a carer's assessment, direct payments, telecare and Lifeline alarms.".into(),
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
}

impl Default for WyomingSettings {
    fn default() -> Self {
        Self {
            addr: String::new(),
            languages: vec!["en".into()],
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
    /// Decline when the nearest decline example is at least this similar...
    pub decline_similarity: f32,
    /// ...and at least this much more similar than the nearest ordinary question.
    pub decline_lead: f32,
}

impl Default for TriageSettings {
    fn default() -> Self {
        Self {
            semantic: true,
            escalate_similarity: 0.48,
            escalate_lead: 0.08,
            escalate_over_decline: 0.65,
            decline_similarity: 0.80,
            decline_lead: 0.10,
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

/// The council's contact details, used in urgent replies and hand-overs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Council {
    pub name: String,
    /// Name of the adult social care front door.
    pub front_door_name: String,
    pub phone: String,
    pub hours: String,
    pub out_of_hours_phone: String,
    pub safeguarding_phone: String,
    /// Welfare rights and money advice, given when someone asks how to avoid charges.
    pub welfare_rights_phone: String,
    pub email: String,
    pub website: String,
    /// How text relay users reach the council.
    pub text_relay: String,
    /// What the council promises after a call-back request.
    pub callback_promise: String,
}

impl Default for Council {
    fn default() -> Self {
        Self {
            name: "Northbay Borough Council".into(),
            front_door_name: "Northbay Care Connect".into(),
            phone: "01632 960100".into(),
            hours: "Monday to Friday, 8:30am to 5pm".into(),
            out_of_hours_phone: "01632 960199".into(),
            safeguarding_phone: "01632 960150".into(),
            welfare_rights_phone: "01632 960260".into(),
            email: "adultcare@northbay.example".into(),
            website: "https://www.northbay.example/care".into(),
            text_relay: "Text relay users can dial 18001 then the number.".into(),
            callback_promise: "We aim to contact you within 2 working days.".into(),
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
}

impl Default for KbSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("knowledge-base"),
            max_reading_grade: 8.0,
            review_warn_days: 365,
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
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            top_k: 8,
            min_coverage: 0.25,
            min_score: 2.0,
            title_boost: 2.5,
            heading_boost: 1.5,
            hybrid: false,
            rrf_k: 60.0,
            dense_k: 20,
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
}

impl Default for AnswerSettings {
    fn default() -> Self {
        Self {
            max_words: 80,
            max_sources: 3,
            voice_max_words: 90,
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
        config.apply_env();
        Ok(config)
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

    fn apply_env(&mut self) {
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
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
        }
        if let Some(v) = env_nonempty("SIGNPOST_ALEXA_SKILL_ID") {
            self.alexa.skill_id = v;
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
    }
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c.council.phone, "01632 960100");
        assert_eq!(c.answer.max_words, 80);
    }

    #[test]
    fn partial_section_keeps_other_defaults() {
        let c: Config = toml::from_str("[council]\nphone = \"01632 960555\"\n").unwrap();
        assert_eq!(c.council.phone, "01632 960555");
        assert_eq!(c.council.out_of_hours_phone, "01632 960199");
    }

    #[test]
    fn unknown_setting_is_an_error_naming_it() {
        let err = toml::from_str::<Config>("[council]\nphnoe = \"1\"\n").unwrap_err();
        assert!(err.to_string().contains("phnoe"), "{err}");
    }
}
