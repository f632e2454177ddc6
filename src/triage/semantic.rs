//! Semantic triage: the message's embedding is compared with a bank of
//! labelled example messages (built in, `src/triage/examples.jsonl`, plus a
//! council's own `triage-examples.jsonl`). The
//! patterns in [`super`] catch what they know word for word; this catches
//! the same meaning in words nobody wrote a pattern for.
//!
//! Recall comes first: a message escalates when it is close enough to an
//! emergency example and not clearly closer to an ordinary question.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::{Decline, Urgent};
use crate::config::TriageSettings;
use crate::embed::{cosine, Embedder};

/// What an example message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Escalate(Urgent),
    Decline(Decline),
    /// An ordinary question that should be answered from the pages.
    Answer,
}

impl Label {
    /// Parses "escalate:fall", "decline:medical" or "answer".
    pub fn parse(s: &str) -> Option<Label> {
        if s == "answer" {
            return Some(Label::Answer);
        }
        let (kind, name) = s.split_once(':')?;
        match kind {
            "escalate" => Urgent::ALL
                .iter()
                .find(|u| u.name() == name)
                .map(|u| Label::Escalate(*u)),
            "decline" => Decline::ALL
                .iter()
                .find(|d| d.name() == name)
                .map(|d| Label::Decline(*d)),
            _ => None,
        }
    }
}

/// The embedding model and the labelled example bank.
pub struct Semantic {
    pub embedder: std::sync::Arc<Embedder>,
    pub bank: ExampleBank,
    /// Names the embedding model and its files' digests, for derived files.
    pub model_key: String,
}

/// The example bank with each example's embedding.
pub struct ExampleBank {
    pub labels: Vec<Label>,
    pub texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

/// The closest examples of each kind to one message.
#[derive(Debug, Clone)]
pub struct Nearest {
    pub escalate: Option<(Urgent, f32, usize)>,
    pub decline: Option<(Decline, f32, usize)>,
    pub answer: Option<(f32, usize)>,
}

/// What semantic triage decided, with the example that decided it.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub label: Label,
    pub similarity: f32,
    pub example: String,
    /// Found in one piece of a longer message, not in the whole of it.
    pub in_piece: bool,
}

/// The key and the derived file's path for a list of texts.
fn cache_file(
    texts: &[String],
    model_key: &str,
    cache_dir: &Path,
    label: &str,
) -> ([u8; 32], PathBuf) {
    let mut h = Sha256::new();
    h.update(model_key.as_bytes());
    for t in texts {
        h.update(format!("{t}\u{2}").as_bytes());
    }
    let key: [u8; 32] = h.finalize().into();
    let name: String = key.iter().take(12).map(|b| format!("{b:02x}")).collect();
    (key, cache_dir.join(format!("{label}-{name}.vectors")))
}

/// Embeds texts, reusing a derived file in `cache_dir` named by `label` and
/// keyed by the texts and the model (see [`crate::derived`]).
pub fn embed_cached(
    texts: &[String],
    embedder: &Embedder,
    model_key: &str,
    cache_dir: &Path,
    label: &str,
) -> Result<Vec<Vec<f32>>> {
    let mut out = embed_cached_groups(&[texts.to_vec()], embedder, model_key, cache_dir, label)?;
    Ok(out.pop().unwrap_or_default())
}

/// Like [`embed_cached`] for many groups of texts (each page's sentences),
/// each group in its own derived file, so that a change to one page embeds
/// only that page again. Progress is shown only for what is embedded now.
pub fn embed_cached_groups(
    groups: &[Vec<String>],
    embedder: &Embedder,
    model_key: &str,
    cache_dir: &Path,
    label: &str,
) -> Result<Vec<Vec<Vec<f32>>>> {
    let files: Vec<([u8; 32], PathBuf)> = groups
        .iter()
        .map(|texts| cache_file(texts, model_key, cache_dir, label))
        .collect();
    let read = |texts: &[String], (key, path): &([u8; 32], PathBuf)| {
        crate::derived::read_vectors(path, key, texts.len(), embedder.dims)
    };
    // What the cache already holds; the rest is embedded below.
    let mut out: Vec<Option<Vec<Vec<f32>>>> = groups
        .iter()
        .zip(&files)
        .map(|(texts, file)| {
            if texts.is_empty() {
                Some(Vec::new())
            } else {
                file.1.exists().then(|| read(texts, file).ok()).flatten()
            }
        })
        .collect();
    let missing: usize = groups
        .iter()
        .zip(&out)
        .filter(|(_, v)| v.is_none())
        .map(|(t, _)| t.len())
        .sum();
    if missing == 0 {
        return Ok(out.into_iter().flatten().collect());
    }
    let mut progress = crate::progress::Progress::new(label, missing as u64);
    for ((texts, (key, path)), slot) in groups.iter().zip(&files).zip(&mut out) {
        if slot.is_some() {
            continue;
        }
        let mut made: Option<Vec<Vec<f32>>> = None;
        let result = crate::derived::ensure(
            path,
            &format!("the embedded {label}"),
            |p| crate::derived::read_vectors(p, key, texts.len(), embedder.dims),
            |w| {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let mut v = Vec::with_capacity(refs.len());
                for chunk in refs.chunks(32) {
                    v.extend(embedder.embed(chunk)?);
                    progress.inc(chunk.len() as u64);
                }
                crate::derived::write_vectors(w, key, &v)?;
                made = Some(v);
                Ok(())
            },
        );
        *slot = Some(match (result, made) {
            (Ok(v), _) => v,
            // Embedded but not saved (a full or read-only disk): use them anyway.
            (Err(e), Some(v)) => {
                tracing::warn!(error = %format!("{e:#}"), "the embedded {label} could not be saved; they will be made again next start");
                v
            }
            (Err(e), None) => return Err(e).context("cannot embed"),
        });
    }
    progress.finish("embedded");
    Ok(out.into_iter().flatten().collect())
}

impl ExampleBank {
    /// Embeds the examples, reusing a cache in `cache_dir` keyed by the
    /// examples and the model.
    pub fn build(
        examples: &[(Label, String)],
        embedder: &Embedder,
        model_key: &str,
        cache_dir: &Path,
    ) -> Result<ExampleBank> {
        let texts: Vec<String> = examples.iter().map(|(_, t)| t.clone()).collect();
        // The labels are part of the cache key, so relabelling re-embeds.
        let labels: String = examples.iter().map(|(l, _)| format!("{l:?};")).collect();
        let vectors = embed_cached(
            &texts,
            embedder,
            &format!("{model_key}|{labels}"),
            cache_dir,
            "triage-examples",
        )?;
        Ok(ExampleBank {
            labels: examples.iter().map(|(l, _)| *l).collect(),
            texts: examples.iter().map(|(_, t)| t.clone()).collect(),
            vectors,
        })
    }

    /// The closest example of each kind.
    pub fn nearest(&self, v: &[f32]) -> Nearest {
        let mut n = Nearest {
            escalate: None,
            decline: None,
            answer: None,
        };
        for (i, (label, e)) in self.labels.iter().zip(&self.vectors).enumerate() {
            let s = cosine(v, e);
            match label {
                Label::Escalate(u) => {
                    if n.escalate.is_none_or(|(_, b, _)| s > b) {
                        n.escalate = Some((*u, s, i));
                    }
                }
                Label::Decline(d) => {
                    if n.decline.is_none_or(|(_, b, _)| s > b) {
                        n.decline = Some((*d, s, i));
                    }
                }
                Label::Answer => {
                    if n.answer.is_none_or(|(b, _)| s > b) {
                        n.answer = Some((s, i));
                    }
                }
            }
        }
        n
    }

    /// Escalate when close to an emergency and not clearly closer to an
    /// ordinary question; decline when close to a decline example and closer
    /// to it than to any ordinary question.
    pub fn verdict(&self, v: &[f32], s: &TriageSettings) -> Option<Verdict> {
        let n = self.nearest(v);
        let answer = n.answer.map(|(a, _)| a).unwrap_or(0.0);
        if let Some((u, sim, i)) = n.escalate {
            if sim >= s.escalate_similarity && sim >= answer + s.escalate_lead {
                return Some(Verdict {
                    label: Label::Escalate(u),
                    similarity: sim,
                    example: self.texts[i].clone(),
                    in_piece: false,
                });
            }
        }
        if let Some((d, sim, i)) = n.decline {
            if sim >= s.decline_similarity && sim >= answer + s.decline_lead {
                return Some(Verdict {
                    label: Label::Decline(d),
                    similarity: sim,
                    example: self.texts[i].clone(),
                    in_piece: false,
                });
            }
        }
        None
    }
}

/// The parts of a long message checked on their own, so an emergency
/// buried in a long message is not outweighed by the ordinary words around
/// it: each sentence of three words or more, and long unpunctuated stretches
/// (voice transcripts) in overlapping windows of 12 words. Short messages
/// (25 words or fewer) have no parts: the whole message is enough.
pub fn pieces(message: &str) -> Vec<String> {
    const WINDOW: usize = 12;
    const STEP: usize = 6;
    if message.split_whitespace().count() <= 25 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for sentence in message.split(['.', '!', '?', ';', '\n']) {
        let words: Vec<&str> = sentence.split_whitespace().collect();
        if words.len() < 3 {
            continue;
        }
        if words.len() <= 20 {
            out.push(words.join(" "));
            continue;
        }
        let mut start = 0;
        loop {
            let end = (start + WINDOW).min(words.len());
            out.push(words[start..end].join(" "));
            if end == words.len() {
                break;
            }
            start += STEP;
        }
    }
    out
}

impl ExampleBank {
    /// The verdict on the whole message; when that is not an emergency, an
    /// emergency found in any one piece of it (see [`pieces`]) wins.
    pub fn verdict_with_pieces(
        &self,
        whole: &[f32],
        pieces: &[(String, Vec<f32>)],
        s: &TriageSettings,
    ) -> Option<Verdict> {
        let verdict = self.verdict(whole, s);
        if matches!(
            verdict,
            Some(Verdict {
                label: Label::Escalate(_),
                ..
            })
        ) {
            return verdict;
        }
        let urgent_piece = pieces
            .iter()
            .filter_map(|(_, v)| self.verdict(v, s))
            .filter(|v| matches!(v.label, Label::Escalate(_)))
            .max_by(|a, b| a.similarity.total_cmp(&b.similarity))
            .map(|v| Verdict {
                in_piece: true,
                ..v
            });
        urgent_piece.or(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn long_messages_are_split_into_sentences_and_windows() {
        assert!(pieces("my mum has fallen and cant get up").is_empty());
        let p = pieces("I wanted to ask about the blue badge scheme and how long it takes. Also my dad collapsed an hour ago and isn't answering me. Thanks for your help with everything.");
        assert!(
            p.contains(&"Also my dad collapsed an hour ago and isn't answering me".to_string()),
            "{p:?}"
        );
        let words: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
        let p = pieces(&words.join(" "));
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].starts_with("w0 ") && p[3].ends_with("w29"));
    }
}
