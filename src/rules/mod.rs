//! Rules as data: the figures the calculators use (`knowledge-base/rules.toml`),
//! each with the pages that state it. `kb check` makes sure the pages and the
//! rules agree, so a calculator never says something the pages do not.

pub mod calc;
pub mod parse;

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::kb::{Page, Problem};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    pub version: String,
    pub applies_from: String,
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub value: f64,
    pub unit: String,
    pub year: String,
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

/// The loaded rules, by id.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub version: String,
    by_id: HashMap<String, Rule>,
}

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
    /// Parses `rules.toml`; problems carry the line.
    pub fn parse(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Rules {
        let file: RulesFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::toml(path, text, &e, "not valid rules data"));
                return Rules::default();
            }
        };
        let mut by_id = HashMap::new();
        for r in file.rules {
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{}\"", r.id)))
                .map(|i| i + 1)
                .unwrap_or(1);
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
        Rules {
            version: file.version,
            by_id,
        }
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

static MONEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"£\s?(\d[\d,]*(?:\.\d+)?)").unwrap());
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(\d[\d,]*)(?:-| )?(week|weeks|month|months|year|years|hour|hours|or over|or older)?\b",
    )
    .unwrap()
});

/// The figures of a rule's unit in a sentence.
fn figures_of(sentence: &str, unit: &str) -> Vec<f64> {
    let num = |s: &str| s.replace(',', "").parse::<f64>().ok();
    if unit.starts_with("pounds") {
        return MONEY
            .captures_iter(sentence)
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
                && (u == want || (want == "year" && (bare_age || u.starts_with("or"))))
        })
        .filter_map(|c| num(&c[1]))
        .collect()
}

fn show(v: f64, unit: &str) -> String {
    if unit.starts_with("pounds") {
        format!(
            "£{}{}",
            thousands(v),
            unit.strip_prefix("pounds").unwrap_or("")
        )
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

fn line_of(path: &Path, sentence: &str) -> Option<usize> {
    let text = std::fs::read_to_string(path).ok()?;
    let probe: String = sentence.chars().take(40).collect();
    text.lines().position(|l| l.contains(&probe)).map(|i| i + 1)
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
        assert_eq!(thousands(23250.0), "23,250");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(10.0), "10");
    }
}
