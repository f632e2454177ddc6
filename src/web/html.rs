//! The page's HTML, written by hand with every piece of text escaped. One
//! layout for every page keeps the emergency line, the "Talk to a person"
//! route and the footer in the same place everywhere (WCAG 3.2.6).

use std::fmt::Write as _;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use regex::Regex;

use super::{CallbackForm, FieldError, BEST_TIMES, PREFS_COOKIE};
use crate::config::Config;
use crate::pipeline::Route;
use crate::service::Shown;
use crate::store::Callback;

/// Escapes text for HTML content and attribute values.
pub use crate::text::escape_html as esc;

/// A resident's display settings, kept in a cookie on their device.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prefs {
    pub large: bool,
    pub contrast: bool,
    pub spacing: bool,
    pub motion: bool,
    pub speak: bool,
    pub short: bool,
}

/// Each setting: cookie word, label, hint.
const SETTINGS: [(&str, &str, &str); 6] = [
    (
        "large",
        "Larger text",
        "Makes all the text on this page bigger.",
    ),
    (
        "contrast",
        "High contrast",
        "Yellow and white text on black.",
    ),
    (
        "spacing",
        "More space between letters and lines",
        "Can make reading easier with dyslexia.",
    ),
    (
        "motion",
        "Reduce motion",
        "No movement or smooth scrolling.",
    ),
    (
        "speak",
        "Read answers aloud",
        "Uses your browser's own voice. Nothing is sent anywhere.",
    ),
    (
        "short",
        "Shorter, simpler answers",
        "Gives the main points first, with a link to the full page.",
    ),
];

impl Prefs {
    pub fn from_headers(h: &HeaderMap) -> Prefs {
        let v = super::cookie(h, PREFS_COOKIE).unwrap_or_default();
        let has = |w: &str| v.split(['.', ',']).any(|p| p == w);
        Prefs {
            large: has("large"),
            contrast: has("contrast"),
            spacing: has("spacing"),
            motion: has("motion"),
            speak: has("speak"),
            short: has("short"),
        }
    }

    fn flags(&self) -> [(&'static str, bool); 6] {
        [
            ("large", self.large),
            ("contrast", self.contrast),
            ("spacing", self.spacing),
            ("motion", self.motion),
            ("speak", self.speak),
            ("short", self.short),
        ]
    }

    fn on(&self, name: &str) -> bool {
        self.flags().iter().any(|(n, v)| *n == name && *v)
    }

    /// The cookie value: the settings that are on, joined with dots.
    pub fn cookie_value(&self) -> String {
        let on: Vec<&str> = self
            .flags()
            .iter()
            .filter(|(_, v)| *v)
            .map(|(n, _)| *n)
            .collect();
        if on.is_empty() {
            "none".into()
        } else {
            on.join(".")
        }
    }

    fn classes(&self) -> String {
        self.flags()
            .iter()
            .filter(|(_, v)| *v)
            .map(|(n, _)| format!("pref-{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://[^\s<>]+[^\s<>.,;:)]").unwrap());
/// Phone numbers to make into links: UK numbers, and 999, 111 and text
/// relay's 18001.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"{}|\b(?:999|111|18001)\b",
        crate::text::UK_PHONE_PATTERN
    ))
    .unwrap()
});

/// One line of reply text as HTML: escaped, with web addresses and phone
/// numbers as links (a phone link rings on a phone).
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for m in URL.find_iter(text) {
        out.push_str(&phones(&text[last..m.start()]));
        let u = esc(m.as_str());
        let _ = write!(out, "<a href=\"{u}\">{u}</a>");
        last = m.end();
    }
    out.push_str(&phones(&text[last..]));
    out
}

/// Reply-style text (escaped, links for addresses and phone numbers) for one line.
pub(super) fn inline_text(text: &str) -> String {
    inline(text)
}

fn phones(text: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for m in PHONE.find_iter(text) {
        out.push_str(&esc(&text[last..m.start()]));
        let digits: String = m.as_str().chars().filter(|c| c.is_ascii_digit()).collect();
        // "18001" is text relay's prefix, not a number to ring on its own.
        if digits == "18001" {
            out.push_str(&esc(m.as_str()));
        } else {
            let _ = write!(out, "<a href=\"tel:{digits}\">{}</a>", esc(m.as_str()));
        }
        last = m.end();
    }
    out.push_str(&esc(&text[last..]));
    out
}

/// Reply text as HTML: paragraphs, and lists where every line starts "- ".
pub fn reply_html(text: &str) -> String {
    let mut out = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let (intro, items): (Vec<&str>, Vec<&str>) =
            lines.iter().partition(|l| !l.starts_with("- "));
        if !items.is_empty() && lines.iter().skip(intro.len()).all(|l| l.starts_with("- ")) {
            if !intro.is_empty() {
                let _ = write!(
                    out,
                    "<p>{}</p>",
                    intro
                        .iter()
                        .map(|l| inline(l))
                        .collect::<Vec<_>>()
                        .join("<br>")
                );
            }
            out.push_str("<ul>");
            for i in items {
                let _ = write!(out, "<li>{}</li>", inline(&i[2..]));
            }
            out.push_str("</ul>");
        } else {
            let _ = write!(
                out,
                "<p>{}</p>",
                lines
                    .iter()
                    .map(|l| inline(l))
                    .collect::<Vec<_>>()
                    .join("<br>")
            );
        }
    }
    out
}

/// The layout every page shares.
pub(super) fn layout(config: &Config, prefs: &Prefs, title: &str, main: &str) -> String {
    let c = &config.council;
    let page = format!(
        r##"<!DOCTYPE html>
<html lang="en-GB" class="{classes}" data-base="{base}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {council}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/app.css">{council_css}
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="banner">
  <div class="wrap">
    <p class="council-name"><a href="/">{logo}</a></p>
    <p class="service-name">Adult social care: ask a question</p>
    <nav aria-label="Help"><ul class="help-links"><li><a href="/talk-to-a-person">Talk to a person</a></li><li><a href="/#settings">Display settings</a></li></ul></nav>
  </div>
</header>
<div class="emergency"><div class="wrap"><p><strong>In an emergency:</strong> if someone is in danger now, call <a href="tel:999">999</a>. For urgent adult social care help when we are closed, call <a href="tel:{ooh_digits}">{ooh}</a>.</p></div></div>
<main id="main" class="wrap" tabindex="-1">
{main}
</main>
<footer class="footer"><div class="wrap">
  <h2 class="visually-hidden">Support links</h2>
  <ul class="footer-links">
    <li><a href="/talk-to-a-person">Talk to a person</a></li>
    <li><a href="/check-what-you-might-pay">Check what you might pay for care</a></li>
    <li><a href="/accessibility">Accessibility statement</a></li>
    <li><a href="/privacy">Privacy notice</a></li>
  </ul>
  <p>{front} {phone} ({hours}). Email <a href="mailto:{email}">{email}</a>. {relay}</p>
</div></footer>
</body>
</html>
"##,
        classes = prefs.classes(),
        title = esc(title),
        council = esc(&c.name),
        ooh = esc(&c.out_of_hours_phone),
        ooh_digits = c
            .out_of_hours_phone
            .chars()
            .filter(|d| d.is_ascii_digit())
            .collect::<String>(),
        front = esc(&c.front_door_name),
        phone = phones(&c.phone),
        hours = esc(&c.hours),
        email = esc(&c.email),
        relay = esc(&c.text_relay),
        base = esc(&config.base_path()),
        logo = esc(if config.branding.logo_text.trim().is_empty() {
            &c.name
        } else {
            config.branding.logo_text.trim()
        }),
        council_css = if config.branding.accent.trim().is_empty() {
            ""
        } else {
            "\n<link rel=\"stylesheet\" href=\"/static/council.css\">"
        },
    );
    rebase(&page, &config.base_path())
}

/// The page with its own links (`href="/…"`, `action="/…"`, `src="/…"`)
/// under `base`, for a council of several (`/c/<id>`). Text from pages and
/// residents is escaped, so only the templates' own links match.
fn rebase(page: &str, base: &str) -> String {
    if base.is_empty() {
        return page.to_string();
    }
    let mut out = page.to_string();
    for attr in ["href", "action", "src"] {
        let from = format!("{attr}=\"/");
        let to = format!("{attr}=\"{base}/");
        let mut next = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(&from) {
            next.push_str(&rest[..i]);
            let after = &rest[i + from.len()..];
            // A scheme-relative address (//host/…) is someone else's.
            if after.starts_with('/') {
                next.push_str(&from);
            } else {
                next.push_str(&to);
            }
            rest = after;
        }
        next.push_str(rest);
        out = next;
    }
    out
}

/// What the chat page shows.
pub struct ChatView<'a> {
    pub csrf: &'a str,
    pub conversation_id: &'a str,
    pub shown: &'a [Shown],
    pub error: Option<&'a str>,
    /// Text to put back in the question box (after an error).
    pub draft: &'a str,
    /// Speech input is installed: the script may show the microphone button.
    pub speech: bool,
}

fn turn_html(s: &Shown, latest: bool) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<li class=\"msg msg-user\"><h3 class=\"visually-hidden\">You said</h3><p>{}</p></li>",
        esc(&s.question)
    );
    let class = if s.route == Route::Escalate {
        "msg msg-bot msg-urgent"
    } else {
        "msg msg-bot"
    };
    let id = if latest { " id=\"latest\"" } else { "" };
    let _ = write!(
        o,
        "<li class=\"{class}\"{id}><h3 class=\"visually-hidden\">Signpost said</h3><div class=\"msg-body\">{}</div>",
        reply_html(&s.reply)
    );
    if !s.sources.is_empty() {
        o.push_str("<h4 class=\"sources-heading\">From these pages</h4><ul class=\"sources\">");
        for src in &s.sources {
            let _ = write!(
                o,
                "<li><a href=\"{}\">{}</a></li>",
                esc(&src.url),
                esc(&src.title)
            );
        }
        o.push_str("</ul>");
    }
    o.push_str("</li>");
    o
}

pub fn chat_page(config: &Config, prefs: &Prefs, v: &ChatView) -> String {
    let c = &config.council;
    let mut m = String::new();
    let _ = write!(
        m,
        r#"<h1>Ask a question about adult social care</h1>
<p id="chat-hint">{greeting} Please do not type personal details such as your name, address, phone number or NHS number: we do not need them.</p>
<section class="chat" aria-labelledby="conversation-h">
<h2 id="conversation-h" class="visually-hidden">Your conversation</h2>
<div id="transcript" role="log" aria-labelledby="conversation-h" aria-live="off">
<ol id="turns" class="turns">"#,
        greeting = if c.greeting.trim().is_empty() {
            format!(
                "Answers come from {}'s advice pages, with links to them.",
                esc(&c.name)
            )
        } else {
            esc(c.greeting.trim())
        }
    );
    let n = v.shown.len();
    for (i, s) in v.shown.iter().enumerate() {
        m.push_str(&turn_html(s, i + 1 == n));
    }
    let max = config.server.max_message_chars;
    let (error_html, invalid) = match v.error {
        Some(e) => (
            format!(
                "<p class=\"error-message\" id=\"q-error\"><span class=\"visually-hidden\">Error:</span> {}</p>",
                esc(e)
            ),
            " aria-invalid=\"true\"",
        ),
        None => (String::new(), ""),
    };
    let described = if v.error.is_some() {
        "q-error q-hint chat-hint"
    } else {
        "q-hint chat-hint"
    };
    let _ = write!(
        m,
        r#"</ol>
</div>
<div id="chat-status" role="status" class="visually-hidden"></div>
<div id="chat-error" role="alert">{error_html}</div>
<p id="mic-status" class="mic-status" role="status"></p>
<form id="ask" class="ask" method="post" action="/" novalidate data-help="{front} on {phone_text}">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="conversation_id" id="conversation_id" value="{conv}">
<div class="field{err_class}">
<label for="q" class="label">Your question</label>
<p id="q-hint" class="hint">For example: how do I get a care needs assessment? Press Enter to send, or Shift and Enter for a new line.</p>
<textarea id="q" name="q" rows="3" maxlength="{max}" aria-describedby="{described}"{invalid}>{draft}</textarea>
</div>
<div class="actions">
<button type="submit" class="button" id="send">Send</button>
<button type="button" class="button button-secondary" id="mic" hidden data-speech="{speech}" aria-pressed="false">Speak your question</button>
<button type="button" class="button button-secondary" id="stop" hidden>Stop answer</button>
<a class="button button-secondary" href="/">Start again</a>
</div>
</form>
</section>
<section class="person" aria-labelledby="person-h">
<h2 id="person-h">Talk to a person</h2>
<p>Call {front} on {phone}, {hours}. Email <a href="mailto:{email}">{email}</a>.</p>
<p><a class="link-block" href="/talk-to-a-person">Ask us to call or email you back</a></p>
</section>
<section class="tools" aria-labelledby="tools-h">
<h2 id="tools-h">Work out what you might pay</h2>
<p><a class="link-block" href="/check-what-you-might-pay">Check what you might pay for care</a>, from your savings and your home.</p>
</section>
"#,
        error_html = error_html,
        csrf = esc(v.csrf),
        conv = esc(v.conversation_id),
        err_class = if v.error.is_some() {
            " field-error"
        } else {
            ""
        },
        max = max,
        described = described,
        invalid = invalid,
        draft = esc(v.draft),
        speech = if v.speech { "on" } else { "off" },
        front = esc(&c.front_door_name),
        phone = phones(&c.phone),
        phone_text = esc(&c.phone),
        hours = esc(&c.hours),
        email = esc(&c.email),
    );
    m.push_str(&settings_html(prefs, v.csrf));
    let title = if v.error.is_some() {
        "Error: Ask a question about adult social care"
    } else {
        "Ask a question about adult social care"
    };
    layout(config, prefs, title, &m)
}

fn settings_html(prefs: &Prefs, csrf: &str) -> String {
    let mut o = String::from(
        r#"<section class="settings" aria-labelledby="settings-h" id="settings">
<h2 id="settings-h">Display and reading settings</h2>
<p>These are saved on this device only.</p>
<form id="settings-form" method="post" action="/settings">
"#,
    );
    let _ = write!(
        o,
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    );
    o.push_str("<fieldset><legend class=\"visually-hidden\">Settings</legend>");
    for (name, label, hint) in SETTINGS {
        let checked = if prefs.on(name) { " checked" } else { "" };
        // Reading aloud needs the browser's speech: the script shows it where it works.
        let needs = if name == "speak" {
            " data-needs=\"speech\" hidden"
        } else {
            ""
        };
        let _ = write!(
            o,
            "<div class=\"check\"{needs}><input type=\"checkbox\" id=\"pref-{name}\" name=\"{name}\" value=\"on\" aria-describedby=\"pref-{name}-hint\"{checked}><label for=\"pref-{name}\">{label}</label><p class=\"hint\" id=\"pref-{name}-hint\">{hint}</p></div>"
        );
    }
    o.push_str("</fieldset><button type=\"submit\" class=\"button button-secondary\">Save settings</button><p id=\"settings-status\" role=\"status\" class=\"hint\"></p></form></section>");
    o
}

/// The GOV.UK-style error summary at the top of a form: each problem links
/// to its field. Empty when there are none.
pub(super) fn error_summary(errors: &[FieldError]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut m = String::from("<div class=\"error-summary\" tabindex=\"-1\" id=\"error-summary\" aria-labelledby=\"error-summary-h\"><div role=\"alert\"><h2 id=\"error-summary-h\">There is a problem</h2><ul>");
    for e in errors {
        let _ = write!(
            m,
            "<li><a href=\"#{}\">{}</a></li>",
            e.field,
            esc(e.message)
        );
    }
    m.push_str("</ul></div></div>");
    m
}

/// A form field's hint and error message, and the attributes that tie them
/// to the control.
pub(super) struct FieldNotes {
    /// " field-error" when the field has an error, for the wrapper's class.
    pub class: &'static str,
    /// The hint and error paragraphs, to go after the label or legend.
    pub html: String,
    /// ` aria-describedby="..."`, or nothing.
    pub described: String,
    /// ` aria-invalid="true"` when the field has an error (for controls, not fieldsets).
    pub invalid: &'static str,
}

pub(super) fn field_notes(field: &str, hint: Option<&str>, errors: &[FieldError]) -> FieldNotes {
    let err = errors.iter().find(|e| e.field == field);
    let mut html = String::new();
    let mut ids = Vec::new();
    if let Some(h) = hint {
        let _ = write!(html, "<p class=\"hint\" id=\"{field}-hint\">{}</p>", esc(h));
        ids.push(format!("{field}-hint"));
    }
    if let Some(e) = err {
        let _ = write!(
            html,
            "<p class=\"error-message\" id=\"{field}-error\"><span class=\"visually-hidden\">Error:</span> {}</p>",
            esc(e.message)
        );
        ids.push(format!("{field}-error"));
    }
    FieldNotes {
        class: if err.is_some() { " field-error" } else { "" },
        html,
        described: if ids.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{}\"", ids.join(" "))
        },
        invalid: if err.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        },
    }
}

pub fn talk_page(
    config: &Config,
    prefs: &Prefs,
    csrf: &str,
    f: &CallbackForm,
    errors: &[FieldError],
) -> String {
    let c = &config.council;
    let mut m = error_summary(errors);
    let _ = write!(
        m,
        r#"<h1>Talk to a person</h1>
<p>You can talk to {front}, {hours}.</p>
<ul class="contact-list">
<li>Phone: {phone}</li>
<li>Email: <a href="mailto:{email}">{email}</a></li>
<li>{relay}</li>
</ul>
<p>If someone is in danger now, call <a href="tel:999">999</a>.</p>
<h2 id="callback-h">Ask us to call or email you back</h2>
<p>Tell us how to reach you and we will contact you. {promise} We only use these details to contact you, and we delete them after {days} days.</p>
<form method="post" action="/talk-to-a-person" novalidate aria-labelledby="callback-h">
<input type="hidden" name="csrf" value="{csrf}">
"#,
        front = esc(&c.front_door_name),
        hours = esc(&c.hours),
        phone = phones(&c.phone),
        email = esc(&c.email),
        relay = esc(&c.text_relay),
        promise = esc(&c.callback_promise),
        days = config.privacy.callback_retention_days,
        csrf = esc(csrf),
    );
    // Opens a field with its label, hint and error; returns the control's attributes.
    let field_open = |m: &mut String, field: &str, label: &str, hint: Option<&str>| -> String {
        let n = field_notes(field, hint, errors);
        let _ = write!(
            m,
            "<div class=\"field{}\"><label class=\"label\" for=\"{field}\">{label}</label>{}",
            n.class, n.html
        );
        format!("{}{}", n.described, n.invalid)
    };
    let a = field_open(&mut m, "name", "Your name", None);
    let _ = write!(
        m,
        "<input class=\"input\" type=\"text\" id=\"name\" name=\"name\" autocomplete=\"name\" spellcheck=\"false\" value=\"{}\"{a}></div>",
        esc(&f.name)
    );
    let a = field_open(
        &mut m,
        "contact",
        "Phone number or email address",
        Some("We will call a phone number, or reply to an email address."),
    );
    let _ = write!(
        m,
        "<input class=\"input\" type=\"text\" id=\"contact\" name=\"contact\" autocomplete=\"tel\" spellcheck=\"false\" value=\"{}\"{a}></div>",
        esc(&f.contact)
    );
    let a = field_open(&mut m, "best_time", "Best time to contact you", None);
    let _ = write!(
        m,
        "<select class=\"select\" id=\"best_time\" name=\"best_time\"{a}>"
    );
    let _ = write!(
        m,
        "<option value=\"\"{}>Choose a time</option>",
        if f.best_time.is_empty() {
            " selected"
        } else {
            ""
        }
    );
    for (v, label) in BEST_TIMES {
        let sel = if f.best_time == v { " selected" } else { "" };
        let _ = write!(m, "<option value=\"{v}\"{sel}>{label}</option>");
    }
    m.push_str("</select></div>");
    let a = field_open(
        &mut m,
        "question",
        "What would you like to talk about? (optional)",
        Some("A few words are enough. Do not include health details we have not asked for."),
    );
    let _ = write!(
        m,
        "<textarea class=\"textarea\" id=\"question\" name=\"question\" rows=\"4\"{a}>{}</textarea></div>",
        esc(&f.question)
    );
    m.push_str("<button type=\"submit\" class=\"button\">Send request</button></form>");
    let title = if errors.is_empty() {
        "Talk to a person"
    } else {
        "Error: Talk to a person"
    };
    layout(config, prefs, title, &m)
}

pub fn talk_done_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let m = format!(
        r#"<div class="panel"><h1>We have your request</h1><p>{promise}</p></div>
<p>If you need help sooner, call {front} on {phone}, {hours}.</p>
<p>If someone is in danger now, call <a href="tel:999">999</a>.</p>
<p><a class="link-block" href="/">Ask another question</a></p>"#,
        promise = esc(&c.callback_promise),
        front = esc(&c.front_door_name),
        phone = phones(&c.phone),
        hours = esc(&c.hours),
    );
    layout(config, prefs, "We have your request", &m)
}

/// The embed snippet, for the council's web team.
pub fn embed_page(config: &Config, prefs: &Prefs, here: &str) -> String {
    let sites = if config.embed.allowed_sites.is_empty() {
        "<p>No other site may show the chat yet. Add your website's address to <code>embed.allowed_sites</code> in Signpost's settings first.</p>".to_string()
    } else {
        let items: Vec<String> = config
            .embed
            .allowed_sites
            .iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect();
        format!(
            "<p>These sites may show the chat:</p><ul>{}</ul>",
            items.join("")
        )
    };
    let m = format!(
        r#"<h1>Put the chat on your own website</h1>
<h2>With a button that opens the chat</h2>
<p>Add this line to your pages, just before <code>&lt;/body&gt;</code>. It adds a button at the bottom of the page that opens the chat over the page.</p>
<pre><code>{script}</code></pre>
{sites}
<h2>With a plain link</h2>
<p>For pages that should not run any script, link to the chat instead:</p>
<pre><code>{link}</code></pre>"#,
        script = esc(&format!("<script src=\"{here}/embed.js\" defer></script>")),
        link = esc(&format!(
            "<a href=\"{here}/\">Ask a question about adult social care</a>"
        )),
    );
    layout(config, prefs, "Put the chat on your own website", &m)
}

pub fn problem_page(config: &Config, prefs: &Prefs, message: &str) -> String {
    let c = &config.council;
    let m = format!(
        r#"<h1>Sorry, there is a problem</h1><p>{}</p><p>You can also call {} on {}, {}.</p><p><a class="link-block" href="/">Go back to the question page</a></p>"#,
        esc(message),
        esc(&c.front_door_name),
        phones(&c.phone),
        esc(&c.hours)
    );
    layout(config, prefs, "Sorry, there is a problem", &m)
}

pub fn over_limit(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let m = format!(
        r#"<h1>Please wait a minute</h1>
<p>You have sent a lot of messages in a short time, so we have paused for a minute. This keeps the service working for everyone.</p>
<p>Please wait a minute, then <a href="/">go back to the question page</a> and try again.</p>
<p>You can also call {front} on {phone}, {hours}, or email <a href="mailto:{email}">{email}</a>.</p>
<p>If someone is in danger now, call <a href="tel:999">999</a>.</p>"#,
        front = esc(&c.front_door_name),
        phone = phones(&c.phone),
        hours = esc(&c.hours),
        email = esc(&c.email),
    );
    layout(config, prefs, "Please wait a minute", &m)
}

pub fn accessibility_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let m = format!(
        r#"<h1>Accessibility statement</h1>
<p>{council} wants as many people as possible to be able to use this question service. You should be able to:</p>
<ul>
<li>use it with a keyboard only, with a screen reader, or with voice control</li>
<li>zoom in up to 400% without text spilling off the screen</li>
<li>use it on a small phone screen</li>
<li>use it without JavaScript: the question form still works</li>
<li>make the text larger, turn on high contrast, add spacing between letters and lines, reduce motion, have answers read aloud, or ask for shorter answers, in the display settings</li>
</ul>
<p>Answers are written in plain English and always link to the page they come from.</p>
<h2>How accessible this service is</h2>
<p>We aim to meet the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA. Every change is checked automatically in a real browser with the axe accessibility tools, and with checks for keyboard use, zoom and reflow, target sizes and screen reader announcements. Automatic checks cannot find every problem, so we also test by hand.</p>
<p>We know of these limits:</p>
<ul>
<li>Reading answers aloud uses your browser's voice, so how it sounds depends on your device.</li>
<li>Links to advice pages take you to the council website, which has its own accessibility statement.</li>
</ul>
<h2>Feedback and contact information</h2>
<p>If you find a problem, or need information in a different format such as large print, easy read, audio or braille, call {front} on {phone}, {hours}, or email <a href="mailto:{email}">{email}</a>. {relay}</p>
<h2>Enforcement procedure</h2>
<p>The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with how we respond to your complaint, contact the Equality Advisory and Support Service (EASS).</p>"#,
        council = esc(&c.name),
        front = esc(&c.front_door_name),
        phone = phones(&c.phone),
        hours = esc(&c.hours),
        email = esc(&c.email),
        relay = esc(&c.text_relay),
    );
    layout(config, prefs, "Accessibility statement", &m)
}

pub fn privacy_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let p = &config.privacy;
    let storage = if p.store_conversations {
        format!("We keep a copy of questions and answers for {} days to improve our advice pages, with personal details such as phone numbers, email addresses and NHS numbers removed first. Then it is deleted.", p.retention_days)
    } else {
        format!("We do not keep your questions or our answers. They are held in the server's memory for up to {} minutes after your last message so you can ask follow-up questions, then forgotten.", config.server.conversation_ttl_minutes)
    };
    let m = format!(
        r#"<h1>Privacy notice</h1>
<p>This question service is run by {council}. It runs on the council's own computers. Your questions are not sent to any other company.</p>
<h2>What you type</h2>
<p>{storage}</p>
<p>You do not need to give personal details to ask a question. If you type details such as a phone number, email address, NHS number, National Insurance number, bank card number or home address, we remove them before anything is stored or logged, and we tell you that we did.</p>
<h2>Call-back requests</h2>
<p>If you ask us to call or email you back, we keep your name, your phone number or email address, the time you chose and what you want to talk about, so that a member of staff can contact you. Only {front} staff can see them. We delete them after {cb_days} days.</p>
<h2>Settings</h2>
<p>Your display settings are kept in a small file (a cookie) on your device. We also use a cookie that protects the forms on this site from misuse. We do not use cookies for tracking or advertising.</p>
<h2>Your rights</h2>
<p>You can ask what information we hold about you, and ask us to correct or delete it. Contact {front} on {phone} or email <a href="mailto:{email}">{email}</a>.</p>"#,
        council = esc(&c.name),
        storage = esc(&storage),
        front = esc(&c.front_door_name),
        cb_days = p.callback_retention_days,
        phone = phones(&c.phone),
        email = esc(&c.email),
    );
    layout(config, prefs, "Privacy notice", &m)
}

pub fn staff_callbacks_page(config: &Config, list: &[Callback]) -> String {
    let mut m = format!(
        "<h1>Call-back requests</h1><p>{} requests. Each is deleted {} days after it was made.</p>",
        list.len(),
        config.privacy.callback_retention_days
    );
    if !list.is_empty() {
        m.push_str("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Call-back requests\"><table><thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Name</th><th scope=\"col\">Contact</th><th scope=\"col\">Best time</th><th scope=\"col\">About</th></tr></thead><tbody>");
        for c in list {
            let best = BEST_TIMES
                .iter()
                .find(|(v, _)| *v == c.best_time)
                .map(|(_, l)| *l)
                .unwrap_or("Any time");
            let _ = write!(
                m,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.when),
                esc(&c.name),
                esc(&c.contact),
                esc(best),
                esc(&c.question)
            );
        }
        m.push_str("</tbody></table></div>");
    }
    layout(config, &Prefs::default(), "Call-back requests", &m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let h = reply_html(
            "Call 01632 960100 or see https://www.northbay.example/care.\n\n- one <b>\n- two",
        );
        assert!(
            h.contains("<a href=\"tel:01632960100\">01632 960100</a>"),
            "{h}"
        );
        assert!(
            h.contains("<a href=\"https://www.northbay.example/care\">"),
            "{h}"
        );
        assert!(
            h.contains("<ul><li>one &lt;b&gt;</li><li>two</li></ul>"),
            "{h}"
        );
    }

    #[test]
    fn prefs_round_trip_through_the_cookie() {
        let p = Prefs {
            contrast: true,
            short: true,
            ..Prefs::default()
        };
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            format!("{PREFS_COOKIE}={}", p.cookie_value())
                .parse()
                .unwrap(),
        );
        assert_eq!(Prefs::from_headers(&h), p);
        assert_eq!(p.classes(), "pref-contrast pref-short");
        assert_eq!(Prefs::default().cookie_value(), "none");
    }
}
