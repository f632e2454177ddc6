//! The local language model: a quantized GGUF file run on the CPU with
//! candle. The architecture, tokenizer and chat template all come from the
//! file's own metadata. The model is only ever asked for small, checkable
//! jobs (see `crate::pipeline`); it never decides a rule.
//!
//! Speed on a small CPU server comes from three things here: the key/value
//! state of each fixed system prompt is computed once and reused; tensors of a
//! type candle has no fast CPU kernel for are re-quantized once to Q8_0 and
//! cached; and a bounded queue turns overload into a clear "busy" answer
//! rather than a pile-up.

pub mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor, D};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::{
    quantized_gemma3, quantized_llama, quantized_phi3, quantized_qwen3,
};
use tokenizers::Tokenizer;

pub mod check;
pub mod qwen2;

/// The file name of a language model in its cache folder.
pub const MODEL_FILE: &str = "model.gguf";
pub mod roles;

/// The weights of one of the supported architectures.
#[derive(Clone)]
enum Weights {
    Qwen2(qwen2::Qwen2),
    Qwen3(quantized_qwen3::ModelWeights),
    Llama(quantized_llama::ModelWeights),
    Gemma3(quantized_gemma3::ModelWeights),
    Phi3(quantized_phi3::ModelWeights),
}

impl Weights {
    fn load(arch: &str, ct: gguf_file::Content, file: &mut std::fs::File) -> Result<Weights> {
        let d = &Device::Cpu;
        Ok(match arch {
            "qwen2" => Weights::Qwen2(qwen2::Qwen2::from_gguf(&ct, file, d)?),
            "qwen3" => Weights::Qwen3(quantized_qwen3::ModelWeights::from_gguf(ct, file, d)?),
            "llama" => Weights::Llama(quantized_llama::ModelWeights::from_gguf(ct, file, d)?),
            "gemma3" => Weights::Gemma3(quantized_gemma3::ModelWeights::from_gguf(ct, file, d)?),
            "phi3" => Weights::Phi3(quantized_phi3::ModelWeights::from_gguf(false, ct, file, d)?),
            other => bail!(
                "the model's architecture '{other}' is not supported; use a qwen2, qwen3, llama, gemma3 or phi3 GGUF"
            ),
        })
    }

    /// Logits for the last position, as a flat vector over the vocabulary.
    fn forward(&mut self, ids: &[u32], pos: usize) -> Result<Tensor> {
        let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
        let out = match self {
            Weights::Qwen2(m) => m.forward(&input, pos)?,
            Weights::Qwen3(m) => m.forward(&input, pos)?,
            Weights::Llama(m) => m.forward(&input, pos)?,
            Weights::Gemma3(m) => m.forward(&input, pos)?,
            Weights::Phi3(m) => m.forward(&input, pos)?,
        };
        let vocab = out.dim(D::Minus1)?;
        let flat = out.flatten_all()?;
        let n = flat.dim(0)?;
        Ok(flat.narrow(0, n - vocab, vocab)?.to_dtype(DType::F32)?)
    }

    /// Whether a clone keeps its own key/value cache. The caches of Qwen3 and
    /// Phi-3 are written in place, so a copy would share them; those re-read
    /// their system prompt each time.
    fn snapshots(&self) -> bool {
        !matches!(self, Weights::Qwen3(_) | Weights::Phi3(_))
    }
}

/// How a family lays out a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `<|im_start|>role ... <|im_end|>` (Qwen, SmolLM2).
    ChatMl,
    /// `<|start_header_id|>role<|end_header_id|>` (Llama 3).
    Llama3,
    /// `<start_of_turn>user ... <end_of_turn>` (Gemma; no system role).
    Gemma,
    /// `<|system|> ... <|end|>` (Phi-3).
    Phi3,
}

impl Template {
    /// Picks the template from the file's own chat template, else its family.
    fn detect(arch: &str, chat_template: Option<&str>, vocab: &HashMap<String, u32>) -> Template {
        let t = chat_template.unwrap_or("");
        if t.contains("<|im_start|>") {
            Template::ChatMl
        } else if t.contains("<|start_header_id|>") {
            Template::Llama3
        } else if t.contains("<start_of_turn>") {
            Template::Gemma
        } else if t.contains("<|assistant|>") {
            Template::Phi3
        } else {
            match arch {
                "gemma3" => Template::Gemma,
                "phi3" => Template::Phi3,
                "llama" if vocab.contains_key("<|start_header_id|>") => Template::Llama3,
                _ => Template::ChatMl,
            }
        }
    }

    /// The fixed opening (system instructions), whose state is cached.
    fn system(self, system: &str) -> String {
        match self {
            Template::ChatMl => format!("<|im_start|>system\n{system}<|im_end|>\n"),
            Template::Llama3 => format!(
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
            ),
            Template::Gemma => format!("<start_of_turn>user\n{system}\n\n"),
            Template::Phi3 => format!("<|system|>\n{system}<|end|>\n"),
        }
    }

    /// The user's turn and the opening of the model's reply.
    fn user(self, user: &str) -> String {
        match self {
            Template::ChatMl => {
                format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")
            }
            Template::Llama3 => format!(
                "<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
            ),
            Template::Gemma => format!("{user}<end_of_turn>\n<start_of_turn>model\n"),
            Template::Phi3 => format!("<|user|>\n{user}<|end|>\n<|assistant|>\n"),
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    EndOfTurn,
    TokenCap,
    Deadline,
    Cancelled,
}

/// Limits for one call.
#[derive(Clone, Copy)]
pub struct Limits<'a> {
    pub max_tokens: usize,
    pub deadline: Option<Instant>,
    pub cancel: Option<&'a AtomicBool>,
}

impl Limits<'_> {
    fn stop(&self) -> Option<Stop> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Some(Stop::Cancelled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(Stop::Deadline);
        }
        None
    }
}

/// One generation, with its timings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generated {
    pub text: String,
    pub stop: Stop,
    /// Prompt tokens read for this call (not counting the cached system prompt).
    pub prompt_tokens: usize,
    /// System-prompt tokens whose state came from the cache.
    pub cached_tokens: usize,
    pub new_tokens: usize,
    /// Time from the call to the first new token, in ms.
    pub first_token_ms: f64,
    /// Time writing tokens after the first, in ms.
    pub decode_ms: f64,
}

/// Too many generations are already waiting.
#[derive(Debug)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the language model is busy")
    }
}
impl std::error::Error for Busy {}

/// The model held for one job; leaving the queue when dropped.
struct Turn<'a> {
    _running: std::sync::MutexGuard<'a, ()>,
    in_flight: &'a AtomicUsize,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The language model the request path uses: loaded in this process, or
/// on an OpenAI-compatible server. Every check on its output is the same.
pub enum Model {
    Local(Box<Llm>),
    Server(server::ModelServer),
}

impl Model {
    /// The name shown in stages and logs.
    pub fn name(&self) -> String {
        match self {
            Model::Local(l) => l.name.clone(),
            Model::Server(s) => s.label(),
        }
    }

    /// See [`Llm::generate`].
    pub fn generate(
        &self,
        system: &str,
        user: &str,
        temperature: f64,
        limits: Limits,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generated> {
        match self {
            Model::Local(l) => l.generate(system, user, temperature, limits, on_text),
            Model::Server(s) => s.generate(system, user, temperature, limits, on_text),
        }
    }

    /// See [`Llm::yes_probability`].
    pub fn yes_probability(&self, system: &str, user: &str, limits: Limits) -> Result<f32> {
        match self {
            Model::Local(l) => l.yes_probability(system, user, limits),
            Model::Server(s) => s.yes_probability(system, user, limits),
        }
    }

    /// The model in this process, if that is where it runs.
    pub fn local(&self) -> Option<&Llm> {
        match self {
            Model::Local(l) => Some(l.as_ref()),
            Model::Server(_) => None,
        }
    }

    /// Whether the model can be reached now (always, in this process).
    pub fn reachable(&self) -> bool {
        match self {
            Model::Local(_) => true,
            Model::Server(s) => s.reachable(),
        }
    }
}

/// A loaded model.
pub struct Llm {
    pub name: String,
    pub arch: String,
    pub template: Template,
    /// Tensors re-quantized to Q8_0 at load, by type ("q5_0: 96").
    pub requantized: Vec<String>,
    pub load_ms: f64,
    tokenizer: Tokenizer,
    stops: Vec<u32>,
    base: Weights,
    /// Weights with a system prompt already read, and its length in tokens.
    prefixes: Mutex<HashMap<String, (Weights, usize)>>,
    /// One job runs at a time (the CPU is shared); the rest wait here.
    running: Mutex<()>,
    /// Jobs running or waiting.
    in_flight: AtomicUsize,
    max_waiting: usize,
}

/// Tensor types that candle runs without a fast (SIMD) CPU kernel.
fn slow_type(t: GgmlDType) -> bool {
    matches!(t, GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1)
}

impl Llm {
    /// Loads a GGUF file. With a `requantize_into` folder, tensors of a slow
    /// type are turned into Q8_0 once and the copy kept there as a derived
    /// file (see [`crate::derived`]).
    pub fn load(
        name: &str,
        path: &Path,
        requantize_into: Option<&Path>,
        max_waiting: usize,
    ) -> Result<Llm> {
        let started = Instant::now();
        let (mut file, mut ct) = open_gguf(path)?;
        let mut path = path.to_path_buf();
        let mut requantized = Vec::new();
        if let Some(dir) = requantize_into {
            if let Some((copy, opened, changed)) = requantized_copy(&path, &mut file, &ct, dir)? {
                (file, ct) = opened;
                path = copy;
                requantized = changed;
            }
        }
        let arch = meta_str(&ct, "general.architecture")
            .context("the model file does not say its architecture (general.architecture)")?;
        let tokenizer = tokenizer_for(&ct, &path)?;
        let vocab = tokenizer.get_vocab(true);
        let template = Template::detect(
            &arch,
            meta_str(&ct, "tokenizer.chat_template").as_deref(),
            &vocab,
        );
        let mut stops: Vec<u32> = [
            "<|im_end|>",
            "<|endoftext|>",
            "<|eot_id|>",
            "<end_of_turn>",
            "<|end|>",
            "</s>",
        ]
        .iter()
        .filter_map(|t| vocab.get(*t).copied())
        .collect();
        if let Some(Value::U32(eos)) = ct.metadata.get("tokenizer.ggml.eos_token_id") {
            stops.push(*eos);
        }
        let base = Weights::load(&arch, ct, &mut file)
            .with_context(|| format!("cannot load the model {}", path.display()))?;
        Ok(Llm {
            name: name.to_string(),
            arch,
            template,
            requantized,
            load_ms: started.elapsed().as_secs_f64() * 1000.0,
            tokenizer,
            stops,
            base,
            prefixes: Mutex::new(HashMap::new()),
            running: Mutex::new(()),
            in_flight: AtomicUsize::new(0),
            max_waiting,
        })
    }

    fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>> {
        Ok(self
            .tokenizer
            .encode(text, special)
            .map_err(|e| anyhow::anyhow!("tokenizer: {e}"))?
            .get_ids()
            .to_vec())
    }

    /// Takes a place in the queue and waits for the model, or says it is
    /// busy when `max_waiting` jobs are already waiting.
    fn queue(&self) -> Result<Turn<'_>> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) > self.max_waiting {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy.into());
        }
        Ok(Turn {
            _running: self.running.lock().unwrap_or_else(|e| e.into_inner()),
            in_flight: &self.in_flight,
        })
    }

    /// Weights with the system prompt read, from the cache when possible.
    fn start(&self, system: &str) -> Result<(Weights, usize, bool)> {
        if let Some((w, n)) = self
            .prefixes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(system)
        {
            return Ok((w.clone(), *n, true));
        }
        let ids = self.encode(&self.template.system(system), true)?;
        let mut w = self.base.clone();
        if let Weights::Qwen3(m) = &mut w {
            m.clear_kv_cache();
        }
        w.forward(&ids, 0)?;
        if w.snapshots() {
            self.prefixes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(system.to_string(), (w.clone(), ids.len()));
        }
        Ok((w, ids.len(), false))
    }

    /// Reads a system prompt into the cache ahead of the first question.
    pub fn warm(&self, system: &str) -> Result<()> {
        let _turn = self.queue()?;
        Device::Cpu.with_context(|| self.start(system).map(|_| ()))
    }

    /// Generates the reply to `user` after `system`, greedily when
    /// `temperature` is 0. `on_text` receives the text as it grows.
    pub fn generate(
        &self,
        system: &str,
        user: &str,
        temperature: f64,
        limits: Limits,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generated> {
        let _turn = self.queue()?;
        // Time spent waiting for the model counts against the deadline.
        if let Some(s) = limits.stop() {
            bail!("stopped before starting ({s:?})");
        }
        Device::Cpu.with_context(|| self.generate_inner(system, user, temperature, limits, on_text))
    }

    fn generate_inner(
        &self,
        system: &str,
        user: &str,
        temperature: f64,
        limits: Limits,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generated> {
        let started = Instant::now();
        let (mut w, cached, hit) = self.start(system)?;
        let ids = self.encode(&self.template.user(user), false)?;
        let sampling = if temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            Sampling::TopKThenTopP {
                k: 40,
                p: 0.9,
                temperature,
            }
        };
        let mut lp = LogitsProcessor::from_sampling(299_792_458, sampling);
        let logits = w.forward(&ids, cached)?;
        let mut next = lp.sample(&logits)?;
        let first = started.elapsed();
        let prompt_tokens = ids.len() + if hit { 0 } else { cached };
        let mut out: Vec<u32> = Vec::new();
        let mut shown = 0;
        let mut stop = Stop::TokenCap;
        let decode_start = Instant::now();
        while out.len() < limits.max_tokens {
            if self.stops.contains(&next) {
                stop = Stop::EndOfTurn;
                break;
            }
            out.push(next);
            let text = self.tokenizer.decode(&out, true).unwrap_or_default();
            // Hold back a partial character until it is complete.
            if text.len() > shown && !text.ends_with('\u{FFFD}') {
                on_text(&text[shown..]);
                shown = text.len();
            }
            if let Some(s) = limits.stop() {
                stop = s;
                break;
            }
            if out.len() >= limits.max_tokens {
                break;
            }
            let logits = w.forward(&[next], cached + ids.len() + out.len() - 1)?;
            next = lp.sample(&logits)?;
        }
        Ok(Generated {
            text: self.tokenizer.decode(&out, true).unwrap_or_default(),
            stop,
            prompt_tokens,
            cached_tokens: if hit { cached } else { 0 },
            new_tokens: out.len(),
            first_token_ms: first.as_secs_f64() * 1000.0,
            decode_ms: decode_start.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// For benchmarks: reads `system` and `user` with no cached state (prefill),
    /// then writes exactly `n` tokens greedily, ignoring end-of-turn (decode),
    /// as llama.cpp's bench does. Returns (prompt tokens, prefill ms, decode ms).
    pub fn timing(&self, system: &str, user: &str, n: usize) -> Result<(usize, f64, f64)> {
        let _turn = self.queue()?;
        Device::Cpu.with_context(|| {
            let mut ids = self.encode(&self.template.system(system), true)?;
            ids.extend(self.encode(&self.template.user(user), false)?);
            let mut w = self.base.clone();
            if let Weights::Qwen3(m) = &mut w {
                m.clear_kv_cache();
            }
            let t = Instant::now();
            let logits = w.forward(&ids, 0)?;
            let mut next = logits.argmax(0)?.to_scalar::<u32>()?;
            let prefill = t.elapsed().as_secs_f64() * 1000.0;
            let t = Instant::now();
            for i in 0..n {
                let logits = w.forward(&[next], ids.len() + i)?;
                next = logits.argmax(0)?.to_scalar::<u32>()?;
            }
            Ok((ids.len(), prefill, t.elapsed().as_secs_f64() * 1000.0))
        })
    }

    /// For benchmarks: the time to the first token of `user` with the system
    /// prompt's state taken from the cache, then `n` more tokens written
    /// (ignoring end-of-turn). Returns the first-token time in ms.
    pub fn timing_warm(&self, system: &str, user: &str, n: usize) -> Result<f64> {
        let _turn = self.queue()?;
        Device::Cpu.with_context(|| {
            let t = Instant::now();
            let (mut w, cached, _) = self.start(system)?;
            let ids = self.encode(&self.template.user(user), false)?;
            let mut next = w.forward(&ids, cached)?.argmax(0)?.to_scalar::<u32>()?;
            let first = t.elapsed().as_secs_f64() * 1000.0;
            for i in 0..n {
                next = w
                    .forward(&[next], cached + ids.len() + i)?
                    .argmax(0)?
                    .to_scalar::<u32>()?;
            }
            Ok(first)
        })
    }

    /// The model's probability that the answer to `user` begins "yes" rather
    /// than "no": a judgement read from one forward pass, never free text.
    pub fn yes_probability(&self, system: &str, user: &str, limits: Limits) -> Result<f32> {
        let _turn = self.queue()?;
        if let Some(s) = limits.stop() {
            bail!("stopped before judging ({s:?})");
        }
        Device::Cpu.with_context(|| {
            let (mut w, cached, _) = self.start(system)?;
            let ids = self.encode(&self.template.user(user), false)?;
            let logits = w.forward(&ids, cached)?;
            let probs = candle_nn::ops::softmax_last_dim(&logits.unsqueeze(0)?)?
                .squeeze(0)?
                .to_vec1::<f32>()?;
            let mass = |words: &[&str]| -> f32 {
                let mut ids: Vec<u32> = words
                    .iter()
                    .filter_map(|w| self.encode(w, false).ok()?.first().copied())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids.iter()
                    .map(|&i| probs.get(i as usize).copied().unwrap_or(0.0))
                    .sum()
            };
            let yes = mass(&["yes", "Yes", " yes", " Yes", "YES"]);
            let no = mass(&["no", "No", " no", " No", "NO"]);
            Ok(if yes + no > 0.0 {
                yes / (yes + no)
            } else {
                0.5
            })
        })
    }

    /// Resident memory of this process now and at its peak, in MiB (Linux).
    pub fn memory_mib() -> (f64, f64) {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .unwrap_or(0.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// Opens a GGUF file and reads its header, with errors that say what to do.
fn open_gguf(path: &Path) -> Result<(std::fs::File, gguf_file::Content)> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the model file {}", path.display()))?;
    let ct = gguf_file::Content::read(&mut file).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a readable GGUF model ({e}); run `signpost models verify` and fetch it again",
            path.display()
        )
    })?;
    Ok((file, ct))
}

fn meta_str(ct: &gguf_file::Content, key: &str) -> Option<String> {
    match ct.metadata.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The tokenizer built from the GGUF's own vocabulary (byte-level BPE), or a
/// `tokenizer.json` beside the model for SentencePiece families.
fn tokenizer_for(ct: &gguf_file::Content, path: &Path) -> Result<Tokenizer> {
    use candle_core::quantized::tokenizer::TokenizerFromGguf;
    let beside = path
        .parent()
        .map(|d| d.join("tokenizer.json"))
        .filter(|p| p.exists());
    match Tokenizer::from_gguf(ct) {
        Ok(t) => Ok(t),
        Err(e) => match beside {
            Some(p) => Tokenizer::from_file(&p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display())),
            None => bail!(
                "cannot build a tokenizer from the model file ({e}); put the model's tokenizer.json beside it"
            ),
        },
    }
}

/// Bump when the re-quantized copy's contents change (conversion or metadata),
/// so copies made by older code are not used.
const REQUANTIZED_VERSION: u32 = 2;
/// The metadata key that says what a re-quantized copy was made from.
const MADE_FROM_KEY: &str = "signpost.made_from";

/// Makes (or checks) the re-quantized copy of the model at `path` in `dir`
/// without loading the model. Returns the copy's path and what was changed,
/// or `None` when the model needs no copy.
pub fn prepare_requantized(path: &Path, dir: &Path) -> Result<Option<(PathBuf, Vec<String>)>> {
    let (mut file, ct) = open_gguf(path)?;
    Ok(requantized_copy(path, &mut file, &ct, dir)?.map(|(p, _, changed)| (p, changed)))
}

/// A GGUF file opened and its header read.
type Opened = (std::fs::File, gguf_file::Content);

/// A copy of the model with slow tensor types re-quantized to Q8_0, made once
/// in the `dir` folder of derived files. Returns the copy's path, the copy
/// opened, and what was changed, or `None` when nothing needs changing.
fn requantized_copy(
    path: &Path,
    file: &mut std::fs::File,
    ct: &gguf_file::Content,
    dir: &Path,
) -> Result<Option<(PathBuf, Opened, Vec<String>)>> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for info in ct.tensor_infos.values() {
        if slow_type(info.ggml_dtype) {
            *counts
                .entry(format!("{:?}", info.ggml_dtype).to_lowercase())
                .or_default() += 1;
        }
    }
    if counts.is_empty() {
        return Ok(None);
    }
    let mut changed: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    changed.sort();
    let stem = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "model".into());
    // Named by the source file (size and time) and the code version, so a
    // replaced model or a changed conversion gets a new copy.
    let source = crate::derived::source_stamp(path)?;
    let made_from = format!("{stem} {source} q8_0 v{REQUANTIZED_VERSION}");
    let out = dir.join(format!(
        "{stem}-q8_0-v{REQUANTIZED_VERSION}-{}.gguf",
        crate::derived::key(&[made_from.as_bytes()])
    ));
    let opened = crate::derived::ensure(
        &out,
        "the re-quantized model",
        |p| check_requantized(p, &made_from),
        |w| {
            tracing::info!(model = %path.display(), changed = ?changed, "re-quantizing slow tensor types to q8_0 (once)");
            let mut names: Vec<&String> = ct.tensor_infos.keys().collect();
            names.sort();
            let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
            for name in names {
                let t = ct.tensor(file, name, &Device::Cpu)?;
                let t = if slow_type(t.dtype())
                    && t.shape().dims().last().is_some_and(|k| k % 32 == 0)
                {
                    QTensor::quantize(&t.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
                } else {
                    t
                };
                tensors.push((name.clone(), t));
            }
            // Metadata in a fixed order, so every maker writes the same bytes.
            let stamp = Value::String(made_from.clone());
            let mut metadata: Vec<(&str, &Value)> = ct
                .metadata
                .iter()
                .filter(|(k, _)| k.as_str() != MADE_FROM_KEY)
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            metadata.push((MADE_FROM_KEY, &stamp));
            metadata.sort_by(|a, b| a.0.cmp(b.0));
            let refs: Vec<(&str, &QTensor)> =
                tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
            gguf_file::write(w, &metadata, &refs)?;
            Ok(())
        },
    )?;
    Ok(Some((out, opened, changed)))
}

/// Opens a re-quantized copy and checks it before use: a readable GGUF
/// header, made from this source by this version, and every tensor's bytes
/// inside the file.
fn check_requantized(path: &Path, made_from: &str) -> Result<Opened> {
    let (file, ct) = open_gguf(path)?;
    if meta_str(&ct, MADE_FROM_KEY).as_deref() != Some(made_from) {
        bail!("it was made from another model file or by another version of Signpost");
    }
    let len = file.metadata()?.len();
    for (name, info) in &ct.tensor_infos {
        let dtype = info.ggml_dtype;
        let bytes = (info.shape.elem_count() / dtype.block_size() * dtype.type_size()) as u64;
        let end = ct.tensor_data_offset + info.offset + bytes;
        if end > len {
            bail!("it is cut short: tensor {name} ends at byte {end} of {len}");
        }
    }
    Ok((file, ct))
}

/// A deadline `ms` from now.
pub fn deadline_in(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}
