//! The conversation service every channel shares, with no transport in it:
//! limits on messages, the staff kill switch, each conversation's recent
//! turns, [`Engine::answer`], rendering for the channel, redacted logging,
//! optional storage, retention, and the per-client rate limit. HTTP, the
//! web page, Home Assistant, Wyoming and Alexa each map a [`Refusal`] to
//! their own reply.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::admission::{Admitted, Gate, Load};
use crate::config::Config;
use crate::pipeline::{Channel, Engine, Question, Role, Route, Source, Turn};
use crate::store::Store;

type Limiter = governor::DefaultKeyedRateLimiter<String>;

/// A per-key limit of `n` a minute, or none for 0.
fn per_minute(n: u32) -> Option<Limiter> {
    std::num::NonZeroU32::new(n)
        .map(|n| governor::RateLimiter::keyed(governor::Quota::per_minute(n)))
}

/// Turns of history kept per conversation (user and assistant together).
const HISTORY_TURNS: usize = 6;
/// Exchanges kept for the no-JavaScript page of one conversation.
const SHOWN_MAX: usize = 20;
const KILL_SWITCH: &str = "kill_switch";

/// Which channel a message came in on: how its reply is rendered, and the
/// name that logs and stored conversations carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelId {
    /// The web page (form or stream) and `/api/chat`.
    Web,
    /// `/api/chat` with the voice channel asked for.
    Voice,
    /// `/api/voice`: a recording transcribed and answered.
    VoiceApi,
    /// Home Assistant's REST conversation API.
    HomeAssistant,
    /// A Wyoming satellite (Home Assistant's voice pipeline over TCP).
    Wyoming,
    /// The Alexa skill.
    Alexa,
}

impl ChannelId {
    pub fn name(self) -> &'static str {
        match self {
            ChannelId::Web => "web",
            ChannelId::Voice => "voice",
            ChannelId::VoiceApi => "voice-api",
            ChannelId::HomeAssistant => "home-assistant",
            ChannelId::Wyoming => "wyoming",
            ChannelId::Alexa => "alexa",
        }
    }

    /// How the reply is rendered: text for the web, speakable for the rest.
    pub fn channel(self) -> Channel {
        match self {
            ChannelId::Web => Channel::Web,
            _ => Channel::Voice,
        }
    }
}

/// Why a message was not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing was asked.
    Empty,
    /// Longer than `server.max_message_chars`.
    TooLong { max_chars: usize },
    /// Staff switched the assistant off: `reply` gives the council's contacts.
    SwitchedOff {
        reply: String,
        conversation_id: String,
    },
    /// Something failed on our side: `reply` says what to do.
    Internal { reply: String },
    /// Too much work waiting (admission control): `reply` says to try again
    /// shortly or call the council; `retry_after` is in seconds.
    Busy { reply: String, retry_after: u64 },
}

impl Refusal {
    /// What to tell the person.
    pub fn message(&self) -> String {
        match self {
            Refusal::Empty => "Type your question, then send it.".into(),
            Refusal::TooLong { max_chars } => {
                format!("Please keep your question under {max_chars} characters.")
            }
            Refusal::SwitchedOff { reply, .. }
            | Refusal::Internal { reply }
            | Refusal::Busy { reply, .. } => reply.clone(),
        }
    }
}

/// One answered message, as every channel gets it.
#[derive(Debug, Clone)]
pub struct Answered {
    pub route: Route,
    /// The reply rendered for the channel.
    pub text: String,
    pub sources: Vec<Source>,
    pub grounded: bool,
    pub ms: f64,
    pub conversation_id: String,
}

/// One exchange as the web page shows it (the question already redacted).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    pub question: String,
    pub route: Route,
    pub reply: String,
    pub sources: Vec<Source>,
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Conversation {
    turns: Vec<Turn>,
    shown: Vec<Shown>,
}

impl Conversation {
    /// Adds one exchange, keeping only the most recent.
    fn push(&mut self, user: &str, assistant: &str, shown: Shown) {
        self.turns.push(Turn {
            role: Role::User,
            text: user.to_string(),
        });
        self.turns.push(Turn {
            role: Role::Assistant,
            text: assistant.to_string(),
        });
        let excess = self.turns.len().saturating_sub(HISTORY_TURNS);
        self.turns.drain(..excess);
        self.shown.push(shown);
        let excess = self.shown.len().saturating_sub(SHOWN_MAX);
        self.shown.drain(..excess);
    }
}

/// Recent turns per conversation, in memory only, forgotten after the TTL.
struct Conversations {
    map: HashMap<String, (Instant, Conversation)>,
    ttl: Duration,
    max: usize,
}

impl Conversations {
    fn history(&mut self, id: &str) -> Vec<Turn> {
        self.expire();
        self.map
            .get(id)
            .map(|(_, c)| c.turns.clone())
            .unwrap_or_default()
    }

    fn shown(&mut self, id: &str) -> Vec<Shown> {
        self.expire();
        self.map
            .get(id)
            .map(|(_, c)| c.shown.clone())
            .unwrap_or_default()
    }

    fn record(&mut self, id: &str, user: &str, assistant: &str, shown: Shown) {
        if self.map.len() >= self.max && !self.map.contains_key(id) {
            // Full: forget the conversation idle longest.
            if let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
            {
                self.map.remove(&oldest);
            }
        }
        let entry = self
            .map
            .entry(id.to_string())
            .or_insert_with(|| (Instant::now(), Conversation::default()));
        entry.0 = Instant::now();
        entry.1.push(user, assistant, shown);
    }

    fn expire(&mut self) {
        let ttl = self.ttl;
        self.map.retain(|_, (t, _)| t.elapsed() < ttl);
    }
}

/// Sets its flag when dropped: a request future dropped part-way (the
/// person went away) stops the model's work on it.
struct StopWhenDropped(Arc<AtomicBool>);

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The engine with its conversations, store and limits.
pub struct Service {
    /// The engine answering now; swapped whole when the content changes, so
    /// a request in flight finishes on the engine it started with.
    engine: std::sync::RwLock<Arc<Engine>>,
    /// The engine's settings, which a reload never changes, kept here so
    /// they can be borrowed without the lock.
    config: Config,
    /// One reload at a time.
    reloading: Mutex<()>,
    conversations: Mutex<Conversations>,
    store: Store,
    /// Per-client limit on messages and forms (None when switched off).
    limiter: Option<Limiter>,
    /// Per-user limit for Alexa, per-address limit for Wyoming.
    alexa_limiter: Option<Limiter>,
    wyoming_limiter: Option<Limiter>,
    /// Admission control for answers and for speech recognition.
    /// Shared by every council of an install: they share its processors.
    answers: Arc<Gate>,
    speech: Arc<Gate>,
    /// The install's metrics, shared by its councils; `council` is this
    /// council's label in them.
    metrics: Arc<crate::metrics::Metrics>,
    council: String,
    /// State shared with other replicas (`[shared] redis_url`), if any.
    shared: Option<crate::shared::Shared>,
    /// The kill switch as last read from the shared state, for when it
    /// cannot be read (this replica's database may be out of date).
    kill_seen: Mutex<Option<bool>>,
}

impl Service {
    /// Opens the store beside the engine's data.
    pub fn new(engine: Engine) -> anyhow::Result<Arc<Service>> {
        let l = &engine.config().limits;
        let wait = Duration::from_millis(l.wait_ms);
        let answers = Arc::new(Gate::new("answers", l.answers(), l.answers_waiting, wait));
        let speech = Arc::new(Gate::new(
            "speech",
            l.speech_at_once,
            l.speech_waiting,
            wait,
        ));
        Service::with_gates(engine, answers, speech, Arc::default())
    }

    /// Another council's service, sharing this one's admission control: the
    /// limits on work at once are the install's, not each council's.
    pub fn sharing_limits(&self, engine: Engine) -> anyhow::Result<Arc<Service>> {
        Service::with_gates(
            engine,
            self.answers.clone(),
            self.speech.clone(),
            self.metrics.clone(),
        )
    }

    fn with_gates(
        engine: Engine,
        answers: Arc<Gate>,
        speech: Arc<Gate>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> anyhow::Result<Arc<Service>> {
        let sh = &engine.config().shared;
        let store = Store::open_configured(
            &engine.config().data_dir,
            &engine.config().council_id,
            &sh.postgres_url,
            Duration::from_millis(sh.postgres_timeout_ms.max(1)),
        )?;
        if store.backend() == "postgres" {
            tracing::info!(council = %engine.config().council_id, "conversations, call-backs, the audit log and settings are stored in PostgreSQL");
        }
        let s = &engine.config().server;
        let conversations = Conversations {
            map: HashMap::new(),
            ttl: Duration::from_secs(s.conversation_ttl_minutes * 60),
            max: s.max_conversations,
        };
        let limiter = per_minute(s.rate_limit_per_minute);
        let alexa_limiter = per_minute(engine.config().alexa.rate_limit_per_minute);
        let wyoming_limiter = per_minute(engine.config().wyoming.rate_limit_per_minute);
        let council = crate::metrics::Metrics::label(&engine.config().council_id);
        let shared = if sh.redis_url.trim().is_empty() {
            None
        } else {
            let timeout = Duration::from_millis(sh.timeout_ms.max(1));
            let s = crate::shared::Shared::connect(sh.redis_url.trim(), &council, timeout)?;
            tracing::info!(council = %council, "conversations, rate limits and the kill switch are shared through Redis");
            Some(s)
        };
        Ok(Arc::new(Service {
            metrics,
            council,
            shared,
            kill_seen: Mutex::new(None),
            config: engine.config().clone(),
            engine: std::sync::RwLock::new(Arc::new(engine)),
            reloading: Mutex::new(()),
            conversations: Mutex::new(conversations),
            store,
            limiter,
            alexa_limiter,
            wyoming_limiter,
            answers,
            speech,
        }))
    }

    /// The engine answering now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .map(|e| e.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Loads the knowledge base again (pages, rules, index, example bank),
    /// keeping the loaded models, and swaps it in without a restart. The old
    /// engine answers until the new one is ready, and on failure goes on
    /// answering. Returns the new content hash.
    pub fn reload(&self) -> anyhow::Result<String> {
        let _one = self
            .reloading
            .lock()
            .map_err(|_| anyhow::anyhow!("a reload failed part-way"))?;
        let old = self.engine();
        let started = Instant::now();
        let new = old.reload()?;
        let hash = new.kb().content_hash.clone();
        let pages = new.kb().pages.len();
        match self.engine.write() {
            Ok(mut e) => *e = Arc::new(new),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
        }
        tracing::info!(
            pages,
            content_hash = %hash,
            ms = started.elapsed().as_millis() as u64,
            "knowledge base reloaded"
        );
        Ok(hash)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The install's metrics (shared by every council).
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.metrics
    }

    /// This council's label in the metrics.
    pub fn council_label(&self) -> &str {
        &self.council
    }

    /// Whether one more message from `client` (an address, a device) is
    /// within the rate limit. Always true when the limit is off.
    pub fn allow(&self, client: &str) -> bool {
        self.allow_speaker(ChannelId::Web, client)
    }

    /// The same for a home speaker: `client` is an Alexa user id, or a
    /// Wyoming peer's address; each speaker channel has its own limit (any
    /// other channel has the web's).
    pub fn allow_speaker(&self, channel: ChannelId, client: &str) -> bool {
        let limiter = match channel {
            ChannelId::Alexa => &self.alexa_limiter,
            ChannelId::Wyoming => &self.wyoming_limiter,
            _ => &self.limiter,
        };
        let per_minute = match channel {
            ChannelId::Alexa => self.config.alexa.rate_limit_per_minute,
            ChannelId::Wyoming => self.config.wyoming.rate_limit_per_minute,
            _ => self.config.server.rate_limit_per_minute,
        };
        let shared = match (&self.shared, per_minute) {
            (Some(sh), n) if n > 0 => match sh.allow(channel.name(), client, n) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "shared rate limit unreachable; using this server's");
                    None
                }
            },
            _ => None,
        };
        let allowed = shared.unwrap_or_else(|| {
            limiter
                .as_ref()
                .is_none_or(|l| l.check_key(&client.to_string()).is_ok())
        });
        if !allowed {
            self.metrics.refusal(&self.council, "rate-limited");
        }
        allowed
    }

    /// What a speaker says when its limit is reached.
    pub fn over_limit_reply(&self) -> String {
        let c = &self.config().council;
        format!(
            "You have asked a lot of questions in a short time. Please wait a minute and ask again, or call {}.",
            c.front_door_hours()
        )
    }

    /// Whether staff have switched the assistant off.
    pub fn switched_off(&self) -> bool {
        if let Some(sh) = &self.shared {
            let mut seen = self.kill_seen.lock().unwrap_or_else(|p| p.into_inner());
            match sh.kill_switch() {
                Ok(Some(on)) => {
                    *seen = Some(on);
                    return on;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "shared kill switch unreadable; using the last one seen");
                    if let Some(on) = *seen {
                        return on;
                    }
                }
            }
        }
        self.store.setting(KILL_SWITCH).as_deref() == Some("on")
    }

    /// Switches the assistant off or back on (on every replica, when state
    /// is shared).
    pub fn set_switched_off(&self, on: bool) -> anyhow::Result<()> {
        self.store
            .set_setting(KILL_SWITCH, if on { "on" } else { "off" })?;
        if let Some(sh) = &self.shared {
            *self.kill_seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(on);
            sh.set_kill_switch(on)
                .context("the kill switch was saved here but not shared with the other servers")?;
        }
        Ok(())
    }

    /// A conversation's recent exchanges: from the shared state when there
    /// is one (so a follow-up may land on any replica), else this process's.
    fn conversation(&self, id: &str) -> Conversation {
        if let Some(sh) = &self.shared {
            match sh.load::<Conversation>(&format!("conversation:{id}")) {
                Ok(Some(c)) => return c,
                Ok(None) => return Conversation::default(),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "shared conversation unreadable; using this server's memory")
                }
            }
        }
        let mut c = self.conversations.lock().unwrap_or_else(|p| p.into_inner());
        Conversation {
            turns: c.history(id),
            shown: c.shown(id),
        }
    }

    /// Remembers one exchange here, and in the shared state when there is one.
    fn remember(&self, id: &str, user: &str, assistant: &str, shown: Shown) {
        if let Some(sh) = &self.shared {
            let mut c = match sh.load::<Conversation>(&format!("conversation:{id}")) {
                Ok(c) => c.unwrap_or_default(),
                Err(_) => Conversation::default(),
            };
            c.push(user, assistant, shown.clone());
            let ttl = Duration::from_secs(self.config.server.conversation_ttl_minutes.max(1) * 60);
            if let Err(e) = sh.save(&format!("conversation:{id}"), &c, ttl) {
                tracing::warn!(error = %format!("{e:#}"), "conversation not shared; kept on this server");
            }
        }
        if let Ok(mut c) = self.conversations.lock() {
            c.record(id, user, assistant, shown);
        }
    }

    /// What every channel says while the assistant is switched off.
    pub fn switched_off_reply(&self) -> String {
        let c = &self.config().council;
        format!(
            "The online assistant is not available at the moment. Please call {} or email {}. If someone is in danger, call 999. Out of hours, call {}.",
            c.front_door_hours(), c.email, c.out_of_hours_phone
        )
    }

    /// What every channel says when there is too much work waiting.
    pub fn busy(&self) -> Refusal {
        let c = &self.config().council;
        Refusal::Busy {
            reply: format!(
                "Sorry, a lot of people are asking questions right now. Please try again in a minute, or call {}. If someone is in danger, call 999.",
                c.front_door_hours()
            ),
            retry_after: self.config().limits.busy_retry_after_seconds,
        }
    }

    /// A turn for one recording to be transcribed, or the busy refusal.
    pub async fn speech_turn(&self) -> Result<Admitted, Refusal> {
        self.speech.enter().await.map_err(|_| self.busy())
    }

    /// Work running, waiting and refused, for answers and for speech.
    pub fn load(&self) -> (Load, Load) {
        (self.answers.load(), self.speech.load())
    }

    /// The exchanges so far, for the page that shows the whole conversation.
    pub fn shown(&self, conversation_id: &str) -> Vec<Shown> {
        self.conversation(conversation_id).shown
    }

    /// Answers one message: limits, the kill switch, the conversation's
    /// history, [`Engine::answer`], rendering for the channel, redacted
    /// logging and storage. `brief` asks for the shorter web answer (a
    /// resident's setting).
    pub async fn respond(
        self: &Arc<Self>,
        message: String,
        conversation_id: Option<String>,
        channel: ChannelId,
        brief: bool,
    ) -> Result<Answered, Refusal> {
        let result = self
            .respond_inner(message, conversation_id, channel, brief)
            .await;
        if let Err(r) = &result {
            let reason = match r {
                Refusal::Empty => "empty",
                Refusal::TooLong { .. } => "too-long",
                Refusal::SwitchedOff { .. } => "switched-off",
                Refusal::Internal { .. } => "internal",
                Refusal::Busy { .. } => "busy",
            };
            self.metrics.refusal(&self.council, reason);
        }
        result
    }

    async fn respond_inner(
        self: &Arc<Self>,
        message: String,
        conversation_id: Option<String>,
        channel: ChannelId,
        brief: bool,
    ) -> Result<Answered, Refusal> {
        let max_chars = self.config().server.max_message_chars;
        if message.chars().count() > max_chars {
            return Err(Refusal::TooLong { max_chars });
        }
        if message.trim().is_empty() {
            return Err(Refusal::Empty);
        }
        let conversation_id = conversation_id
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= 100
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if self.switched_off() {
            return Err(Refusal::SwitchedOff {
                reply: self.switched_off_reply(),
                conversation_id,
            });
        }
        let history = self.conversation(&conversation_id).turns;
        // If this request is dropped (the person closed the page or hung up),
        // the guard tells the model to stop.
        let cancel = Arc::new(AtomicBool::new(false));
        let _stop_when_gone = StopWhenDropped(cancel.clone());
        let question = Question {
            message,
            history,
            channel: channel.channel(),
            cancel: Some(cancel),
        };
        // Wait for a turn, or hear at once that it is busy. The turn is held
        // by the work itself, so a person who leaves does not free it early.
        let turn = self.answers.enter().await.map_err(|_| self.busy())?;
        let engine = self.engine();
        let result = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let reply = engine.answer(&question);
            (question, reply)
        })
        .await;
        let (question, reply) = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "answering failed");
                let c = &self.config().council;
                return Err(Refusal::Internal {
                    reply: format!(
                        "Something went wrong on our side. Please try again, or call {}.",
                        c.front_door()
                    ),
                });
            }
        };
        let config = self.config();
        let redacted = crate::privacy::redact(&question.message);
        tracing::info!(
            channel = channel.name(),
            route = reply.route.as_str(),
            triage = %reply.stages.triage,
            ms = reply.ms,
            chars = question.message.chars().count(),
            sources = reply.sources.len(),
            personal_data = !reply.stages.personal_data.is_empty(),
            // What the language model did, without any of its text.
            model_ms = reply.stages.model.as_ref().map_or(0.0, |m| m.ms.round()),
            model_busy = reply.stages.model.as_ref().is_some_and(|m| m.notes.iter().any(|n| n.contains("busy"))),
            model_late = reply.stages.model.as_ref().is_some_and(|m| {
                m.answer_from.contains("out of time") || m.notes.iter().any(|n| n.contains("Deadline"))
            }),
            text = if config.logging.log_message_text { redacted.as_str() } else { "[not logged]" },
            "answered"
        );
        let model = match &reply.stages.model {
            None => "none",
            Some(m) if m.notes.iter().any(|n| n.contains("busy")) => "fallback-busy",
            Some(m)
                if m.answer_from.contains("out of time")
                    || m.notes.iter().any(|n| n.contains("Deadline")) =>
            {
                "fallback-late"
            }
            Some(_) => "used",
        };
        self.metrics.answer(
            &self.council,
            channel.name(),
            reply.route.as_str(),
            &reply.stages.triage,
            model,
            reply.ms / 1000.0,
        );
        let rendered = crate::channels::render(&reply, channel.channel(), config);
        let text = if brief && channel.channel() == Channel::Web {
            crate::channels::render_brief(&reply, config)
        } else {
            rendered.clone()
        };
        let shown = Shown {
            question: redacted.clone(),
            route: reply.route,
            reply: text.clone(),
            sources: reply.sources.clone(),
        };
        self.remember(&conversation_id, &redacted, &reply.answer.join(" "), shown);
        if config.privacy.store_conversations {
            if let Err(e) = self.store.record(
                &conversation_id,
                channel.name(),
                reply.route.as_str(),
                &reply.stages.triage,
                &redacted,
                &rendered,
            ) {
                tracing::error!(error = %e, "conversation not stored");
            }
        }
        Ok(Answered {
            route: reply.route,
            text,
            sources: reply.sources,
            grounded: reply.grounded,
            ms: reply.ms,
            conversation_id,
        })
    }

    /// Deletes stored conversations and call-back requests past their
    /// retention periods, and forgets idle rate-limit entries.
    fn sweep(&self) {
        let days = self.config().privacy.retention_days;
        let callback_days = self.config().privacy.callback_retention_days;
        match self.store.delete_older_than(days) {
            Ok(n) if n > 0 => tracing::info!(deleted = n, days, "old conversations deleted"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention clean-up failed"),
        }
        match self.store.delete_callbacks_older_than(callback_days) {
            Ok(n) if n > 0 => {
                tracing::info!(
                    deleted = n,
                    days = callback_days,
                    "old call-back requests deleted"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "call-back clean-up failed"),
        }
        for l in [&self.limiter, &self.alexa_limiter, &self.wyoming_limiter]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
        }
    }

    /// Runs the retention sweep once now, before the server takes requests,
    /// then hourly. Each later sweep runs on a blocking thread: the database
    /// may make it wait for another program, and that wait must not hold up
    /// the threads that serve residents.
    pub fn spawn_retention(self: &Arc<Self>) {
        self.sweep();
        let state = self.clone();
        let span = self.span();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let hour = Duration::from_secs(3600);
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + hour, hour);
                loop {
                    tick.tick().await;
                    let s = state.clone();
                    let _ = tokio::task::spawn_blocking(move || s.sweep()).await;
                }
            },
            span,
        ));
    }

    /// The span a council's background work logs under: it names the
    /// council when the install serves several.
    pub fn span(&self) -> tracing::Span {
        match self.config.council_id.as_str() {
            "" => tracing::Span::none(),
            id => tracing::info_span!("council", council = %id),
        }
    }

    /// Looks at the knowledge-base folder every `kb.reload_check_seconds`
    /// and reloads when any file in it changed: pages staff edited or
    /// approved on the command line, a new rules.toml, withdrawn pages.
    pub fn spawn_kb_watch(self: &Arc<Self>) {
        let secs = self.config().kb.reload_check_seconds;
        if secs == 0 {
            return;
        }
        let state = self.clone();
        let dir = self.config().kb.dir.clone();
        let span = self.span();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let fp = |dir: std::path::PathBuf| async move {
                    tokio::task::spawn_blocking(move || crate::kb::fingerprint(&dir))
                        .await
                        .unwrap_or_default()
                };
                let mut last = fp(dir.clone()).await;
                let mut tick = tokio::time::interval(Duration::from_secs(secs));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let now = fp(dir.clone()).await;
                    if now == last {
                        continue;
                    }
                    last = now;
                    tracing::info!("the knowledge base changed on disk; reloading");
                    state.reload_in_background().await;
                }
            },
            span,
        ));
    }

    /// Reloads off the async threads; a failure is logged and the engine
    /// already answering goes on.
    pub async fn reload_in_background(self: &Arc<Self>) {
        let state = self.clone();
        match tokio::task::spawn_blocking(move || state.reload()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "reload failed; still answering from the content loaded before")
            }
            Err(e) => {
                tracing::error!(error = %e, "reload failed; still answering from the content loaded before")
            }
        }
    }

    /// Runs the configured import every day at `import.schedule` (UTC) plus
    /// a random delay, and at once when the last run never finished; then
    /// reloads. Fails when the schedule is not a time of day.
    pub fn spawn_import_schedule(self: &Arc<Self>) -> anyhow::Result<()> {
        use crate::import::schedule;
        let s = &self.config().import;
        let at = match s.schedule.trim() {
            "" => None,
            t => Some(schedule::parse_time(t)?),
        };
        let configured = !s.site.is_empty() || !s.services.is_empty();
        if at.is_some() && !configured {
            anyhow::bail!("import.schedule is set but there is nothing to import: set import.site or import.services");
        }
        if !configured {
            return Ok(());
        }
        let resume = schedule::interrupted(&crate::import::Place::configured(self.config()));
        if at.is_none() && !resume {
            return Ok(());
        }
        let state = self.clone();
        let jitter_minutes = s.jitter_minutes;
        let span = self.span();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let mut first = true;
                loop {
                    if !(first && resume) {
                        let Some(at) = at else { return };
                        let now = time::OffsetDateTime::now_utc();
                        let next = schedule::next_after(now, at, schedule::jitter(jitter_minutes));
                        tracing::info!(next = %next, "next import");
                        let wait = (next - now).unsigned_abs();
                        tokio::time::sleep(wait).await;
                    } else {
                        tracing::warn!("the last import did not finish; running it again now");
                    }
                    first = false;
                    let worker = state.clone();
                    let result = tokio::task::spawn_blocking(move || {
                        schedule::run_configured(&worker.config)
                    })
                    .await;
                    match result {
                        Ok(Ok(reports)) => {
                            for r in &reports {
                                tracing::info!(summary = %r.line(), "import finished");
                            }
                            state.reload_in_background().await;
                        }
                        Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "import failed"),
                        Err(e) => tracing::error!(error = %e, "import failed"),
                    }
                }
            },
            span,
        ));
        Ok(())
    }
}
