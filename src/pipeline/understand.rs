//! Understanding: what the question is about, in the pages' words. A short
//! follow-up borrows the earlier question (and favours the page it found);
//! the knowledge base's synonyms add the pages' words for residents' words;
//! a request for local groups or places is noticed, with any neighbourhood
//! it names.

use std::collections::HashSet;

use super::types::{Question, Role};
use super::Content;

/// Words that suggest a follow-up leaning on an earlier question.
const ANAPHORA: [&str; 14] = [
    "it",
    "that",
    "this",
    "they",
    "them",
    "those",
    "there",
    "she",
    "he",
    "her",
    "his",
    "one",
    "what about",
    "and",
];

/// Highest weight one query word can carry in coverage and sentence scores.
pub(crate) const IDF_CAP: f32 = 3.5;

/// The question as retrieval needs it.
#[derive(Debug, Clone)]
pub struct Understood {
    /// The message, or it with the earlier question for a follow-up.
    pub standalone: String,
    /// For a follow-up, the page the earlier question found.
    pub topic: Option<String>,
}

/// The query for retrieval: the message, plus the previous question when
/// the message is a short follow-up ("how much does it cost?"), with the
/// page that earlier question found (the conversation's topic).
pub fn standalone(content: &Content, q: &Question) -> Understood {
    let Some(prev) = q.history.iter().rev().find(|t| t.role == Role::User) else {
        return Understood {
            standalone: q.message.clone(),
            topic: None,
        };
    };
    let m = crate::text::for_matching(&q.message);
    let short = content.index.terms(&q.message).len() <= 3;
    let refers_back = ANAPHORA.iter().any(|w| m.contains(&format!(" {w} ")));
    if short || refers_back {
        let topic = content
            .index
            .search(&expand(content, &prev.text), 1)
            .ok()
            .and_then(|h| {
                h.first()
                    .map(|h| content.index.chunks[h.chunk].slug.clone())
            });
        Understood {
            standalone: format!("{} {}", q.message, prev.text),
            topic,
        }
    } else {
        Understood {
            standalone: q.message.clone(),
            topic: None,
        }
    }
}

/// Adds the knowledge base's synonyms for phrases found in the query, and
/// for an abbreviation the pages define ("lasting power of attorney (LPA)")
/// the other form of it.
pub fn expand(content: &Content, query: &str) -> String {
    // Phrases whose words mean something else on the pages ("her carers"
    // are paid care workers) are searched for in the pages' words.
    let mut m = crate::text::for_matching(query);
    // Only the synonyms' words are marked as added, never the resident's.
    let (open, close) = crate::search::ADDED;
    let mut out = query.replace(open, " ").replace(close, " ");
    let mut changed = false;
    for (phrase, words) in &content.kb.instead {
        if m.contains(phrase.as_str()) {
            m = m.replace(phrase.as_str(), &crate::text::for_matching(words));
            changed = true;
        }
    }
    if changed {
        out = m.trim().to_string();
    }
    for (phrase, adds) in content.kb.synonyms.iter().chain(&content.abbreviations) {
        if m.contains(phrase.as_str()) && !out.to_lowercase().contains(&adds.to_lowercase()) {
            out.push_str(&format!(" {open} {adds} {close}"));
        }
    }
    out
}

/// "Disability-related expenditure (DRE)": words, then capitals in brackets.
static DEFINED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"((?:[A-Za-z]+[ -]){1,8}[A-Za-z]+) \(([A-Z]{2,6})\)")
        .expect("a valid pattern")
});

/// The abbreviations the pages define, each both ways as (phrase in
/// matching form, words to add): "lasting power of attorney (LPA)" gives
/// (" lpa ", "lasting power of attorney") and (" lasting power of
/// attorney ", "LPA"). The long form is the shortest run of words before
/// the brackets whose initials (leaving out "of", "and", "the", "for", "to",
/// "in", "a") spell the abbreviation.
pub(crate) fn abbreviations<'a>(bodies: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    const SMALL: [&str; 7] = ["of", "and", "the", "for", "to", "in", "a"];
    let mut found: std::collections::BTreeMap<String, String> = Default::default();
    for body in bodies {
        for c in DEFINED.captures_iter(body) {
            let abbr = &c[2];
            let words: Vec<&str> = c[1].split([' ', '-']).filter(|w| !w.is_empty()).collect();
            let mut initials = String::new();
            let mut start = None;
            for (i, w) in words.iter().enumerate().rev() {
                if SMALL.contains(&w.to_lowercase().as_str()) && !initials.is_empty() {
                    continue;
                }
                initials.insert(0, w.chars().next().unwrap_or(' ').to_ascii_uppercase());
                if initials.len() == abbr.len() {
                    start = Some(i);
                    break;
                }
            }
            let Some(i) = start.filter(|_| initials == abbr) else {
                continue;
            };
            // The long form from word `i` on, as the page wrote it (each
            // word was followed by one space or hyphen).
            let cut = words[..i].iter().map(|w| w.len() + 1).sum::<usize>();
            let long = c[1].get(cut..).unwrap_or(&c[1]).trim().to_string();
            found.entry(abbr.to_string()).or_insert(long);
        }
    }
    let mut out = Vec::new();
    for (abbr, long) in found {
        out.push((crate::text::for_matching(&abbr), long.clone()));
        out.push((crate::text::for_matching(&long), abbr));
    }
    out
}

/// Distinct analysed terms of a query with their rarity weights. Numbers
/// and amount and family words are not topics, so they are left out.
pub fn key_terms(content: &Content, query: &str) -> Vec<(String, f32)> {
    // Amounts and the people a question is about are not its topic.
    const NOT_TOPIC: &[&str] = &[
        "thousand",
        "hundred",
        "pound",
        "grand",
        "k",
        "quid",
        "penc",
        "week",
        "mum",
        "dad",
        "mother",
        "father",
        "parent",
        "husband",
        "wife",
        "partner",
        "son",
        "daughter",
        "brother",
        "sister",
        "nan",
        "gran",
        "grandma",
        "grandad",
        "grandmoth",
        "grandfath",
        "aunt",
        "uncl",
        "famili",
        "friend",
        "neighbour",
        "elderli",
        "old",
        "year",
        "ag",
        "good",
        "ever",
        "actual",
        "realli",
        "someon",
        "stepmum",
        "stepdad",
        "stepmoth",
        "stepfath",
        "stepson",
        "stepdaught",
        "grandson",
        "granddaught",
        "grandchild",
        "grandchildren",
        "grandpa",
        "granni",
        "nana",
        "nanna",
        "mam",
        "mom",
        "hubbi",
        "nephew",
        "niec",
        "cousin",
        "girlfriend",
        "boyfriend",
    ];
    // The resident's own words first, then the synonyms' (weighed less).
    let mut parts = crate::search::segments(query);
    parts.sort_by_key(|(_, added)| *added);
    let mut seen = HashSet::new();
    parts
        .into_iter()
        .flat_map(|(text, added)| {
            let scale = if added {
                content.index.synonym_weight()
            } else {
                1.0
            };
            content
                .index
                .terms(text)
                .into_iter()
                .map(move |t| (t, scale))
        })
        .filter(|(t, scale)| {
            *scale > 0.0
                && !t.chars().all(|c| c.is_ascii_digit())
                && !NOT_TOPIC.contains(&t.as_str())
        })
        .filter(|(t, _)| seen.insert(t.clone()))
        .map(|(t, scale)| {
            // Cap rarity so one word the pages never use doesn't outweigh the rest.
            let w = content.index.idf(&t).min(IDF_CAP) * scale;
            (t, w)
        })
        .collect()
}

/// When the question asks for local groups or places, the neighbourhood it
/// names (if any). `None` when it is not a local request.
pub fn local_request(content: &Content, question: &str) -> Option<Option<String>> {
    const LOCAL: [&str; 22] = [
        "group",
        "groups",
        "club",
        "clubs",
        "cafe",
        "cafes",
        "café",
        "cafés",
        "class",
        "classes",
        "near",
        "nearby",
        "local",
        "locally",
        "meet",
        "meets",
        "activities",
        "drop in",
        "near me",
        "in my area",
        "around here",
        "somewhere to go",
    ];
    let m = crate::text::for_matching(question);
    let area = content
        .areas
        .iter()
        .find(|(k, _)| m.contains(k.as_str()))
        .map(|(_, a)| a.clone());
    let asks = LOCAL.iter().any(|w| m.contains(&format!(" {w} ")));
    (asks || area.is_some()).then_some(area)
}

#[cfg(test)]
mod tests {
    #[test]
    fn abbreviations_the_pages_define_work_both_ways() {
        let found = super::abbreviations(
            [
                "You can make a lasting power of attorney (LPA) at any time.",
                "We allow for Disability-related expenditure (DRE) in the assessment.",
                "Ask about a Disabled Facilities Grant (DFG). Call us (MON) now.",
            ]
            .into_iter(),
        );
        let has = |k: &str, v: &str| found.iter().any(|(a, b)| a == k && b == v);
        assert!(has(" lpa ", "lasting power of attorney"), "{found:?}");
        assert!(has(" lasting power of attorney ", "LPA"), "{found:?}");
        assert!(has(" dre ", "Disability-related expenditure"), "{found:?}");
        assert!(has(" disabled facilities grant ", "DFG"), "{found:?}");
        // Capitals in brackets that are not the words' initials are not taken.
        assert!(!found.iter().any(|(a, _)| a == " mon "), "{found:?}");
    }
}
