//! Rules as data: the figures the calculators use (`knowledge-base/rules.toml`),
//! each with the pages that state it. `kb check` makes sure the pages and the
//! rules agree, so a calculator never says something the pages do not.

pub mod calc;
pub mod parse;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use time::{Date, Month};

use crate::kb::{line_of, Page, Problem};

/// A rules file: the built-in national figures (`national.toml`), or a
/// council's `rules.toml`, which overrides them by id and says which of its
/// pages state them and which pages each calculator cites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub applies_from: Option<String>,
    /// The pages each calculator cites (see [`CITES`]).
    #[serde(default)]
    pub cite: std::collections::BTreeMap<String, Vec<String>>,
    /// Rule id to the council's pages that must state it.
    #[serde(default)]
    pub pages: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub value: f64,
    pub unit: String,
    /// The period the figure belongs to, as residents read it ("2026 to
    /// 2027"), or why it does not expire ("set in law").
    pub year: String,
    /// The figure is uprated each April: a page sentence that states it must
    /// also say which year it is for.
    #[serde(default)]
    pub yearly: bool,
    /// The last day the figure applies (`YYYY-MM-DD`). By default, when
    /// `year` names a financial year ("2026 to 2027"), the 5 April ending it.
    #[serde(default)]
    pub valid_to: Option<String>,
    /// Pages that must state this figure.
    #[serde(default)]
    pub pages: Vec<String>,
    /// When a sentence on one of `pages` is about this rule: any one of these
    /// alternatives, each a phrase ("upper") or a list of words that must all
    /// appear (["capital", "between"]).
    #[serde(default)]
    pub context: Vec<Context>,
    /// Phrases that mean a sentence is about something else, even if it
    /// matches (a "discretionary loan of up to £15,000" is not the grant
    /// maximum).
    #[serde(default)]
    pub unless: Vec<String>,
    /// How the rule is recognised on any page: see [`Anywhere`].
    #[serde(default)]
    pub anywhere: Option<Anywhere>,
}

/// A rule stated on a page no one named for it: the sentence mentions one
/// of `about` (when given), and a figure of the rule's unit follows one of
/// the `near` phrases within a few words ("the upper limit is £23,250").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anywhere {
    #[serde(default)]
    pub about: Vec<Context>,
    pub near: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Context {
    Phrase(String),
    AllOf(Vec<String>),
}

impl Context {
    fn matches(&self, lower: &str) -> bool {
        match self {
            Context::Phrase(p) => lower.contains(&p.to_lowercase()),
            Context::AllOf(ws) => ws.iter().all(|w| lower.contains(&w.to_lowercase())),
        }
    }
}

impl Rule {
    /// The last day this figure applies, or `None` when it does not expire.
    pub fn ends(&self) -> Result<Option<Date>, String> {
        if let Some(d) = &self.valid_to {
            return parse_date(d)
                .map(Some)
                .ok_or_else(|| format!("valid_to '{d}' is not a date (YYYY-MM-DD)"));
        }
        Ok(FINANCIAL_YEAR
            .captures(&self.year)
            .and_then(|c| c[2].parse::<i32>().ok())
            .and_then(|y| Date::from_calendar_date(y, Month::April, 5).ok()))
    }
}

static FINANCIAL_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(\d{4}) to (\d{4})\b").unwrap());

fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

/// "5 April 2026".
fn show_date(d: Date) -> String {
    format!("{} {} {}", d.day(), d.month(), d.year())
}

/// The loaded rules, by id.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub version: String,
    by_id: HashMap<String, Rule>,
    cite: std::collections::BTreeMap<String, Vec<String>>,
    /// Rules whose period had ended on the day they were loaded: the
    /// calculators do not use them.
    expired: HashSet<String>,
    /// The council's own `[cite]` entries (checked against the pages); the
    /// rest of `cite` is chosen from what the pages say.
    named_cites: HashSet<String>,
}

/// What the calculators cite, by the name `[cite]` gives it in rules.toml.
pub const CITES: [&str; 7] = [
    "savings_care_home",
    "savings_at_home",
    "home_counted",
    "benefits",
    "bus_pass",
    "grant",
    "carers_allowance",
];

/// For each citation, the rules a page should state to be cited, and words
/// in a page's title that make it the better choice.
const CITE_BY_CONTENT: [(&str, &[&str], &[&str]); 7] = [
    (
        "savings_care_home",
        &["upper_capital_limit", "lower_capital_limit"],
        &["care home", "residential", "nursing"],
    ),
    (
        "savings_at_home",
        &["upper_capital_limit", "lower_capital_limit", "tariff_step"],
        &[
            "at home",
            "home care",
            "non-residential",
            "community",
            "charging",
        ],
    ),
    (
        "home_counted",
        &[
            "property_disregard_weeks",
            "qualifying_relative_age",
            "qualifying_child_age",
        ],
        &["care home", "property", "deferred", "residential"],
    ),
    (
        "benefits",
        &[],
        &["benefit", "attendance allowance", "money advice", "welfare"],
    ),
    ("bus_pass", &[], &["bus pass", "concessionary", "travel"]),
    (
        "grant",
        &["dfg_maximum", "minor_adaptations_limit"],
        &["disabled facilities grant", "adaptation", "dfg"],
    ),
    (
        "carers_allowance",
        &["carers_allowance_hours", "carers_allowance_earnings_limit"],
        &["carer"],
    ),
];

/// Ids every calculator needs; a rules file without them is an error.
const REQUIRED: [&str; 13] = [
    "upper_capital_limit",
    "lower_capital_limit",
    "tariff_step",
    "tariff_per_step",
    "property_disregard_weeks",
    "qualifying_relative_age",
    "qualifying_child_age",
    "minor_adaptations_limit",
    "dfg_maximum",
    "state_pension_age",
    "pip_minimum_age",
    "carers_allowance_hours",
    "carers_allowance_earnings_limit",
];

/// The national figures built into Signpost.
const NATIONAL: &str = include_str!("national.toml");
/// How problems in the built-in figures name their file.
const NATIONAL_PATH: &str = "(Signpost's national rules) src/rules/national.toml";

/// Where a rule was defined, for problems: the file and its line.
struct Origin {
    path: std::path::PathBuf,
    line: usize,
}

fn line_of_id(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| l.contains(&format!("\"{id}\"")))
        .map(|i| i + 1)
        .unwrap_or(1)
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map_or(1, |i| i + 1)
}

impl Rules {
    /// The national figures with the council's `rules.toml` (in the
    /// knowledge-base folder `dir`) over them, as on `today`, checked against
    /// the pages. Calculators with no `[cite]` cite the pages that state
    /// their figures; with none, they stay off.
    pub fn load(dir: &Path, today: Date, pages: &[Page], problems: &mut Vec<Problem>) -> Rules {
        let path = dir.join("rules.toml");
        let text = if path.exists() {
            match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::error(
                        &path,
                        1,
                        format!("cannot read the rules: {e}; save the file as UTF-8 text"),
                    ));
                    return Rules::default();
                }
            }
        } else {
            String::new()
        };
        let mut rules = Rules::parse(&path, &text, today, problems);
        rules.check_pages(&path, pages, problems);
        rules.cite_by_content(&path, pages, problems);
        rules
    }

    /// The national figures with a council's rules file (`text`, from
    /// `path`; empty for none) over them, as on `today`. Problems carry the
    /// line. A figure whose period has ended is an error (and is not used);
    /// from 1 March before it ends, a warning that next April's figure is due.
    pub fn parse(path: &Path, text: &str, today: Date, problems: &mut Vec<Problem>) -> Rules {
        let national_path = Path::new(NATIONAL_PATH);
        let national: RulesFile = match toml::from_str(NATIONAL) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::toml(
                    national_path,
                    NATIONAL,
                    &e,
                    "not valid rules data",
                ));
                return Rules::default();
            }
        };
        let council: RulesFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::toml(path, text, &e, "not valid rules data"));
                return Rules::default();
            }
        };
        let mut by_id: HashMap<String, Rule> = HashMap::new();
        let mut origin: HashMap<String, Origin> = HashMap::new();
        for r in national.rules {
            origin.insert(
                r.id.clone(),
                Origin {
                    path: national_path.to_path_buf(),
                    line: line_of_id(NATIONAL, &r.id),
                },
            );
            by_id.insert(r.id.clone(), r);
        }
        let mut seen = HashSet::new();
        for mut r in council.rules {
            let line = line_of_id(text, &r.id);
            if !seen.insert(r.id.clone()) {
                problems.push(Problem::error(
                    path,
                    line,
                    format!("rule '{}' is defined twice", r.id),
                ));
            }
            // A council's rule keeps the national ways of recognising it
            // unless it gives its own.
            if let Some(n) = by_id.get(&r.id) {
                if r.unless.is_empty() {
                    r.unless = n.unless.clone();
                }
                if r.anywhere.is_none() {
                    r.anywhere = n.anywhere.clone();
                }
                if r.context.is_empty() {
                    r.context = n.context.clone();
                }
            }
            origin.insert(
                r.id.clone(),
                Origin {
                    path: path.to_path_buf(),
                    line,
                },
            );
            by_id.insert(r.id.clone(), r);
        }
        for (id, slugs) in &council.pages {
            match by_id.get_mut(id) {
                Some(r) => r.pages = slugs.clone(),
                None => problems.push(Problem::error(
                    path,
                    line_of_key(text, id),
                    format!("[pages] names rule '{id}', which does not exist: use a rule id from src/rules/national.toml or define the rule here"),
                )),
            }
        }
        let mut expired = HashSet::new();
        let mut ids: Vec<&String> = by_id.keys().collect();
        ids.sort();
        for id in ids {
            let r = &by_id[id];
            let o = &origin[id];
            let figure = format!("{} ({})", show(r.value, &r.unit), r.year);
            let where_pages = if r.pages.is_empty() {
                "the pages that state it".to_string()
            } else {
                r.pages.join(", ")
            };
            let fix = if o.path == national_path {
                "update Signpost, or set this year's figure for the rule in the council's rules.toml"
            } else {
                "put in the figure for this year"
            };
            match r.ends() {
                Err(e) => {
                    problems.push(Problem::error(&o.path, o.line, format!("rule '{id}': {e}")))
                }
                Ok(Some(end)) if today > end => {
                    expired.insert(id.clone());
                    problems.push(Problem::error(
                        &o.path,
                        o.line,
                        format!(
                            "rule '{id}' is {figure}, which applied until {}: {fix}, then change its pages ({where_pages}); until then the calculators do not use it",
                            show_date(end)
                        ),
                    ));
                }
                Ok(Some(end))
                    if Date::from_calendar_date(end.year(), Month::March, 1)
                        .is_ok_and(|march| today >= march) =>
                {
                    problems.push(Problem::warning(
                        &o.path,
                        o.line,
                        format!(
                            "rule '{id}' is {figure}, which applies until {}: next year's figure is due, so check it and change rules.toml and its pages ({where_pages}) on the day it starts",
                            show_date(end)
                        ),
                    ));
                }
                Ok(_) => {}
            }
        }
        for id in REQUIRED {
            if !by_id.contains_key(id) {
                problems.push(Problem::error(
                    path,
                    1,
                    format!("rule '{id}' is missing: the calculators need it"),
                ));
            }
        }
        for key in council.cite.keys() {
            if !CITES.contains(&key.as_str()) {
                problems.push(Problem::error(
                    path,
                    line_of_key(text, key),
                    format!(
                        "[cite] '{key}' is not a calculator's citation; use {}",
                        CITES.join(", ")
                    ),
                ));
            }
        }
        Rules {
            version: council
                .version
                .map(|v| {
                    format!(
                        "{v} (national {})",
                        national.version.clone().unwrap_or_default()
                    )
                })
                .or(national.version)
                .unwrap_or_default(),
            by_id,
            expired,
            named_cites: council.cite.keys().cloned().collect(),
            cite: council.cite,
        }
    }

    /// The pages a calculator cites for `key` (one of [`CITES`]); none when
    /// neither the council's rules nor its pages say.
    /// Every calculator's citations, for `kb check` to show.
    pub fn all_cites(&self) -> &std::collections::BTreeMap<String, Vec<String>> {
        &self.cite
    }

    pub fn cites(&self, key: &str) -> Vec<String> {
        self.cite.get(key).cloned().unwrap_or_default()
    }

    /// Whether every one of `ids` exists and its period had not ended when
    /// the rules were loaded: a calculator uses only current figures.
    pub fn current(&self, ids: &[&str]) -> bool {
        ids.iter()
            .all(|id| self.by_id.contains_key(*id) && !self.expired.contains(*id))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id)
    }

    /// A rule's value (0 if missing; `kb check` reports missing rules).
    pub fn value(&self, id: &str) -> f64 {
        self.by_id.get(id).map(|r| r.value).unwrap_or(0.0)
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// For each calculator the council's `[cite]` does not cover, the (at
    /// most two) pages that state most of its figures, a title that fits
    /// breaking ties; with no such page the calculator stays off, with a
    /// warning.
    fn cite_by_content(&mut self, path: &Path, pages: &[Page], problems: &mut Vec<Problem>) {
        for (key, ids, title_words) in CITE_BY_CONTENT {
            if self.cite.contains_key(key) {
                continue;
            }
            let mut scored: Vec<(usize, usize, &str)> = pages
                .iter()
                .map(|p| {
                    let stated = ids
                        .iter()
                        .filter(|id| self.by_id.get(**id).is_some_and(|r| states(r, p)))
                        .count();
                    let title = p.title.to_lowercase();
                    let fits = title_words.iter().filter(|w| title.contains(**w)).count();
                    (stated, fits, p.slug.as_str())
                })
                .filter(|(stated, fits, _)| *stated > 0 || (ids.is_empty() && *fits > 0))
                .collect();
            scored.sort_by(|a, b| (b.1, b.0).cmp(&(a.1, a.0)).then(a.2.cmp(b.2)));
            let chosen: Vec<String> = scored.iter().take(2).map(|s| s.2.to_string()).collect();
            if chosen.is_empty() {
                problems.push(Problem::warning(
                    path,
                    1,
                    format!(
                        "no page states the figures the '{key}' calculator uses, so it is off: add them to a page, or name the pages in rules.toml under [cite]"
                    ),
                ));
            } else {
                tracing::debug!(key, pages = ?chosen, "calculator cites the pages that state its figures");
                self.cite.insert(key.to_string(), chosen);
            }
        }
    }

    /// Checks every rule against the pages: each page named for a rule must
    /// exist and state its figure, and no sentence about the rule, on any
    /// page, may state a different one.
    pub fn check_pages(&self, path: &Path, pages: &[Page], problems: &mut Vec<Problem>) {
        for (key, slugs) in &self.cite {
            if !self.named_cites.contains(key) {
                continue;
            }
            for slug in slugs {
                if !pages.iter().any(|p| &p.slug == slug) {
                    problems.push(Problem::error(
                        path,
                        1,
                        format!("[cite] {key} names page '{slug}', which does not exist"),
                    ));
                }
            }
        }
        let mut ids: Vec<&String> = self.by_id.keys().collect();
        ids.sort();
        for id in ids {
            for slug in &self.by_id[id].pages {
                if !pages.iter().any(|p| &p.slug == slug) {
                    problems.push(Problem::error(
                        path,
                        1,
                        format!("rule '{id}' names page '{slug}', which does not exist"),
                    ));
                }
            }
        }
        for page in pages {
            self.check_page(page, problems);
        }
    }

    /// Checks one page against every rule, as `kb check` does (used too when
    /// an imported page is staged, so staff see its problems).
    pub fn check_page(&self, page: &Page, problems: &mut Vec<Problem>) {
        check_now_claims(page, problems);
        let mut ids: Vec<&String> = self.by_id.keys().collect();
        ids.sort();
        for id in ids {
            let r = &self.by_id[id];
            let named = r.pages.contains(&page.slug);
            if named
                && !units(page)
                    .flat_map(|u| figures_of(u, &r.unit))
                    .any(|f| same(f, r.value))
            {
                problems.push(Problem::error(
                    &page.path,
                    page.lines.body,
                    format!(
                        "rules.toml says {id} is {} but this page never states it: add it to the page or fix rules.toml",
                        show(r.value, &r.unit)
                    ),
                ));
            }
            for unit in clauses(page) {
                let found = if named {
                    about_rule(r, unit)
                } else {
                    stated_anywhere(r, unit)
                };
                let Some(found) = found else { continue };
                if r.yearly && !found.is_empty() && !YEAR.is_match(unit) {
                    problems.push(Problem::warning(
                        &page.path,
                        line_of(&page.path, unit).unwrap_or(page.lines.body),
                        format!(
                            "this sentence gives {id}, a figure that changes each April, without saying which year: add \"in {}\"",
                            r.year
                        ),
                    ));
                }
                if !found.is_empty() && !found.iter().any(|f| same(*f, r.value)) {
                    let line = line_of(&page.path, unit).unwrap_or(page.lines.body);
                    problems.push(Problem::error(
                        &page.path,
                        line,
                        format!(
                            "this sentence gives {} for {id}, but the rules say {} ({}): correct the page, or, if the figure really is different here, set it in rules.toml",
                            found.iter().map(|f| show(*f, &r.unit)).collect::<Vec<_>>().join(", "),
                            show(r.value, &r.unit),
                            r.year
                        ),
                    ));
                }
            }
        }
    }
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A page's sentences.
fn units(page: &Page) -> impl Iterator<Item = &String> {
    page.chunks.iter().flat_map(|c| c.units.iter())
}

/// A page's sentences, each list item on its own (a list is joined to its
/// lead-in with "; " when the page is chunked).
fn clauses(page: &Page) -> impl Iterator<Item = &str> {
    units(page).flat_map(|u| u.split("; "))
}

fn excluded(r: &Rule, lower: &str) -> bool {
    r.unless.iter().any(|u| lower.contains(&u.to_lowercase()))
}

/// On a page named for the rule: the figures of a sentence about it (by
/// `context`), or `None` when it is not about the rule.
fn about_rule(r: &Rule, unit: &str) -> Option<Vec<f64>> {
    let lower = unit.to_lowercase();
    if r.context.is_empty() || !r.context.iter().any(|c| c.matches(&lower)) || excluded(r, &lower) {
        return None;
    }
    Some(figures_of(unit, &r.unit))
}

/// On any page: the figures that closely follow one of the rule's `near`
/// phrases in a sentence about it, or `None` when the sentence is not about
/// the rule.
fn stated_anywhere(r: &Rule, unit: &str) -> Option<Vec<f64>> {
    let a = r.anywhere.as_ref()?;
    let lower = unit.to_lowercase();
    if excluded(r, &lower) || (!a.about.is_empty() && !a.about.iter().any(|c| c.matches(&lower))) {
        return None;
    }
    // Positions map one to one only while lower-casing keeps lengths.
    if lower.len() != unit.len() {
        return None;
    }
    let mut found = Vec::new();
    let mut any = false;
    for phrase in &a.near {
        let phrase = phrase.to_lowercase();
        for (at, _) in lower.match_indices(&phrase) {
            any = true;
            // The phrase and the six words after it: "the upper limit is
            // £23,250", not a fee later in the same sentence.
            let start = at + phrase.len();
            let end = after_words(unit, start, 6);
            if let Some(f) = figures_of(&unit[at..end], &r.unit).first() {
                found.push(*f);
            }
        }
    }
    any.then_some(found)
}

/// Where the `n`th word after byte `start` of `text` ends, or the clause
/// before it.
fn after_words(text: &str, start: usize, n: usize) -> usize {
    let mut words = 0;
    let mut in_word = false;
    let rest = &text[start..];
    for (i, c) in rest.char_indices() {
        // A new clause ("the lower limit, so you pay £12"), sentence or
        // table cell ends it; a thousands comma ("£23,250") or decimal
        // point does not.
        let digit_next = rest[i + c.len_utf8()..]
            .chars()
            .next()
            .is_some_and(|n| n.is_ascii_digit());
        if (matches!(c, ',' | ';' | '.') && !digit_next) || matches!(c, '|' | '\n') {
            return start + i;
        }
        if c.is_whitespace() {
            if in_word {
                words += 1;
                if words == n {
                    return start + i;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    text.len()
}

/// Whether a page states the rule's figure in a sentence about it.
fn states(r: &Rule, page: &Page) -> bool {
    clauses(page).any(|u| {
        let found = if r.pages.contains(&page.slug) {
            about_rule(r, u)
        } else {
            stated_anywhere(r, u).or_else(|| about_rule(r, u))
        };
        found.is_some_and(|f| f.iter().any(|v| same(*v, r.value)))
    })
}

/// A year named in a sentence ("in 2026 to 2027", "2026/27", "from April 2026").
static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(19|20)\d\d\b").unwrap());
/// Words that present a figure as the current one.
static NOW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(now|currently|at the moment|at present|this year|these days|today)\b").unwrap()
});

/// A figure that goes stale: an amount of money, or an age or limit stated
/// as a bare number ("is 66").
static FIGURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)£\s?\d|\b(is|are|aged?) \d{1,3}\b").unwrap());

/// A sentence that presents a figure as the one that applies "now", with no
/// year or date: true on the day it was written and wrong after the next
/// change, as "State Pension age is 66 now" became in April 2026.
fn check_now_claims(page: &Page, problems: &mut Vec<Problem>) {
    for unit in page.chunks.iter().flat_map(|c| c.units.iter()) {
        let lower = unit.to_lowercase();
        if NOW.is_match(&lower) && FIGURE.is_match(unit) && !YEAR.is_match(unit) {
            problems.push(Problem::error(
                &page.path,
                line_of(&page.path, unit).unwrap_or(page.lines.body),
                format!(
                    "this sentence gives a figure as the one that applies now, without saying when or for whom: figures change, so say which year or which people it is for (\"{}\")",
                    unit.chars().take(80).collect::<String>()
                ),
            ));
        }
    }
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"£\s?(\d[\d,]*(?:\.\d+)?)").unwrap());
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(\d[\d,]*)(?:-| )?(week|weeks|month|months|year|years|hour|hours|or over|or older)?\b",
    )
    .unwrap()
});

/// Words after a figure that make it a difference from a limit, not the
/// limit itself ("£1 over the earnings limit", "£3,000 more than the lower
/// limit").
static OFFSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?i)\s*(a (week|month|year)\s+)?(over|more than|above|less than|below|under|higher than|lower than|extra|too much)\b").unwrap()
});

/// The figures of a rule's unit in a sentence. A figure that is a
/// difference from something ("£1 over the limit") is not counted.
fn figures_of(sentence: &str, unit: &str) -> Vec<f64> {
    let num = |s: &str| s.replace(',', "").parse::<f64>().ok();
    let offset = |end: usize| OFFSET.is_match(&sentence[end..]);
    if unit.starts_with("pounds") {
        return MONEY
            .captures_iter(sentence)
            .filter(|c| !offset(c.get(0).map_or(0, |m| m.end())))
            .filter_map(|c| num(&c[1]))
            .collect();
    }
    let want = unit
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches('s');
    NUMBER
        .captures_iter(sentence)
        .filter(|c| {
            let start = c.get(0).map(|m| m.start()).unwrap_or(0);
            let money = sentence[..start].ends_with('£');
            let u = c
                .get(2)
                .map(|m| m.as_str().trim_end_matches('s'))
                .unwrap_or("");
            // A bare number is an age only after words that introduce one
            // ("aged 60", "is 66", "rising to 67"); never a calendar year.
            let age_words = [
                "aged ", "age ", "is ", "to ", "at ", "from ", "under ", "over ",
            ];
            let bare_age = u.is_empty()
                && age_words
                    .iter()
                    .any(|w| sentence[..start].to_lowercase().ends_with(w));
            let value_ok = c[1]
                .replace(',', "")
                .parse::<f64>()
                .is_ok_and(|v| v < 1900.0);
            !money
                && value_ok
                && !offset(c.get(0).map_or(0, |m| m.end()))
                && (u == want || (want == "year" && (bare_age || u.starts_with("or"))))
        })
        .filter_map(|c| num(&c[1]))
        .collect()
}

/// "£23,250", or "£86.45" when there are pence.
pub fn money(v: f64) -> String {
    let pence = (v * 100.0).round() as i64 % 100;
    if pence == 0 {
        format!("£{}", thousands(v))
    } else {
        format!("£{}.{:02}", thousands(v.trunc()), pence.abs())
    }
}

fn show(v: f64, unit: &str) -> String {
    if unit.starts_with("pounds") {
        format!("{}{}", money(v), unit.strip_prefix("pounds").unwrap_or(""))
    } else {
        format!("{} {unit}", thousands(v))
    }
}

/// 23250 -> "23,250".
pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        time::macros::date!(2026 - 11 - 29)
    }

    /// The rules for a council's `rules.toml` (empty for none) and pages, with
    /// the problems `kb check` reports.
    fn check(council: &str, pages: &[Page]) -> (Rules, Vec<String>) {
        let mut problems = Vec::new();
        let path = Path::new("rules.toml");
        let mut rules = Rules::parse(path, council, today(), &mut problems);
        rules.check_pages(path, pages, &mut problems);
        rules.cite_by_content(path, pages, &mut problems);
        (rules, problems.iter().map(|p| p.to_string()).collect())
    }

    fn errors(problems: &[String]) -> Vec<&String> {
        problems.iter().filter(|p| p.contains("error")).collect()
    }

    #[test]
    fn national_rules_need_no_council_file() {
        let (rules, problems) = check("", &[]);
        assert!(errors(&problems).is_empty(), "{problems:?}");
        assert_eq!(rules.value("upper_capital_limit"), 23250.0);
        assert!(rules.current(&["dfg_maximum", "minor_adaptations_limit"]));
        // With no page to cite, every calculator is off, and says so.
        assert!(rules.cites("grant").is_empty());
        assert_eq!(
            problems
                .iter()
                .filter(|p| p.contains("calculator uses, so it is off"))
                .count(),
            CITES.len(),
            "{problems:?}"
        );
    }

    #[test]
    fn ordinary_council_prose_is_not_called_wrong() {
        let page = crate::kb::test_page(
            "home-adaptations",
            "Help to adapt your home",
            "A Disabled Facilities Grant can pay up to £30,000 for changes such as a stairlift or a level-access shower.\n\n\
             If the work costs more, we may offer a discretionary loan of up to £15,000 on top of the grant.\n\n\
             Minor adaptations costing less than £1,000 are free.\n\n\
             For example, savings of £17,250 are £3,000 more than the lower limit, so you would pay £12 a week from them.\n\n\
             If your capital is above the upper capital limit, we charge a one-off set-up fee of £265.\n\n\
             You cannot get Carer's Allowance, but if you care for at least 20 hours a week you may get Carer's Credit.\n\n\
             The Homesafe alarm is free for the first 6 weeks after you leave hospital.\n\n\
             | Your capital | What it means |\n\
             | --- | --- |\n\
             | Over £23,250 | You pay the full cost. This is the upper capital limit. |\n\
             | Between £14,250 and £23,250 | We add tariff income. |",
        );
        let (rules, problems) = check("", &[page]);
        assert!(errors(&problems).is_empty(), "{problems:?}");
        // The page states the grant figures, so the grant calculator cites it.
        assert_eq!(rules.cites("grant"), vec!["home-adaptations".to_string()]);
    }

    #[test]
    fn a_wrong_figure_on_any_page_is_an_error_with_its_line() {
        let page = crate::kb::test_page(
            "paying-for-care",
            "Paying for care",
            "The upper limit is £24,000 and the lower limit is £14,250.\n\n\
             A Disabled Facilities Grant can pay up to £25,000.",
        );
        let (_, problems) = check("", &[page]);
        let errs = errors(&problems);
        assert_eq!(errs.len(), 2, "{problems:?}");
        assert!(
            errs.iter()
                .any(|e| e.contains("£24,000 for upper_capital_limit")
                    && e.contains("rules say £23,250")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("£25,000 for dfg_maximum")),
            "{errs:?}"
        );
    }

    #[test]
    fn a_council_overrides_a_figure_names_pages_and_citations() {
        let page = crate::kb::test_page(
            "grants",
            "Grants",
            "In Wrenfield a Disabled Facilities Grant can pay up to £35,000.",
        );
        let council = "version = \"w-1\"\n\
            [cite]\n\
            grant = [\"grants\"]\n\
            [pages]\n\
            minor_adaptations_limit = [\"grants\"]\n\
            [[rule]]\n\
            id = \"dfg_maximum\"\n\
            value = 35000\n\
            unit = \"pounds\"\n\
            year = \"Wrenfield's own limit, from April 2026\"\n";
        let (rules, problems) = check(council, &[page]);
        assert_eq!(rules.value("dfg_maximum"), 35000.0);
        assert_eq!(rules.cites("grant"), vec!["grants".to_string()]);
        assert!(
            rules.version.starts_with("w-1 (national "),
            "{}",
            rules.version
        );
        // The page is named for the minor adaptations limit but never gives it.
        let errs = errors(&problems);
        assert_eq!(errs.len(), 1, "{problems:?}");
        assert!(
            errs[0].contains("minor_adaptations_limit is £1,000 but this page never states it"),
            "{errs:?}"
        );
        // The council's own grant limit keeps the national "unless" words.
        assert!(rules
            .get("dfg_maximum")
            .unwrap()
            .unless
            .contains(&"loan".to_string()));
    }

    #[test]
    fn a_council_file_names_unknown_rules_and_citations() {
        let (_, problems) = check(
            "[pages]\nnot_a_rule = [\"x\"]\n[cite]\nnot_a_cite = [\"x\"]\n",
            &[],
        );
        let errs = errors(&problems);
        assert!(
            errs.iter()
                .any(|e| e.contains("rules.toml:2") && e.contains("'not_a_rule'")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("rules.toml:4") && e.contains("'not_a_cite'")),
            "{errs:?}"
        );
    }

    #[test]
    fn figures_by_unit() {
        assert_eq!(
            figures_of("between £14,250 and £23,250 a week", "pounds"),
            vec![14250.0, 23250.0]
        );
        assert_eq!(
            figures_of("ignored for the first 12 weeks", "weeks"),
            vec![12.0]
        );
        assert_eq!(
            figures_of("the 12-week property disregard", "weeks"),
            vec![12.0]
        );
        assert_eq!(
            figures_of("a relative aged 60 or over", "years"),
            vec![60.0]
        );
        assert!(figures_of("costs £10", "weeks").is_empty());
        // A difference from a limit is not the limit.
        assert!(figures_of(
            "If you earn even £1 over the earnings limit in a week, you get nothing",
            "pounds a week"
        )
        .is_empty());
        assert_eq!(
            figures_of(
                "Savings of £17,250 are £3,000 more than the lower limit of £14,250",
                "pounds"
            ),
            vec![17250.0, 14250.0]
        );
        assert_eq!(thousands(23250.0), "23,250");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(10.0), "10");
    }
}
