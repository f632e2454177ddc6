//! `signpost bench speech`: word error rate per voice and real-time factor
//! for each installed speech model, over the spoken question set
//! (`eval/speech/questions.tsv`, spoken by espeak-ng into
//! `tests/fixtures/speech/VOICE/ID.wav`).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{decode, word_errors, Transcriber};
use crate::config::Config;

#[derive(Debug, Serialize)]
pub struct VoiceResult {
    pub voice: String,
    pub clips: usize,
    pub word_errors: usize,
    pub words: usize,
    pub wer: f64,
    /// Processing time over audio duration, median over clips.
    pub rtf_median: f64,
    pub misheard: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub wer: f64,
    pub rtf_median: f64,
    pub load_ms: f64,
    pub voices: Vec<VoiceResult>,
}

use crate::text::median;

/// The questions: (id, text).
pub fn questions(root: &Path) -> Result<Vec<(String, String)>> {
    let path = root.join("eval/speech/questions.tsv");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .collect())
}

/// Runs every clip through `model` (a ggml file) and scores it.
pub fn run_model(name: &str, model: &Path, config: &Config, root: &Path) -> Result<ModelResult> {
    let qs = questions(root)?;
    let start = Instant::now();
    let t = Transcriber::load(model, config)?;
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let fixtures = root.join("tests/fixtures/speech");
    let mut voices: Vec<String> = std::fs::read_dir(&fixtures)
        .with_context(|| format!("cannot read {}", fixtures.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    voices.sort();
    let mut results = Vec::new();
    let mut all_rtf = Vec::new();
    let (mut all_err, mut all_words) = (0, 0);
    let mut progress =
        crate::progress::Progress::new(&format!("speech {name}"), (voices.len() * qs.len()) as u64);
    for v in &voices {
        let (mut errs, mut words, mut rtfs, mut misheard) = (0, 0, Vec::new(), Vec::new());
        for (id, text) in &qs {
            let path = fixtures.join(v).join(format!("{id}.wav"));
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let audio = decode(&bytes, Some("wav"), usize::MAX, 120.0)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let s = Instant::now();
            let tr = t.transcribe(&audio)?;
            let secs = s.elapsed().as_secs_f64();
            rtfs.push(secs / audio.seconds() as f64);
            let (e, n) = word_errors(text, &tr.text);
            errs += e;
            words += n;
            if e > 0 {
                misheard.push((text.clone(), tr.text.clone()));
            }
            progress.inc(1);
        }
        all_err += errs;
        all_words += words;
        all_rtf.extend(rtfs.iter().copied());
        results.push(VoiceResult {
            voice: v.clone(),
            clips: qs.len(),
            word_errors: errs,
            words,
            wer: errs as f64 / words.max(1) as f64,
            rtf_median: median(rtfs),
            misheard,
        });
    }
    progress.finish("done");
    Ok(ModelResult {
        model: name.to_string(),
        wer: all_err as f64 / all_words.max(1) as f64,
        rtf_median: median(all_rtf),
        load_ms,
        voices: results,
    })
}
