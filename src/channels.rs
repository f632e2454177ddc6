//! Rendering a [`Reply`] for a channel. Channels never re-run a stage: they
//! only turn the reply into text (web) or speakable text (voice and speakers).

use std::sync::LazyLock;

use regex::Regex;

use crate::config::Config;
pub use crate::pipeline::Channel;
use crate::pipeline::{Reply, Route};

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:https?://|www\.)[^\s,;)]+[^\s,;).]").unwrap());
static MARKDOWN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[*_`#>\[\]|]").unwrap());

/// The whole reply text for a channel.
pub fn render(reply: &Reply, channel: Channel, config: &Config) -> String {
    let c = &config.council;
    match channel {
        Channel::Web => {
            let mut text = reply.answer.join(" ");
            if let Some(n) = &reply.notice {
                // Urgent help stays first; otherwise the notice leads.
                text = if reply.route == Route::Escalate {
                    format!("{text}\n\n{n}")
                } else {
                    format!("{n}\n\n{text}")
                };
            }
            if let Some(note) = document_note(reply) {
                text.push_str(&format!("\n\n{note}"));
            }
            if let Some(note) = stale_note(reply) {
                text.push_str(&format!("\n\n{note}"));
            }
            if reply.route == Route::Answer {
                text.push_str(&format!(
                    "\n\nThis answer comes from our pages, so please check the page for full details. If you need help, call {}.",
                    c.front_door_hours()
                ));
            }
            text
        }
        Channel::Voice => {
            let mut note = (reply.route == Route::Answer).then(|| {
                let call = format!("For more help, call {}.", c.front_door());
                let notes: Vec<String> = [document_note(reply), stale_note(reply)]
                    .into_iter()
                    .flatten()
                    .chain([call])
                    .collect();
                notes.join(" ")
            });
            if reply.notice.is_some() {
                let spoken = "You don't need to tell me personal details.";
                note = Some(match note {
                    Some(n) => format!("{spoken} {n}"),
                    None => spoken.to_string(),
                });
            }
            speakable(
                &reply.answer,
                note.as_deref(),
                config.answer.voice_max_words,
            )
        }
    }
}

/// For an answer that quotes a document the council links to (a PDF
/// policy), rather than a web page: which document it is in, with the link.
fn document_note(reply: &Reply) -> Option<String> {
    if reply.route != Route::Answer {
        return None;
    }
    let quoted = |slug: &str| reply.passages.iter().any(|p| p.slug == slug);
    let docs: Vec<String> = reply
        .sources
        .iter()
        .filter(|s| s.document && quoted(&s.slug))
        .map(|s| format!("\"{}\" ({})", s.title.trim(), s.url))
        .collect();
    let pages_quoted = reply
        .passages
        .iter()
        .filter(|p| {
            reply
                .sources
                .iter()
                .any(|s| s.slug == p.slug && !s.document)
        })
        .count();
    let lead = if pages_quoted == 0 {
        "This"
    } else {
        "Some of this"
    };
    match docs.as_slice() {
        [] => None,
        [one] => Some(format!("{lead} is in our document {one}.")),
        many => Some(format!(
            "{lead} is in our documents {}.",
            many.join(" and ")
        )),
    }
}

/// For an answer led by a page past its review date, or not checked
/// against the council's website for a while: when, and that it may have
/// changed.
fn stale_note(reply: &Reply) -> Option<String> {
    if reply.route != Route::Answer {
        return None;
    }
    let lead = reply.sources.first()?;
    if let Some(d) = &lead.last_updated {
        return Some(format!(
            "This page was last updated on {d}, so figures and details may have changed since."
        ));
    }
    let d = lead.last_checked.as_ref()?;
    Some(format!(
        "We last checked this page on {d}, so it may have changed since."
    ))
}

/// The shorter web answer a resident can choose in their settings: for an
/// answer, the leading sentences only (a calculator's result leads, so it
/// stays) and a pointer to the page; anything else as the web channel has it.
pub fn render_brief(reply: &Reply, config: &Config) -> String {
    const BRIEF_SENTENCES: usize = 2;
    if reply.route != Route::Answer || reply.answer.len() <= BRIEF_SENTENCES {
        return render(reply, Channel::Web, config);
    }
    let mut short = reply.clone();
    short.answer.truncate(BRIEF_SENTENCES);
    let text = render(&short, Channel::Web, config);
    format!("{text}\n\nThis is a short answer. The page linked below has more detail.")
}

/// Joins sentences into speakable text: web addresses become "the council
/// website", markdown characters go, and whole sentences are kept up to
/// `max_words` (the first sentence and the note always stay).
pub fn speakable(sentences: &[String], note: Option<&str>, max_words: usize) -> String {
    let clean = |s: &str| {
        let s = URL.replace_all(s, "the council website");
        let s = MARKDOWN.replace_all(&s, "");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let note_words = note.map(crate::text::word_count).unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    let mut words = note_words;
    for s in sentences {
        let s = clean(s);
        let n = crate::text::word_count(&s);
        if !out.is_empty() && words + n > max_words {
            break;
        }
        words += n;
        out.push(s);
    }
    if let Some(n) = note {
        out.push(clean(n));
    }
    out.join(" ")
}

/// Numbers to read digit by digit: UK numbers, and 999, 111 and 116 123.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"{}|\b(?:999|111|116 ?123)\b",
        crate::text::UK_PHONE_PATTERN
    ))
    .unwrap()
});

/// Speakable text as SSML for a speaker: every character XML-escaped, and
/// phone numbers marked to be read digit by digit ("oh one six three two...").
pub fn ssml(text: &str) -> String {
    let esc = crate::text::escape_html;
    let mut out = String::from("<speak>");
    let mut last = 0;
    for m in PHONE.find_iter(text) {
        out.push_str(&esc(&text[last..m.start()]));
        out.push_str(&format!(
            "<say-as interpret-as=\"telephone\">{}</say-as>",
            esc(m.as_str())
        ));
        last = m.end();
    }
    out.push_str(&esc(&text[last..]));
    out.push_str("</speak>");
    out
}

/// Checks voice text the way the evaluation harness does: no URLs, no
/// markdown, at most `max_words` words.
pub fn is_speakable(text: &str, max_words: usize) -> bool {
    !URL.is_match(text) && !MARKDOWN.is_match(text) && crate::text::word_count(text) <= max_words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speakable_text_has_no_urls_or_markdown_and_respects_the_limit() {
        let s = vec![
            "Apply at www.northbay.example/care/blue-badge today.".to_string(),
            "A **Blue Badge** costs £10.".to_string(),
            "word ".repeat(80),
        ];
        let out = speakable(&s, Some("For more help, call 01632 960100."), 90);
        assert!(is_speakable(&out, 90), "{out}");
        assert!(out.contains("the council website"));
        assert!(out.contains("Blue Badge costs £10."));
        assert!(out.ends_with("01632 960100."));
    }

    #[test]
    fn ssml_is_escaped_and_reads_phone_numbers_as_digits() {
        let s = ssml("Call 01632 960100 or 999 <now> & say \"help\" isn't it");
        assert!(s.starts_with("<speak>") && s.ends_with("</speak>"));
        assert!(s.contains("<say-as interpret-as=\"telephone\">01632 960100</say-as>"));
        assert!(s.contains("<say-as interpret-as=\"telephone\">999</say-as>"));
        assert!(s.contains("&lt;now&gt; &amp; say &quot;help&quot; isn&#39;t"));
        // Only our own tags remain once escaped text is removed.
        let inner = &s[7..s.len() - 8];
        let stripped = inner
            .replace("<say-as interpret-as=\"telephone\">", "")
            .replace("</say-as>", "");
        assert!(
            !stripped.contains('<') && !stripped.contains('>'),
            "{stripped}"
        );
    }

    #[test]
    fn channel_names_parse() {
        assert_eq!("Voice".parse::<Channel>().unwrap(), Channel::Voice);
        assert!("fax".parse::<Channel>().is_err());
    }
}
