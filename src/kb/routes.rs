//! The urgent-routes check in `kb check`: a sentence that tells someone how
//! to report abuse or get help in a crisis must not give only a number that
//! is answered in office hours. Signpost may quote that sentence on its own,
//! at night or at a weekend, so its passage (the section it is in) must also
//! give the out-of-hours route and 999. Composition adds the out-of-hours
//! route when it quotes such a sentence without them.

use super::{Kb, Problem};
use crate::config::Council;

/// Words that make a sentence about reporting abuse or getting urgent help.
const URGENT_SUBJECT: [&str; 12] = [
    "abuse",
    "abused",
    "neglect",
    "harm",
    "unsafe",
    "safeguarding",
    "in danger",
    "crisis",
    "suicid",
    "hurt",
    "scammed",
    "exploit",
];

/// The digits of a phone number, for comparing however it is spaced.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The office-hours numbers: the council's front door and safeguarding line
/// from settings, and any page contact whose hours are on weekdays only.
fn office_hours_numbers(kb: &Kb, council: &Council) -> Vec<String> {
    let mut out: Vec<String> = [&council.phone, &council.safeguarding_phone]
        .into_iter()
        .map(|p| digits(p))
        .collect();
    for c in kb.pages.iter().flat_map(|p| p.contacts.iter()) {
        let weekdays = c.hours.as_deref().is_some_and(|h| {
            let h = h.to_lowercase();
            h.contains("monday to friday") && !h.contains("24 hours")
        });
        if let (true, Some(p)) = (weekdays, &c.phone) {
            out.push(digits(p));
        }
    }
    let ooh = digits(&council.out_of_hours_phone);
    out.retain(|n| n.len() >= 10 && *n != ooh);
    out.sort();
    out.dedup();
    out
}

/// Reports the council's details that are missing, and urgent-reply pages
/// (`urgent_pages` in council.toml) that the knowledge base does not have.
pub fn check_council(kb: &Kb, council: &Council) -> Vec<Problem> {
    let path = kb.dir.join("council.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let line_of = |key: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(1, |i| i + 1)
    };
    let mut problems = Vec::new();
    let missing = council.missing();
    if !missing.is_empty() {
        problems.push(Problem::error(
            &path,
            1,
            format!(
                "the council's details are missing ({}): add them here or to [council] in signpost.toml; urgent replies and hand-overs need them",
                missing.join(", ")
            ),
        ));
    }
    for (kind, slug) in &council.urgent_pages {
        if crate::triage::Urgent::ALL.iter().all(|u| u.name() != kind) {
            problems.push(Problem::error(
                &path,
                line_of(kind),
                format!(
                    "urgent_pages: '{kind}' is not a kind of urgent reply; use {}",
                    crate::triage::Urgent::ALL.map(|u| u.name()).join(", ")
                ),
            ));
        } else if kb.page(slug).is_none() {
            problems.push(Problem::error(
                &path,
                line_of(kind),
                format!("urgent_pages: the page '{slug}' for {kind} does not exist"),
            ));
        }
    }
    problems
}

/// Reports each sentence that gives an office-hours number for reporting
/// abuse or for a crisis without the out-of-hours number and 999 nearby.
pub fn check(kb: &Kb, council: &Council) -> Vec<Problem> {
    let office = office_hours_numbers(kb, council);
    let ooh = digits(&council.out_of_hours_phone);
    let mut problems = Vec::new();
    if ooh.is_empty() {
        return problems;
    }
    for page in &kb.pages {
        for chunk in &page.chunks {
            for unit in &chunk.units {
                let lower = unit.to_lowercase();
                if !URGENT_SUBJECT.iter().any(|w| lower.contains(w)) {
                    continue;
                }
                // Planning ahead for a crisis is not reporting one.
                let planning = lower.contains("plan")
                    && URGENT_SUBJECT
                        .iter()
                        .filter(|w| lower.contains(*w))
                        .all(|w| *w == "crisis");
                if planning {
                    continue;
                }
                let d = digits(unit);
                let Some(number) = office.iter().find(|n| d.contains(n.as_str())) else {
                    continue;
                };
                let window: String = chunk.units.join(" ");
                let has_ooh = digits(&window).contains(&ooh);
                let has_999 = window
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|n| n == "999");
                if has_ooh && has_999 {
                    continue;
                }
                let missing = match (has_ooh, has_999) {
                    (false, false) => format!(
                        "the out-of-hours number ({}) and 999",
                        council.out_of_hours_phone
                    ),
                    (false, true) => {
                        format!("the out-of-hours number ({})", council.out_of_hours_phone)
                    }
                    _ => "999 for someone in danger now".to_string(),
                };
                let line = super::line_of(&page.path, unit).unwrap_or(page.lines.body);
                problems.push(Problem::error(
                    &page.path,
                    line,
                    format!(
                        "this sentence gives an office-hours number ({}) for reporting abuse or a crisis, but not {missing} in the same passage: Signpost may quote it at night or at a weekend",
                        pretty(unit, number)
                    ),
                ));
            }
        }
    }
    problems
}

/// The number as the page writes it, for the message.
fn pretty(unit: &str, number: &str) -> String {
    // Find the shortest stretch of the sentence whose digits are the number.
    let chars: Vec<char> = unit.chars().collect();
    for start in 0..chars.len() {
        if !chars[start].is_ascii_digit() {
            continue;
        }
        let mut d = String::new();
        for (end, c) in chars.iter().enumerate().skip(start) {
            if c.is_ascii_digit() {
                d.push(*c);
            } else if *c != ' ' {
                break;
            }
            if d == number {
                return chars[start..=end].iter().collect();
            }
            if !number.starts_with(&d) {
                break;
            }
        }
    }
    number.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_is_shown_as_written() {
        assert_eq!(
            pretty("call us on 01632 960150 for help", "01632960150"),
            "01632 960150"
        );
    }
}
