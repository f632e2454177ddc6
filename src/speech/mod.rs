//! Speech to text: audio in any common format is decoded (symphonia),
//! mixed to mono, resampled to 16 kHz, checked for size, length and
//! silence, and transcribed by whisper.cpp (whisper-rs) with a prompt of
//! care words. Silence gives an empty transcript, never an invented one.

pub mod bench;
pub mod convert;
pub mod http;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::config::Config;

/// Whisper's sample rate.
pub const RATE: u32 = 16_000;

/// Why audio could not be used, in words for the person who sent it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AudioError {
    #[error("the recording is empty")]
    Empty,
    #[error("the recording is larger than {0} bytes; please send a shorter one")]
    TooLarge(usize),
    #[error("the recording is longer than {0} seconds; please ask a shorter question")]
    TooLong(f32),
    #[error("the audio could not be read ({0}); send WAV, FLAC, MP3 or Ogg Vorbis")]
    Unreadable(String),
}

/// Decoded audio: 16 kHz mono samples in [-1, 1].
#[derive(Debug, Clone)]
pub struct Audio {
    pub samples: Vec<f32>,
    /// The recording's own sample rate and channels, before conversion.
    pub source_rate: u32,
    pub source_channels: usize,
}

impl Audio {
    pub fn seconds(&self) -> f32 {
        self.samples.len() as f32 / RATE as f32
    }

    /// Root-mean-square loudness.
    pub fn rms(&self) -> f32 {
        if self.samples.is_empty() {
            return 0.0;
        }
        (self.samples.iter().map(|x| x * x).sum::<f32>() / self.samples.len() as f32).sqrt()
    }
}

/// Decodes WAV (16-bit or float), FLAC, MP3 or Ogg Vorbis, at any sample
/// rate, mono or stereo, to 16 kHz mono. `hint` is a MIME type or file
/// extension, if known.
pub fn decode(
    bytes: &[u8],
    hint: Option<&str>,
    max_bytes: usize,
    max_seconds: f32,
) -> Result<Audio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(AudioError::TooLarge(max_bytes));
    }
    check_wav_header(bytes)?;
    // The decoders are another project's code: should one panic on a
    // damaged file, that is an unreadable recording, not a failed request.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_checked(bytes, hint, max_seconds)
    }))
    .unwrap_or_else(|_| Err(AudioError::Unreadable("the file is damaged".into())))
}

/// A WAV file whose format chunk gives no channels or a sample rate of 0
/// is refused before the decoder sees it (the decoder panics on it; found
/// by the audio fuzzer).
fn check_wav_header(bytes: &[u8]) -> Result<(), AudioError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Ok(());
    }
    let mut at = 12usize;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let data = at + 8;
        if id == b"fmt " {
            if size < 16 || data + 16 > bytes.len() {
                return Err(AudioError::Unreadable(
                    "the WAV format chunk is too short".into(),
                ));
            }
            let channels = u16::from_le_bytes([bytes[data + 2], bytes[data + 3]]);
            let rate = u32::from_le_bytes([
                bytes[data + 4],
                bytes[data + 5],
                bytes[data + 6],
                bytes[data + 7],
            ]);
            if channels == 0 || rate == 0 {
                return Err(AudioError::Unreadable(format!(
                    "the WAV header gives {channels} channels at {rate} Hz"
                )));
            }
            return Ok(());
        }
        at = data.saturating_add(size).saturating_add(size & 1);
    }
    Ok(())
}

fn decode_checked(bytes: &[u8], hint: Option<&str>, max_seconds: f32) -> Result<Audio, AudioError> {
    let mut h = Hint::new();
    if let Some(x) = hint {
        let x = x
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if x.contains('/') {
            h.mime_type(&x);
        } else if !x.is_empty() {
            h.with_extension(&x);
        }
    }
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let unreadable = |e: SymphoniaError| AudioError::Unreadable(e.to_string());
    let probed = symphonia::default::get_probe()
        .format(
            &h,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(unreadable)?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| AudioError::Unreadable("no audio track".into()))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| AudioError::Unreadable("no sample rate".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(unreadable)?;
    let max_frames = (max_seconds * rate as f32) as usize + rate as usize;
    let mut mono: Vec<f32> = Vec::new();
    let mut channels = params.channels.map(|c| c.count()).unwrap_or(1).max(1);
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(unreadable(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(unreadable(e)),
        };
        let spec = *decoded.spec();
        channels = spec.channels.count().max(1);
        let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks(channels) {
            mono.push(frame.iter().sum::<f32>() / channels as f32);
        }
        if mono.len() > max_frames {
            return Err(AudioError::TooLong(max_seconds));
        }
    }
    if mono.is_empty() {
        return Err(AudioError::Empty);
    }
    let samples = resample(&mono, rate, RATE);
    if samples.len() as f32 / RATE as f32 > max_seconds {
        return Err(AudioError::TooLong(max_seconds));
    }
    Ok(Audio {
        samples,
        source_rate: rate,
        source_channels: channels,
    })
}

/// Band-limited resampling by windowed-sinc interpolation (a Hann window
/// over 16 zero crossings each side), with the cut-off at the lower of the
/// two Nyquist frequencies so nothing aliases.
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || input.is_empty() {
        return input.to_vec();
    }
    const ZEROS: f64 = 16.0;
    let ratio = to as f64 / from as f64;
    let cutoff = ratio.min(1.0);
    let out_len = (input.len() as f64 * ratio).round() as usize;
    let half = (ZEROS / cutoff).ceil() as isize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let t = n as f64 / ratio;
        let centre = t.floor() as isize;
        let mut acc = 0.0f64;
        for k in (centre - half)..=(centre + half) {
            if k < 0 || k as usize >= input.len() {
                continue;
            }
            let x = (t - k as f64) * cutoff;
            let sinc = if x.abs() < 1e-9 {
                1.0
            } else {
                (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
            };
            let w = 0.5 + 0.5 * (std::f64::consts::PI * x / ZEROS).cos();
            if x.abs() <= ZEROS {
                acc += input[k as usize] as f64 * sinc * w * cutoff;
            }
        }
        out.push(acc as f32);
    }
    out
}

/// A transcript.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transcript {
    pub text: String,
    pub language: String,
    pub duration_ms: u64,
}

/// The loaded speech model. One transcription runs at a time (a 2-core
/// server has no room for two).
pub struct Transcriber {
    ctx: whisper_rs::WhisperContext,
    lock: Mutex<()>,
    threads: i32,
    prompt: String,
    silence_rms: f32,
    fit_window: bool,
    deadline: std::time::Duration,
}

/// The configured speech model's ggml file, or `None` when speech input is
/// off: `speech.ggml_path` if set, else the configured model converted into
/// the folder of derived files (made on first use, see [`converted`]).
pub fn model_path(config: &Config) -> Result<Option<PathBuf>> {
    if let Some(p) = &config.speech.ggml_path {
        return Ok(Some(p.clone()));
    }
    if config.speech.model.is_empty() {
        return Ok(None);
    }
    converted(config, &config.speech.model).map(Some)
}

/// The installed speech model `name` converted to ggml in the folder of
/// derived files. Made once, checked before every use, and made again when
/// the file is damaged or was made by another version of the converter.
pub fn converted(config: &Config, name: &str) -> Result<PathBuf> {
    use crate::models::{manifest_path, Manifest, Status};
    let manifest = Manifest::load(&manifest_path())?;
    let entry = manifest.get(name)?;
    let cache = config.models.cache();
    if entry.status(&cache) != Status::Verified {
        anyhow::bail!(
            "the speech model {name} is not installed: run `signpost models fetch {name}`"
        );
    }
    let dir = entry.dir(&cache);
    let source = crate::derived::source_stamp(&dir.join("model.bin"))?;
    let out = config.models.derived().join(format!(
        "{name}-ggml-v{}-{}.bin",
        convert::VERSION,
        crate::derived::key(&[name.as_bytes(), source.as_bytes()])
    ));
    crate::derived::ensure(
        &out,
        "the converted speech model",
        |p| convert::check(p).map(|_| ()),
        |w| {
            tracing::info!(
                model = name,
                "converting the speech model for whisper.cpp (once)"
            );
            convert::convert_into(&dir, w)
        },
    )?;
    Ok(out)
}

/// The words that help recognition: `speech.prompt` if set, else the
/// council's own, else one naming the subject and the council's area.
pub fn prompt(config: &Config) -> String {
    [&config.speech.prompt, &config.council.speech_prompt]
        .into_iter()
        .find(|p| !p.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| {
            let area = config.council.service_area();
            let mut chars = area.chars();
            let lead: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
            format!(
                "{lead}{}: a care needs assessment, reablement, Attendance Allowance, a Blue Badge, an occupational therapist, a carer's assessment, direct payments and telecare.",
                chars.as_str()
            )
        })
}

/// A transcription that ran past `speech.deadline_ms` and was stopped.
#[derive(Debug, Clone, Copy)]
pub struct Overran(pub std::time::Duration);

impl std::fmt::Display for Overran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "transcription stopped after {} ms", self.0.as_millis())
    }
}

impl std::error::Error for Overran {}

impl Transcriber {
    /// Loads the ggml model at `path`.
    pub fn load(path: &Path, config: &Config) -> Result<Transcriber> {
        if !path.exists() {
            anyhow::bail!("the speech model file {} does not exist", path.display());
        }
        whisper_rs::install_logging_hooks();
        let ctx = whisper_rs::WhisperContext::new_with_params(
            path.to_str().context("the model path is not UTF-8")?,
            whisper_rs::WhisperContextParameters::default(),
        )
        .map_err(|e| anyhow::anyhow!("cannot load the speech model {}: {e}", path.display()))?;
        Ok(Transcriber {
            ctx,
            lock: Mutex::new(()),
            threads: config.speech.threads.max(1) as i32,
            prompt: prompt(config),
            silence_rms: config.speech.silence_rms,
            fit_window: config.speech.fit_window,
            deadline: std::time::Duration::from_millis(config.speech.deadline_ms.max(1)),
        })
    }

    /// Transcribes 16 kHz mono audio. Silence gives an empty transcript.
    pub fn transcribe(&self, audio: &Audio) -> Result<Transcript> {
        self.transcribe_with(audio, &self.prompt)
    }

    /// The same with another prompt: the words of the council this
    /// recording is for ([`prompt`] of its settings), when one model serves
    /// several councils.
    pub fn transcribe_with(&self, audio: &Audio, prompt: &str) -> Result<Transcript> {
        let duration_ms = (audio.seconds() * 1000.0).round() as u64;
        let empty = Transcript {
            text: String::new(),
            language: "en".into(),
            duration_ms,
        };
        if audio.rms() < self.silence_rms {
            return Ok(empty);
        }
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| anyhow::anyhow!("speech recogniser: {e}"))?;
        let mut p =
            whisper_rs::FullParams::new(whisper_rs::SamplingStrategy::Greedy { best_of: 1 });
        p.set_n_threads(self.threads);
        p.set_language(Some("en"));
        p.set_translate(false);
        p.set_no_context(true);
        p.set_single_segment(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_print_special(false);
        p.set_suppress_blank(true);
        if !prompt.is_empty() {
            p.set_initial_prompt(prompt);
        }
        if self.fit_window {
            // 50 encoder positions a second, with a second to spare.
            let ctx = ((audio.seconds() + 1.0) * 50.0).ceil() as i32;
            p.set_audio_ctx(ctx.clamp(64, 1500));
        }
        // Whisper works on 30-second windows; shorter clips are padded.
        let mut pcm = audio.samples.clone();
        if pcm.len() < RATE as usize {
            pcm.resize(RATE as usize, 0.0);
        }
        // Whisper asks between steps whether to stop; past the deadline, it does.
        unsafe extern "C" fn past_deadline(deadline: *mut std::ffi::c_void) -> bool {
            // SAFETY: the pointer is to `deadline` below, alive until `full` returns.
            let deadline = unsafe { &*(deadline as *const std::time::Instant) };
            std::time::Instant::now() >= *deadline
        }
        let deadline = std::time::Instant::now() + self.deadline;
        // SAFETY: the callback only reads the Instant, which outlives the call.
        unsafe {
            p.set_abort_callback(Some(past_deadline));
            p.set_abort_callback_user_data(&deadline as *const std::time::Instant as *mut _);
        }
        let result = state.full(p, &pcm);
        if std::time::Instant::now() >= deadline {
            return Err(anyhow::Error::new(Overran(self.deadline)));
        }
        result.map_err(|e| anyhow::anyhow!("speech recognition failed: {e}"))?;
        let mut text = String::new();
        for seg in state.as_iter() {
            // A segment the model itself thinks is not speech is dropped.
            if seg.no_speech_probability() > 0.6 {
                continue;
            }
            if let Ok(t) = seg.to_str_lossy() {
                text.push_str(&t);
            }
        }
        let text = clean(&text);
        Ok(Transcript {
            text,
            // Recognition is asked for English, so that is what comes back.
            language: "en".into(),
            duration_ms,
        })
    }
}

/// Tidies a transcript: whitespace, and the bracketed non-speech notes
/// Whisper writes for noise or music ("[BLANK_AUDIO]", "(music)").
pub fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_council_has_its_own_recognition_words() {
        let mut a = Config::default();
        a.council.area = "Wrenfield".into();
        let mut b = Config::default();
        b.council.speech_prompt = "Northbay Care Connect, Seafield, Harbourside.".into();
        assert!(
            prompt(&a).starts_with("Adult social care in Wrenfield:"),
            "{}",
            prompt(&a)
        );
        assert!(!prompt(&a).contains("Northbay"));
        assert_eq!(prompt(&b), "Northbay Care Connect, Seafield, Harbourside.");
        // The install's own words, when set, are for every council.
        b.speech.prompt = "Shared words.".into();
        assert_eq!(prompt(&b), "Shared words.");
    }

    fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
        b.extend_from_slice(&(channels * 2).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn stereo_44k_wav_becomes_16k_mono() {
        // One second of a 440 Hz tone in the left channel only.
        let samples: Vec<i16> = (0..44_100)
            .flat_map(|i| {
                let v = ((i as f32 * 440.0 * 2.0 * std::f32::consts::PI / 44_100.0).sin()
                    * 16_000.0) as i16;
                [v, 0]
            })
            .collect();
        let a = decode(&wav(44_100, 2, &samples), Some("audio/wav"), 1 << 20, 30.0).unwrap();
        assert_eq!(a.source_rate, 44_100);
        assert_eq!(a.source_channels, 2);
        assert!(
            (a.samples.len() as i64 - 16_000).abs() <= 1,
            "{}",
            a.samples.len()
        );
        // Half amplitude after mixing to mono: RMS of a 0.244 sine is about 0.17.
        assert!((a.rms() - 0.1726).abs() < 0.01, "{}", a.rms());
    }

    #[test]
    fn bad_audio_gets_a_clear_error() {
        assert_eq!(decode(b"", None, 100, 30.0).unwrap_err(), AudioError::Empty);
        assert!(matches!(
            decode(&[0u8; 200], None, 100, 30.0),
            Err(AudioError::TooLarge(100))
        ));
        assert!(matches!(
            decode(b"this is not audio at all, just text", None, 1 << 20, 30.0),
            Err(AudioError::Unreadable(_))
        ));
        let long = wav(8_000, 1, &vec![100i16; 8_000 * 5]);
        assert!(matches!(
            decode(&long, None, 1 << 20, 2.0),
            Err(AudioError::TooLong(_))
        ));
        let empty = wav(16_000, 1, &[]);
        assert!(decode(&empty, None, 1 << 20, 30.0).is_err());
        // Found by the audio fuzzer: a header with a sample rate of 0 (or no
        // channels) made the decoder panic; now it is a clear refusal.
        for (rate, channels) in [(0, 1), (16_000, 0)] {
            let bad = wav(rate, channels, &[100i16; 100]);
            assert!(
                matches!(decode(&bad, None, 1 << 20, 30.0), Err(AudioError::Unreadable(m)) if m.contains("Hz")),
                "{rate} Hz, {channels} channels"
            );
        }
    }

    #[test]
    fn resampling_keeps_a_tone_and_removes_what_cannot_be_kept() {
        let tone = |f: f32, rate: u32| -> Vec<f32> {
            (0..rate)
                .map(|i| (i as f32 * f * 2.0 * std::f32::consts::PI / rate as f32).sin())
                .collect()
        };
        let rms = |x: &[f32]| {
            (x[2000..x.len() - 2000].iter().map(|v| v * v).sum::<f32>() / (x.len() - 4000) as f32)
                .sqrt()
        };
        let kept = resample(&tone(1000.0, 48_000), 48_000, 16_000);
        assert!((rms(&kept) - 0.707).abs() < 0.02, "{}", rms(&kept));
        // 12 kHz is above 16 kHz audio's 8 kHz limit: it must not fold back.
        let gone = resample(&tone(12_000.0, 48_000), 48_000, 16_000);
        assert!(rms(&gone) < 0.05, "{}", rms(&gone));
    }

    #[test]
    fn transcripts_lose_non_speech_notes() {
        assert_eq!(clean(" [BLANK_AUDIO] "), "");
        assert_eq!(
            clean(" How much  does a (coughs) Blue Badge cost?"),
            "How much does a Blue Badge cost?"
        );
    }
}

/// Words for scoring: lower case, letters and digits only.
fn score_words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .replace('\'', "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Word error rate: word-level edit distance over the reference's length.
/// Returns (errors, reference words).
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let r = score_words(reference);
    let h = score_words(hypothesis);
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    (prev[h.len()], r.len())
}

#[cfg(test)]
mod wer_tests {
    use super::word_errors;

    #[test]
    fn word_error_rate_counts_edits() {
        assert_eq!(
            word_errors(
                "how much does a blue badge cost",
                "How much does a Blue Badge cost?"
            ),
            (0, 7)
        );
        assert_eq!(
            word_errors("what is reablement", "what is re enablement"),
            (2, 3)
        );
        assert_eq!(
            word_errors("a carer's assessment", "a carers assessment"),
            (0, 3)
        );
        assert_eq!(word_errors("one two three", ""), (3, 3));
    }
}
