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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub version: String,
    pub applies_from: String,
    /// The pages each calculator cites (see [`CITES`]).
    #[serde(default)]
    pub cite: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(rename = "rule")]
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
    /// Pages that state this figure (the first is the one a calculator cites).
    pub pages: Vec<String>,
    /// When a sentence is about this rule: any one of these alternatives, each
    /// a phrase ("upper") or a list of words that must all appear
    /// (["capital", "between"]).
    #[serde(default)]
    pub context: Vec<Context>,
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

impl Rules {
    /// Loads `rules.toml` from the knowledge-base folder `dir` as on `today`
    /// and checks it against the pages; empty rules when there is no file.
    pub fn load(dir: &Path, today: Date, pages: &[Page], problems: &mut Vec<Problem>) -> Rules {
        let path = dir.join("rules.toml");
        if !path.exists() {
            return Rules::default();
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem::error(
                    &path,
                    1,
                    format!("cannot read the rules: {e}; save the file as UTF-8 text"),
                ));
                return Rules::default();
            }
        };
        let rules = Rules::parse(&path, &text, today, problems);
        rules.check_pages(&path, pages, problems);
        rules
    }

    /// Parses `rules.toml` as on `today`; problems carry the line. A figure
    /// whose period has ended is an error (and is not used); from 1 March
    /// before it ends, a warning that next April's figure is due.
    pub fn parse(path: &Path, text: &str, today: Date, problems: &mut Vec<Problem>) -> Rules {
        let file: RulesFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::toml(path, text, &e, "not valid rules data"));
                return Rules::default();
            }
        };
        let mut by_id = HashMap::new();
        let mut expired = HashSet::new();
        for r in file.rules {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{}\"", r.id)))
                .map(|i| i + 1)
                .unwrap_or(1);
            let figure = format!("{} ({})", show(r.value, &r.unit), r.year);
            let pages = r.pages.join(", ");
            match r.ends() {
                Err(e) => {
                    problems.push(Problem::error(path, line, format!("rule '{}': {e}", r.id)))
                }
                Ok(Some(end)) if today > end => {
                    expired.insert(r.id.clone());
                    problems.push(Problem::error(
                        path,
                        line,
                        format!(
                            "rule '{}' is {figure}, which applied until {}: put in the figure for this year, then change its pages ({pages}); until then the calculators do not use it",
                            r.id,
                            show_date(end)
                        ),
                    ));
                }
                Ok(Some(end))
                    if Date::from_calendar_date(end.year(), Month::March, 1)
                        .is_ok_and(|march| today >= march) =>
                {
                    problems.push(Problem::warning(
                        path,
                        line,
                        format!(
                            "rule '{}' is {figure}, which applies until {}: next year's figure is due, so check it and change rules.toml and its pages ({pages}) on the day it starts",
                            r.id,
                            show_date(end)
                        ),
                    ));
                }
                Ok(_) => {}
            }
            if r.pages.is_empty() {
                problems.push(Problem::error(
                    path,
                    line,
                    format!("rule '{}' names no page that states it", r.id),
                ));
            }
            if by_id.insert(r.id.clone(), r.clone()).is_some() {
                problems.push(Problem::error(
                    path,
                    line,
                    format!("rule '{}' is defined twice", r.id),
                ));
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
        for key in file.cite.keys() {
            if !CITES.contains(&key.as_str()) {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(key.as_str()))
                    .map_or(1, |i| i + 1);
                problems.push(Problem::error(
                    path,
                    line,
                    format!(
                        "[cite] '{key}' is not a calculator's citation; use {}",
                        CITES.join(", ")
                    ),
                ));
            }
        }
        Rules {
            version: file.version,
            by_id,
            expired,
            cite: file.cite,
        }
    }

    /// The pages a calculator cites for `key` (one of [`CITES`]); none when
    /// the council's rules do not say.
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

    /// Checks every rule against its pages: each page must state the figure,
    /// and no sentence about the rule may state a different one.
    pub fn check_pages(&self, path: &Path, pages: &[Page], problems: &mut Vec<Problem>) {
        for page in pages {
            check_now_claims(page, problems);
        }
        for (key, slugs) in &self.cite {
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
            let r = &self.by_id[id];
            for slug in &r.pages {
                let Some(page) = pages.iter().find(|p| &p.slug == slug) else {
                    problems.push(Problem::error(
                        path,
                        1,
                        format!("rule '{id}' names page '{slug}', which does not exist"),
                    ));
                    continue;
                };
                let figures: Vec<f64> = page
                    .chunks
                    .iter()
                    .flat_map(|c| c.units.iter())
                    .flat_map(|u| figures_of(u, &r.unit))
                    .collect();
                if !figures.iter().any(|f| (f - r.value).abs() < 1e-9) {
                    problems.push(Problem::error(
                        &page.path,
                        page.lines.body,
                        format!(
                            "rules.toml says {id} is {} but this page never states it: add it to the page or fix rules.toml",
                            show(r.value, &r.unit)
                        ),
                    ));
                }
                if r.context.is_empty() {
                    continue;
                }
                // Each list item is checked on its own (a list is joined to its
                // lead-in with "; " when the page is chunked).
                let clauses = page
                    .chunks
                    .iter()
                    .flat_map(|c| c.units.iter())
                    .flat_map(|u| u.split("; "));
                for unit in clauses {
                    let lower = unit.to_lowercase();
                    if !r.context.iter().any(|c| c.matches(&lower)) {
                        continue;
                    }
                    let found = figures_of(unit, &r.unit);
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
                    if !found.is_empty() && !found.iter().any(|f| (f - r.value).abs() < 1e-9) {
                        let line = line_of(&page.path, unit).unwrap_or(page.lines.body);
                        problems.push(Problem::error(
                            &page.path,
                            line,
                            format!(
                                "this sentence gives {} for {id}, but rules.toml says {}: make them agree",
                                found.iter().map(|f| show(*f, &r.unit)).collect::<Vec<_>>().join(", "),
                                show(r.value, &r.unit)
                            ),
                        ));
                    }
                }
            }
        }
    }
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
