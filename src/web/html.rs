//! The pages, from compile-time askama templates in `templates/` that
//! escape every value by construction. One layout for every page keeps the
//! emergency line, the "Talk to a person" route and the footer in the same
//! place everywhere (WCAG 3.2.6). Reply text is split into pieces (words,
//! web addresses, phone numbers) and the templates make the links.

use std::sync::LazyLock;

use askama::Template;
use axum::http::HeaderMap;
use regex::Regex;

use super::{CallbackForm, FieldError, BEST_TIMES, PREFS_COOKIE};
use crate::config::Config;
use crate::pipeline::Route;
use crate::service::Shown;
use crate::store::Callback;

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

/// A piece of a line of text: words, a web address or a phone number (the
/// last two become links; a phone link rings on a phone).
pub enum Seg {
    Text(String),
    Url(String),
    Phone(String, String),
}

/// One line of text, in pieces for the templates to escape.
pub struct Line {
    pub segs: Vec<Seg>,
}

/// A paragraph of lines, or a list (with the lines that introduce it).
pub enum Block {
    Para(Vec<Line>),
    List(Vec<Line>, Vec<Line>),
}

/// A line of text with its web addresses and phone numbers found.
pub fn line(text: &str) -> Line {
    let mut segs = Vec::new();
    let mut last = 0;
    for m in URL.find_iter(text) {
        phone_segs(&text[last..m.start()], &mut segs);
        segs.push(Seg::Url(m.as_str().to_string()));
        last = m.end();
    }
    phone_segs(&text[last..], &mut segs);
    Line { segs }
}

fn phone_segs(text: &str, segs: &mut Vec<Seg>) {
    let mut last = 0;
    for m in PHONE.find_iter(text) {
        if m.start() > last {
            segs.push(Seg::Text(text[last..m.start()].to_string()));
        }
        let digits: String = m.as_str().chars().filter(|c| c.is_ascii_digit()).collect();
        // "18001" is text relay's prefix, not a number to ring on its own.
        if digits == "18001" {
            segs.push(Seg::Text(m.as_str().to_string()));
        } else {
            segs.push(Seg::Phone(m.as_str().to_string(), digits));
        }
        last = m.end();
    }
    if last < text.len() {
        segs.push(Seg::Text(text[last..].to_string()));
    }
}

/// Reply text as blocks: paragraphs, and lists where every line starts "- ".
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let (intro, items): (Vec<&str>, Vec<&str>) =
            lines.iter().partition(|l| !l.starts_with("- "));
        if !items.is_empty() && lines.iter().skip(intro.len()).all(|l| l.starts_with("- ")) {
            out.push(Block::List(
                intro.iter().map(|l| line(l)).collect(),
                items.iter().map(|l| line(&l[2..])).collect(),
            ));
        } else {
            out.push(Block::Para(lines.iter().map(|l| line(l)).collect()));
        }
    }
    out
}

#[derive(Template)]
#[template(
    source = "{% import \"macros.html\" as m %}{% call m::reply(blocks) %}{% endcall %}",
    ext = "html"
)]
struct ReplyHtml<'a> {
    blocks: &'a [Block],
}

#[derive(Template)]
#[template(
    source = "{% import \"macros.html\" as m %}{% call m::line(l) %}{% endcall %}",
    ext = "html"
)]
struct LineHtml<'a> {
    l: &'a Line,
}

/// A template's output; a template that fails to render (it cannot, with
/// these types) gives an empty string rather than a half page.
fn render(t: &impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page template failed");
        String::new()
    })
}

/// Reply text as HTML: paragraphs, lists, links; every piece escaped.
#[cfg(test)]
fn reply_html(text: &str) -> String {
    render(&ReplyHtml {
        blocks: &blocks(text),
    })
}

/// One line of text as HTML (escaped, links for addresses and phone numbers).
#[cfg(test)]
fn inline_text(text: &str) -> String {
    render(&LineHtml { l: &line(text) })
}

/// A link the council adds to every page's footer (`branding.footer_links`).
pub use crate::config::FooterLink;

/// The layout every page shares: the council's name and colour, the
/// emergency line, "Talk to a person" and the footer in the same place on
/// every page (WCAG 3.2.6).
#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    classes: String,
    base: String,
    title: &'a str,
    council: &'a str,
    logo: &'a str,
    council_css: bool,
    ooh: &'a str,
    ooh_digits: String,
    front: &'a str,
    phone: Line,
    hours: &'a str,
    email: &'a str,
    relay: &'a str,
    footer_links: &'a [FooterLink],
    main: &'a str,
}

/// A page: its main part (already rendered by its own template) in the layout.
pub(super) fn layout(config: &Config, prefs: &Prefs, title: &str, main: &str) -> String {
    let c = &config.council;
    let b = &config.branding;
    render(&Layout {
        classes: prefs.classes(),
        base: config.base_path(),
        title,
        council: &c.name,
        logo: if b.logo_text.trim().is_empty() {
            &c.name
        } else {
            b.logo_text.trim()
        },
        council_css: !b.accent.trim().is_empty(),
        ooh: &c.out_of_hours_phone,
        ooh_digits: c
            .out_of_hours_phone
            .chars()
            .filter(|d| d.is_ascii_digit())
            .collect(),
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
        email: &c.email,
        relay: &c.text_relay,
        footer_links: &b.footer_links,
        main,
    })
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

/// One exchange of the conversation, for the template.
struct Turn<'a> {
    question: &'a str,
    urgent: bool,
    reply: Vec<Block>,
    sources: &'a [crate::pipeline::Source],
}

/// One display setting, for the template.
struct Setting {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    on: bool,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatBody<'a> {
    base: String,
    council: &'a str,
    greeting: Option<&'a str>,
    turns: Vec<Turn<'a>>,
    error: Option<&'a str>,
    csrf: &'a str,
    conversation_id: &'a str,
    max: usize,
    draft: &'a str,
    speech: bool,
    front: &'a str,
    phone: Line,
    phone_text: &'a str,
    hours: &'a str,
    email: &'a str,
    settings: Vec<Setting>,
}

pub fn chat_page(config: &Config, prefs: &Prefs, v: &ChatView) -> String {
    let c = &config.council;
    let body = ChatBody {
        base: config.base_path(),
        council: &c.name,
        greeting: Some(c.greeting.trim()).filter(|g| !g.is_empty()),
        turns: v
            .shown
            .iter()
            .map(|s| Turn {
                question: &s.question,
                urgent: s.route == Route::Escalate,
                reply: blocks(&s.reply),
                sources: &s.sources,
            })
            .collect(),
        error: v.error,
        csrf: v.csrf,
        conversation_id: v.conversation_id,
        max: config.server.max_message_chars,
        draft: v.draft,
        speech: v.speech,
        front: &c.front_door_name,
        phone: line(&c.phone),
        phone_text: &c.phone,
        hours: &c.hours,
        email: &c.email,
        settings: SETTINGS
            .iter()
            .map(|&(name, label, hint)| Setting {
                name,
                label,
                hint,
                on: prefs.on(name),
            })
            .collect(),
    };
    let title = if v.error.is_some() {
        "Error: Ask a question about adult social care"
    } else {
        "Ask a question about adult social care"
    };
    layout(config, prefs, title, &render(&body))
}

/// A form field's hint and error, for the templates.
pub(super) struct Notes {
    pub field: &'static str,
    pub hint: Option<&'static str>,
    pub error: Option<&'static str>,
    /// " field-error" when the field has an error, for the wrapper's class.
    pub class: &'static str,
}

impl Notes {
    pub fn new(field: &'static str, hint: Option<&'static str>, errors: &[FieldError]) -> Notes {
        let error = errors.iter().find(|e| e.field == field).map(|e| e.message);
        Notes {
            field,
            hint,
            error,
            class: if error.is_some() { " field-error" } else { "" },
        }
    }

    /// The control's `aria-describedby`. Made only of field names, never
    /// of anything a person typed.
    pub fn described(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.field));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.field));
        }
        if ids.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{}\"", ids.join(" "))
        }
    }

    /// The control's `aria-describedby` and `aria-invalid`.
    pub fn attributes(&self) -> String {
        let mut out = self.described();
        if self.error.is_some() {
            out.push_str(" aria-invalid=\"true\"");
        }
        out
    }
}

#[derive(Template)]
#[template(path = "talk.html")]
struct TalkBody<'a> {
    base: String,
    errors: &'a [FieldError],
    front: &'a str,
    hours: &'a str,
    phone: Line,
    email: &'a str,
    relay: &'a str,
    promise: &'a str,
    days: u32,
    csrf: &'a str,
    form: &'a CallbackForm,
    name: Notes,
    contact: Notes,
    best_time: Notes,
    question: Notes,
    times: &'static [(&'static str, &'static str)],
}

pub fn talk_page(
    config: &Config,
    prefs: &Prefs,
    csrf: &str,
    f: &CallbackForm,
    errors: &[FieldError],
) -> String {
    let c = &config.council;
    let body = TalkBody {
        base: config.base_path(),
        errors,
        front: &c.front_door_name,
        hours: &c.hours,
        phone: line(&c.phone),
        email: &c.email,
        relay: &c.text_relay,
        promise: &c.callback_promise,
        days: config.privacy.callback_retention_days,
        csrf,
        form: f,
        name: Notes::new("name", None, errors),
        contact: Notes::new(
            "contact",
            Some("We will call a phone number, or reply to an email address."),
            errors,
        ),
        best_time: Notes::new("best_time", None, errors),
        question: Notes::new(
            "question",
            Some("A few words are enough. Do not include health details we have not asked for."),
            errors,
        ),
        times: &BEST_TIMES,
    };
    let title = if errors.is_empty() {
        "Talk to a person"
    } else {
        "Error: Talk to a person"
    };
    layout(config, prefs, title, &render(&body))
}

/// The council's contacts, for the short pages that give them.
#[derive(Template)]
#[template(path = "talk_done.html")]
struct TalkDone<'a> {
    base: String,
    promise: &'a str,
    front: &'a str,
    phone: Line,
    hours: &'a str,
}

pub fn talk_done_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let body = TalkDone {
        base: config.base_path(),
        promise: &c.callback_promise,
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
    };
    layout(config, prefs, "We have your request", &render(&body))
}

#[derive(Template)]
#[template(path = "embed.html")]
struct EmbedBody<'a> {
    here: &'a str,
    sites: &'a [String],
}

/// The embed snippet, for the council's web team.
pub fn embed_page(config: &Config, prefs: &Prefs, here: &str) -> String {
    let body = EmbedBody {
        here,
        sites: &config.embed.allowed_sites,
    };
    layout(
        config,
        prefs,
        "Put the chat on your own website",
        &render(&body),
    )
}

#[derive(Template)]
#[template(path = "problem.html")]
struct Problem<'a> {
    base: String,
    message: &'a str,
    front: &'a str,
    phone: Line,
    hours: &'a str,
}

pub fn problem_page(config: &Config, prefs: &Prefs, message: &str) -> String {
    let c = &config.council;
    let body = Problem {
        base: config.base_path(),
        message,
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
    };
    layout(config, prefs, "Sorry, there is a problem", &render(&body))
}

#[derive(Template)]
#[template(path = "over_limit.html")]
struct OverLimit<'a> {
    base: String,
    front: &'a str,
    phone: Line,
    hours: &'a str,
    email: &'a str,
}

pub fn over_limit(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let body = OverLimit {
        base: config.base_path(),
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
        email: &c.email,
    };
    layout(config, prefs, "Please wait a minute", &render(&body))
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct Accessibility<'a> {
    council: &'a str,
    front: &'a str,
    phone: Line,
    hours: &'a str,
    email: &'a str,
    relay: &'a str,
}

pub fn accessibility_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let body = Accessibility {
        council: &c.name,
        front: &c.front_door_name,
        phone: line(&c.phone),
        hours: &c.hours,
        email: &c.email,
        relay: &c.text_relay,
    };
    layout(config, prefs, "Accessibility statement", &render(&body))
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy<'a> {
    council: &'a str,
    store: bool,
    retention_days: u32,
    ttl_minutes: u64,
    front: &'a str,
    callback_days: u32,
    phone: Line,
    email: &'a str,
}

pub fn privacy_page(config: &Config, prefs: &Prefs) -> String {
    let c = &config.council;
    let p = &config.privacy;
    let body = Privacy {
        council: &c.name,
        store: p.store_conversations,
        retention_days: p.retention_days,
        ttl_minutes: config.server.conversation_ttl_minutes,
        front: &c.front_door_name,
        callback_days: p.callback_retention_days,
        phone: line(&c.phone),
        email: &c.email,
    };
    layout(config, prefs, "Privacy notice", &render(&body))
}

#[derive(Template)]
#[template(path = "staff_callbacks.html")]
struct StaffCallbacks<'a> {
    list: Vec<(&'a Callback, &'static str)>,
    days: u32,
}

pub fn staff_callbacks_page(config: &Config, list: &[Callback]) -> String {
    let body = StaffCallbacks {
        list: list
            .iter()
            .map(|c| {
                let best = BEST_TIMES
                    .iter()
                    .find(|(v, _)| *v == c.best_time)
                    .map(|(_, l)| *l)
                    .unwrap_or("Any time");
                (c, best)
            })
            .collect(),
        days: config.privacy.callback_retention_days,
    };
    layout(
        config,
        &Prefs::default(),
        "Call-back requests",
        &render(&body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_links() {
        let h = inline_text("<a href=\"x\">&'");
        assert!(!h.contains('<') && !h.contains('"'), "{h}");
        assert!(
            h.starts_with("&#60;a href=") || h.starts_with("&lt;a href="),
            "{h}"
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
            h.contains("<ul><li>one &#60;b&#62;</li><li>two</li></ul>"),
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
