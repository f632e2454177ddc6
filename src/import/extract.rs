//! Turning one council web page into a Signpost page: the extraction
//! profile is detected (LocalGov Drupal, GOV.UK Frontend, or a
//! readability-style fallback) and recorded; page furniture is removed
//! (cookie banners, navigation, breadcrumbs, feedback forms, related links,
//! alert banners, footers); headings, lists, tables, accordions and
//! "read more" panels (as headings) and link text are kept; and the front
//! matter is filled from the page, noting where each value came from.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

/// Which markup the page was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    LocalGovDrupal,
    GovukFrontend,
    Generic,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::LocalGovDrupal => "localgov-drupal",
            Profile::GovukFrontend => "govuk-frontend",
            Profile::Generic => "generic",
        }
    }
}

/// A contact found on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundContact {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Why a page is held back for a person to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    NearlyEmpty(usize),
    NeedsJavaScript,
    TemplateBraces,
    Boilerplate,
    NeedsOcr,
}

impl Flag {
    pub fn describe(&self) -> String {
        match self {
            Flag::NearlyEmpty(n) => format!("nearly empty ({n} words)"),
            Flag::NeedsJavaScript => "needs JavaScript to show its content".into(),
            Flag::TemplateBraces => {
                "shows template braces ({{ … }}): part of it is built by script".into()
            }
            Flag::Boilerplate => "repeats text found on most other pages".into(),
            Flag::NeedsOcr => "a scanned document with no text (needs OCR)".into(),
        }
    }
}

/// One page, read.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub profile: Profile,
    pub title: String,
    pub summary: String,
    /// The page's own address (its canonical link, else where it was fetched).
    pub url: Url,
    pub body: String,
    pub breadcrumbs: Vec<String>,
    /// `YYYY-MM-DD` from the page itself, if it says.
    pub reviewed: Option<String>,
    pub contacts: Vec<FoundContact>,
    /// Every link on the page (for the crawl), absolute.
    pub links: Vec<Url>,
    /// Linked documents (PDFs), absolute, with their link text.
    pub documents: Vec<(Url, String)>,
    pub flags: Vec<Flag>,
    /// Where each front-matter value came from ("title" -> "h1", ...).
    pub origins: BTreeMap<String, String>,
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

static MONTH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:last updated|last reviewed|page last reviewed|last modified|page last updated|updated)\s*(?:on)?\s*:?\s*(\d{1,2})(?:st|nd|rd|th)?\s+(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{4})").unwrap()
});
static BRACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{\{[^}]*\}\}").unwrap());
static RELATIVE_LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\]\(([^)\s]+)\)").unwrap());

/// Furniture removed inside the content on every profile.
const FURNITURE: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "form",
    "nav",
    "header",
    "footer",
    "aside",
    "iframe",
    "svg",
    "button.eu-cookie-withdraw-tab",
    ".eu-cookie-compliance-banner",
    ".govuk-cookie-banner",
    "[data-nosnippet]",
    ".cookie-banner",
    "#cookie-banner",
    ".skip-link",
    ".govuk-skip-link",
    ".visually-hidden",
    ".govuk-visually-hidden",
    ".breadcrumbs",
    ".govuk-breadcrumbs",
    ".govuk-back-link",
    ".govuk-phase-banner",
    ".govuk-exit-this-page",
    ".govuk-pagination",
    ".govuk-tabs__list",
    ".lgd-page-title-block",
    ".lgd-guide-nav",
    ".localgov-page-feedback",
    ".page-feedback",
    ".app-feedback",
    ".feedback",
    ".localgov-alert-banner",
    ".alert-banner",
    ".related-links",
    ".localgov-related-links",
    ".step--prev",
    ".step--next",
    ".lgd-prev-next",
    "[role=navigation]",
    "[role=search]",
    "[hidden]",
    "[aria-hidden=true]",
];

/// Reads one HTML page fetched from `fetched_url`.
pub fn extract(html: &str, fetched_url: &Url) -> Extracted {
    let doc = Html::parse_document(html);
    let mut origins = BTreeMap::new();
    let profile = detect(&doc);
    origins.insert("profile".to_string(), profile.name().to_string());

    let text_of = |e: ElementRef| -> String { squash(&e.text().collect::<String>()) };
    let first_text = |selector: &str| -> Option<String> {
        doc.select(&sel(selector))
            .map(text_of)
            .find(|t| !t.is_empty())
    };
    let meta = |name: &str| -> Option<String> {
        doc.select(&sel(&format!(
            "meta[name=\"{name}\"], meta[property=\"{name}\"]"
        )))
        .filter_map(|m| m.value().attr("content"))
        .map(squash)
        .find(|t| !t.is_empty())
    };

    // The page's address.
    let url = doc
        .select(&sel("link[rel=canonical]"))
        .filter_map(|l| l.value().attr("href"))
        .filter_map(|h| fetched_url.join(h).ok())
        .next()
        .inspect(|_| {
            origins.insert("url".into(), "canonical link".into());
        })
        .unwrap_or_else(|| {
            origins.insert("url".into(), "address fetched".into());
            fetched_url.clone()
        });

    // Title.
    let (title_sel, lede_sel) = match profile {
        Profile::LocalGovDrupal => (
            "h1.lgd-page-title-block__title",
            "p.lgd-page-title-block__subheader",
        ),
        Profile::GovukFrontend => ("main h1", "main p.govuk-body-l"),
        Profile::Generic => ("main h1", "main p.lede, main p.lead, main .intro p"),
    };
    let title = match first_text(title_sel).or_else(|| first_text("h1")) {
        Some(t) => {
            origins.insert("title".into(), "h1".into());
            t
        }
        None => {
            origins.insert("title".into(), "title element".into());
            let t = first_text("title").unwrap_or_default();
            [" | ", " - ", " – "]
                .iter()
                .fold(t.as_str(), |t, sep| t.split(sep).next().unwrap_or(t))
                .trim()
                .to_string()
        }
    };

    // Content root.
    let root_html = match profile {
        Profile::Generic if doc.select(&sel("main, [role=main]")).next().is_none() => {
            origins.insert("body".into(), "readability".into());
            readability(html, fetched_url)
        }
        _ => {
            origins.insert("body".into(), "main".into());
            doc.select(&sel("main, [role=main]"))
                .next()
                .or_else(|| doc.select(&sel("body")).next())
                .map(|e| e.html())
                .unwrap_or_default()
        }
    };
    let root_doc = Html::parse_fragment(&root_html);

    // Summary: the lede, else the meta description, else the first sentence.
    let lede = if lede_sel.is_empty() {
        None
    } else {
        first_text(lede_sel)
    };
    // Breadcrumbs, without "Home" and the page itself.
    let breadcrumbs: Vec<String> = doc
        .select(&sel(
            ".breadcrumbs__item, .govuk-breadcrumbs__list-item, nav[aria-label*=readcrumb] li",
        ))
        .map(text_of)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("home") && *t != title)
        .collect();
    if !breadcrumbs.is_empty() {
        origins.insert("topics".into(), "breadcrumbs".into());
    }

    // Links and documents, from the whole page (the crawl is bounded by prefix).
    let mut links = Vec::new();
    let mut documents = Vec::new();
    for a in doc.select(&sel("a[href]")) {
        let href = a.value().attr("href").unwrap_or("");
        // Links lead the crawl from where the page was fetched.
        let Ok(u) = fetched_url.join(href) else {
            continue;
        };
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        if u.path().to_ascii_lowercase().ends_with(".pdf") {
            let mut u = u.clone();
            u.set_fragment(None);
            if !documents.iter().any(|(d, _)| *d == u) {
                documents.push((u, text_of(a)));
            }
        } else {
            links.push(u);
        }
    }

    // Contacts: phone and email links in the content and any contact block.
    let contacts = contacts(&doc, &title);
    if !contacts.is_empty() {
        origins.insert("contacts".into(), "tel: and mailto: links".into());
    }

    // The body, as Markdown.
    let simplified = simplify(&root_doc, &title, lede.as_deref());
    let mut body = to_markdown(&simplified, &url);
    // A visible "last updated" line dates the page (and is not content).
    let mut reviewed = None;
    if let Some(c) = MONTH_DATE.captures(&body) {
        reviewed = date_from(&c[1], &c[2], &c[3]);
        let whole = c.get(0).map(|m| m.as_str().to_string()).unwrap_or_default();
        body = body
            .lines()
            .filter(|l| !l.contains(&whole))
            .collect::<Vec<_>>()
            .join("\n");
        origins.insert("last_reviewed".into(), "visible 'last updated' line".into());
    }
    if reviewed.is_none() {
        if let Some(d) = json_ld_date(&doc) {
            reviewed = Some(d);
            origins.insert("last_reviewed".into(), "JSON-LD dateModified".into());
        } else if let Some(d) = meta("article:modified_time").and_then(|t| iso_date(&t)) {
            reviewed = Some(d);
            origins.insert("last_reviewed".into(), "article:modified_time".into());
        }
    }
    let body = tidy(&body);
    let summary = match lede {
        Some(l) => {
            origins.insert("summary".into(), "lede".into());
            l
        }
        None => match meta("description") {
            Some(d) => {
                origins.insert("summary".into(), "meta description".into());
                d
            }
            None => {
                origins.insert("summary".into(), "first sentence".into());
                first_sentence(&body)
            }
        },
    };

    // Flags.
    let words = crate::text::word_count(&strip_markdown(&body));
    let mut flags = Vec::new();
    let page_text = doc.root_element().text().collect::<String>().to_lowercase();
    let scripted = page_text.contains("enable javascript")
        || page_text.contains("javascript is required")
        || page_text.contains("javascript to run this app");
    if scripted && words < 80 {
        flags.push(Flag::NeedsJavaScript);
    } else if words < 40 {
        flags.push(Flag::NearlyEmpty(words));
    }
    if BRACES.is_match(&body) || BRACES.is_match(&title) {
        flags.push(Flag::TemplateBraces);
    }

    Extracted {
        profile,
        title,
        summary,
        url,
        body,
        breadcrumbs,
        reviewed,
        contacts,
        links,
        documents,
        flags,
        origins,
    }
}

/// LocalGov Drupal by its generator tag or class names; GOV.UK Frontend by
/// its template classes; else the generic reader.
fn detect(doc: &Html) -> Profile {
    let generator = doc
        .select(&sel("meta[name=Generator], meta[name=generator]"))
        .filter_map(|m| m.value().attr("content"))
        .collect::<String>();
    if generator.contains("LocalGov Drupal")
        || doc
            .select(&sel(
                ".lgd-page-title-block, .lgd-header, main.main#main-content",
            ))
            .next()
            .is_some()
    {
        Profile::LocalGovDrupal
    } else if doc
        .select(&sel(
            "html.govuk-template, main.govuk-main-wrapper, body.govuk-template__body",
        ))
        .next()
        .is_some()
    {
        Profile::GovukFrontend
    } else {
        Profile::Generic
    }
}

/// The main content of a page with no `main`, by a Readability port.
fn readability(html: &str, url: &Url) -> String {
    match dom_smoothie::Readability::new(html, Some(url.as_str()), None).and_then(|mut r| r.parse())
    {
        Ok(article) => article.content.to_string(),
        Err(_) => String::new(),
    }
}

/// The content as simple HTML for the Markdown converter: furniture gone,
/// the title and lede left out (they go in the front matter), accordion and
/// "read more" titles as headings, buttons as their text, phone and email
/// links as their text, images as their alt text.
fn simplify(root: &Html, title: &str, lede: Option<&str>) -> String {
    let mut skip = std::collections::HashSet::new();
    for s in FURNITURE {
        for e in root.select(&sel(s)) {
            skip.insert(e.id());
        }
    }
    let mut out = String::new();
    for child in root.root_element().children() {
        walk(child, &skip, title, lede, &mut out);
    }
    out
}

fn walk(
    node: ego_tree::NodeRef<'_, Node>,
    skip: &std::collections::HashSet<ego_tree::NodeId>,
    title: &str,
    lede: Option<&str>,
    out: &mut String,
) {
    if skip.contains(&node.id()) {
        return;
    }
    match node.value() {
        Node::Text(t) => out.push_str(&crate::text::escape_html(t)),
        Node::Element(e) => {
            let el = ElementRef::wrap(node).unwrap();
            let name = e.name();
            let text = squash(&el.text().collect::<String>());
            // The title and lede are front matter, not body.
            if name == "h1" && text == title {
                return;
            }
            if name == "p" && lede.is_some_and(|l| text == l) {
                return;
            }
            let class = e.attr("class").unwrap_or("");
            let (open, close): (String, String) = match name {
                "summary" => ("<h3>".into(), "</h3>".into()),
                "details" | "section" | "article" | "main" | "div" | "span" | "button"
                | "label" | "fieldset" | "figure" | "figcaption" | "dl" => {
                    (String::new(), String::new())
                }
                "dt" => ("<p><strong>".into(), "</strong></p>".into()),
                "dd" => ("<p>".into(), "</p>".into()),
                "img" => {
                    if let Some(alt) = e.attr("alt").filter(|a| !a.trim().is_empty()) {
                        out.push_str(&crate::text::escape_html(alt));
                    }
                    return;
                }
                "a" => {
                    let href = e.attr("href").unwrap_or("");
                    if href.starts_with("tel:")
                        || href.starts_with("mailto:")
                        || href.starts_with('#')
                    {
                        (String::new(), String::new())
                    } else {
                        (
                            format!("<a href=\"{}\">", crate::text::escape_html(href)),
                            "</a>".into(),
                        )
                    }
                }
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                    // Accordion and tab titles stay headings.
                    let level = if class.contains("accordion") {
                        "h3"
                    } else {
                        name
                    };
                    (format!("<{level}>"), format!("</{level}>"))
                }
                "td" | "th" => {
                    let span = e
                        .attr("colspan")
                        .map(|c| format!(" colspan=\"{c}\""))
                        .unwrap_or_default();
                    // A row's own heading in the table body is a cell of
                    // that row (the converter would drop it); a first row of
                    // headings with no <thead> is the header row.
                    let in_body = el
                        .ancestors()
                        .filter_map(ElementRef::wrap)
                        .any(|a| a.value().name() == "tbody");
                    let row = el
                        .ancestors()
                        .filter_map(ElementRef::wrap)
                        .find(|a| a.value().name() == "tr");
                    let header_row = row.is_some_and(|r| {
                        let first = r
                            .prev_siblings()
                            .filter_map(ElementRef::wrap)
                            .all(|s| s.value().name() != "tr");
                        let no_thead = el
                            .ancestors()
                            .filter_map(ElementRef::wrap)
                            .find(|a| a.value().name() == "table")
                            .is_none_or(|t| t.select(&sel("thead")).next().is_none());
                        first
                            && no_thead
                            && r.children()
                                .filter_map(ElementRef::wrap)
                                .all(|c| c.value().name() == "th")
                    });
                    let tag = if in_body && !header_row { "td" } else { name };
                    (format!("<{tag}{span}>"), format!("</{tag}>"))
                }
                "br" => {
                    out.push_str("<br>");
                    return;
                }
                _ => (format!("<{name}>"), format!("</{name}>")),
            };
            out.push_str(&open);
            for c in node.children() {
                walk(c, skip, title, lede, out);
            }
            out.push_str(&close);
            if matches!(name, "div" | "section" | "details" | "dd" | "dt") {
                out.push('\n');
            }
        }
        _ => {}
    }
}

/// HTML to Markdown, links made absolute.
fn to_markdown(html: &str, base: &Url) -> String {
    let options = htmd::options::Options {
        bullet_list_marker: htmd::options::BulletListMarker::Dash,
        ul_bullet_spacing: 1,
        ol_number_spacing: 1,
        ..Default::default()
    };
    let converter = htmd::HtmlToMarkdown::builder().options(options).build();
    let md = converter.convert(html).unwrap_or_default();
    RELATIVE_LINK
        .replace_all(&md, |c: &regex::Captures| match base.join(&c[1]) {
            Ok(u) => format!("]({u})"),
            Err(_) => c[0].to_string(),
        })
        .to_string()
}

/// Trailing spaces and runs of blank lines removed.
fn tidy(md: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in md.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// Phone and email links, named by the strongest text before them in their
/// paragraph (a team name in bold, or the words leading up to the link).
fn contacts(doc: &Html, title: &str) -> Vec<FoundContact> {
    let mut out: Vec<FoundContact> = Vec::new();
    for a in doc.select(&sel("main a[href^='tel:'], main a[href^='mailto:'], aside a[href^='tel:'], aside a[href^='mailto:']")) {
        let href = a.value().attr("href").unwrap_or("");
        let shown = squash(&a.text().collect::<String>());
        let block = a
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|e| matches!(e.value().name(), "p" | "li" | "td" | "dd" | "div" | "tr"));
        let name = block
            .and_then(|b| b.select(&sel("strong, b")).next())
            .map(|s| squash(&s.text().collect::<String>()))
            .filter(|s| !s.is_empty())
            .or_else(|| {
                let b = block?;
                let text = squash(&b.text().collect::<String>());
                contact_name(text.split(&shown).next().unwrap_or(""))
            })
            .unwrap_or_else(|| title.to_string());
        let (phone, email) = if let Some(t) = href.strip_prefix("tel:") {
            let shown_digits: String = shown.chars().filter(char::is_ascii_digit).collect();
            (
                Some(if shown_digits.len() >= 6 { shown.clone() } else { t.to_string() }),
                None,
            )
        } else {
            (None, Some(href.trim_start_matches("mailto:").to_string()))
        };
        match out.iter_mut().find(|c| c.name == name) {
            Some(c) if c.phone.is_none() && phone.is_some() => c.phone = phone,
            Some(c) if c.email.is_none() && email.is_some() => c.email = email,
            Some(_) => {}
            None => {
                if !out.iter().any(|c| c.phone.is_some() && c.phone == phone && phone.is_some()) {
                    out.push(FoundContact { name, phone, email });
                }
            }
        }
    }
    out
}

/// The name of whoever a number or address belongs to, from the words
/// before it: the last clause, after "phone", "call" or "contact", without
/// "the" and a trailing "on" ("If you can't find it, phone the Wrenfield
/// Care Line on" -> "Wrenfield Care Line"). Where that clause names no one
/// ("call them on", "or email"), the last proper name before it is used
/// ("...by our Financial Assessment and Benefits Team. You can call them
/// on" -> "Financial Assessment and Benefits Team").
fn contact_name(before: &str) -> Option<String> {
    // "Blue Badge team: 0118..." is labelled by the words before the colon.
    let before = before.trim_end().trim_end_matches([':', '-']).trim_end();
    let clause = before
        .rsplit([',', '.', ';', ':', '(', ')'])
        .next()
        .unwrap_or("")
        .trim();
    let verbs = [
        " phone ",
        " call ",
        " ring ",
        " contact ",
        " text ",
        " email ",
    ];
    let lower = format!(" {}", clause.to_lowercase());
    let start = verbs
        .iter()
        .filter_map(|v| lower.rfind(v).map(|i| (i + v.len()).saturating_sub(1)))
        .max()
        .unwrap_or(0)
        .min(clause.len());
    let mut name = clause.get(start..).unwrap_or("").trim();
    for end in [" on", " at", " by", " via", " number"] {
        name = name.strip_suffix(end).unwrap_or(name).trim();
    }
    for lead in ["the ", "The ", "our ", "Our "] {
        name = name.strip_prefix(lead).unwrap_or(name).trim();
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let names_no_one = words.is_empty()
        || words.iter().all(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "them"
                    | "us"
                    | "we"
                    | "it"
                    | "him"
                    | "her"
                    | "me"
                    | "you"
                    | "or"
                    | "and"
                    | "on"
                    | "phone"
                    | "call"
                    | "email"
                    | "text"
                    | "ring"
                    | "contact"
                    | "this"
                    | "that"
                    | "number"
                    | "by"
            )
        });
    if !names_no_one && words.len() <= 8 {
        return Some(words.join(" "));
    }
    proper_name(before)
}

/// The last run of two or more capitalised words (joined by "and", "of" or
/// "for") in `text`, without a leading "The" or "Our".
fn proper_name(text: &str) -> Option<String> {
    fn capital(w: &str) -> bool {
        w.chars().next().is_some_and(char::is_uppercase)
    }
    fn close<'a>(run: &mut Vec<&'a str>, best: &mut Option<Vec<&'a str>>) {
        while run.last().is_some_and(|w| !capital(w)) {
            run.pop();
        }
        while run
            .first()
            .is_some_and(|w| matches!(*w, "The" | "Our" | "If" | "You" | "We"))
        {
            run.remove(0);
        }
        if run.iter().filter(|w| capital(w)).count() >= 2 {
            *best = Some(run.clone());
        }
        run.clear();
    }
    let mut best: Option<Vec<&str>> = None;
    let mut run: Vec<&str> = Vec::new();
    for raw in text.split_whitespace() {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '&');
        let ends = raw.ends_with(['.', ',', ';', ':', '!', '?', ')']);
        if !w.is_empty()
            && (capital(w) || (!run.is_empty() && matches!(w, "and" | "of" | "for" | "&")))
        {
            run.push(w);
        } else {
            close(&mut run, &mut best);
        }
        if ends {
            close(&mut run, &mut best);
        }
    }
    close(&mut run, &mut best);
    best.filter(|b| b.len() <= 8).map(|b| b.join(" "))
}

fn json_ld_date(doc: &Html) -> Option<String> {
    for s in doc.select(&sel("script[type='application/ld+json']")) {
        let text: String = s.text().collect();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(d) = m.get("dateModified").and_then(|d| d.as_str()) {
                        if let Some(d) = iso_date(d) {
                            return Some(d);
                        }
                    }
                    stack.extend(m.into_iter().map(|(_, v)| v));
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
    None
}

/// The `YYYY-MM-DD` at the start of an ISO date or date-time.
pub fn iso_date(s: &str) -> Option<String> {
    let d = s.trim().get(..10)?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(d, &fmt).ok().map(|_| d.to_string())
}

fn date_from(day: &str, month: &str, year: &str) -> Option<String> {
    let m = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
    .iter()
    .position(|m| m.eq_ignore_ascii_case(month))?
        + 1;
    let day: u8 = day.parse().ok()?;
    let year: i32 = year.parse().ok()?;
    let month = time::Month::try_from(m as u8).ok()?;
    let d = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(format!("{:04}-{:02}-{:02}", d.year(), m, d.day()))
}

/// Runs of white space to one space, trimmed.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of Markdown, without its syntax, for counting words.
pub fn strip_markdown(md: &str) -> String {
    md.replace(['#', '*', '|', '-', '[', ']'], " ")
}

fn first_sentence(body: &str) -> String {
    let text = body
        .lines()
        .find(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('|') && !t.starts_with('-')
        })
        .unwrap_or("");
    let end = text.find(". ").map(|i| i + 1).unwrap_or(text.len());
    text[..end].trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_named_by_the_words_before_them() {
        let n = |s: &str| contact_name(s);
        assert_eq!(
            n("If you can't find the answer here, phone the Wrenfield Care Line on").as_deref(),
            Some("Wrenfield Care Line")
        );
        assert_eq!(
            n("Out of hours, call the Emergency Duty Team on").as_deref(),
            Some("Emergency Duty Team")
        );
        assert_eq!(n("Blue Badge team:").as_deref(), Some("Blue Badge team"));
        assert_eq!(n("Blue Badge team").as_deref(), Some("Blue Badge team"));
        assert_eq!(n("").as_deref(), None);
        // A pronoun or a bare verb names no one: the last proper name does.
        let team = "The financial assessment is done by our Financial Assessment and Benefits Team. You can call them on";
        assert_eq!(
            n(team).as_deref(),
            Some("Financial Assessment and Benefits Team")
        );
        let both = format!("{team} 0117 496 0520, Monday to Friday, or email");
        assert_eq!(
            n(&both).as_deref(),
            Some("Financial Assessment and Benefits Team")
        );
        assert_eq!(n("If you are worried, call us on").as_deref(), None);
    }

    #[test]
    fn visible_dates_read_as_iso() {
        assert_eq!(
            date_from("4", "June", "2019").as_deref(),
            Some("2019-06-04")
        );
        assert_eq!(date_from("31", "February", "2019"), None);
        assert_eq!(
            iso_date("2026-04-14T09:00:00+01:00").as_deref(),
            Some("2026-04-14")
        );
    }

    #[test]
    fn the_generic_reader_keeps_content_and_drops_furniture() {
        let html = r#"<html><head><title>Meals at home | Example Council</title>
            <meta name="description" content="Hot meals delivered to your door."></head>
            <body><div class="cookie-banner"><p>We use cookies. Accept?</p></div>
            <nav><a href="/">Home</a> <a href="/care">Care</a></nav>
            <main><h1>Meals at home</h1><p>We can deliver a hot meal at lunchtime every day. A meal costs £5.20.</p>
            <p>The meals service is for adults who find it hard to cook for themselves, for example after a stay in hospital.</p>
            <h2>How to ask</h2><p>Call us on <a href="tel:01632960555">01632 960555</a>. We will arrange the first delivery within a week.</p>
            <table><tr><th>Meal</th><th>Price</th></tr><tr><td>Hot lunch</td><td>£5.20</td></tr></table>
            <img src="van.png" alt="A delivery van"></main>
            <footer>Copyright Example Council</footer></body></html>"#;
        let e = extract(
            html,
            &Url::parse("https://www.example.org/care/meals").unwrap(),
        );
        assert_eq!(e.profile, Profile::Generic);
        assert_eq!(e.title, "Meals at home");
        assert_eq!(e.summary, "Hot meals delivered to your door.");
        assert!(e.body.contains("A meal costs £5.20."), "{}", e.body);
        assert!(e.body.contains("## How to ask"), "{}", e.body);
        assert!(e.body.contains("| Hot lunch | £5.20 |"), "{}", e.body);
        assert!(e.body.contains("A delivery van"), "{}", e.body);
        for furniture in ["cookies", "Copyright", "](/"] {
            assert!(!e.body.contains(furniture), "{furniture}: {}", e.body);
        }
        assert!(e.body.contains("Call us on 01632 960555."), "{}", e.body);
        assert_eq!(e.contacts[0].phone.as_deref(), Some("01632 960555"));
        assert!(e.flags.is_empty(), "{:?}", e.flags);
    }

    #[test]
    fn script_shells_and_template_braces_are_flagged() {
        let shell = r#"<html><body><noscript>Please enable JavaScript to use this site.</noscript><div id="app"></div><main></main></body></html>"#;
        let e = extract(
            shell,
            &Url::parse("https://www.example.org/care/app").unwrap(),
        );
        assert_eq!(e.flags, vec![Flag::NeedsJavaScript]);
        let braces = r#"<html><body><main><h1>{{ page.title }}</h1><p>Respite care gives you a break from caring. It can be a few hours or a few weeks. We can arrange it with a care home or at home, and it may be free after a carer's assessment. Ask us for a carer's assessment first, then we will talk about what would help you most and what it costs.</p></main></body></html>"#;
        let e = extract(
            braces,
            &Url::parse("https://www.example.org/care/respite").unwrap(),
        );
        assert!(e.flags.contains(&Flag::TemplateBraces), "{:?}", e.flags);
    }
}
