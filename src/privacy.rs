//! Personal data: finding it in messages and replies, and redacting it before
//! anything is logged, stored or searched. Signpost never needs it.

use std::sync::LazyLock;

use regex::Regex;

/// Kinds of UK personal data Signpost looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Email,
    NhsNumber,
    CardNumber,
    NiNumber,
    Phone,
    Address,
}

impl Kind {
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Email => "[email address]",
            Kind::NhsNumber => "[NHS number]",
            Kind::CardNumber => "[card number]",
            Kind::NiNumber => "[National Insurance number]",
            Kind::Phone => "[phone number]",
            Kind::Address => "[address]",
        }
    }
}

/// One piece of personal data found, by byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").unwrap());
static DIGIT_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+44[\s-]?)?\d(?:[\s-]?\d){8,18}").unwrap());
static NI: LazyLock<Regex> = LazyLock::new(|| {
    // Any two letters: example numbers such as "QQ 12 34 56 C" are personal
    // data in intent, and a false alarm only hides a few characters.
    Regex::new(r"(?i)\b[a-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]\b").unwrap()
});
static HOUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:flat\s+\d+[a-z]?,?\s+)?\d{1,4}[a-z]?,?\s+(?:[a-z']+\s+){1,3}(?:road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|court|way|crescent|place|gardens|terrace|grove|walk|row|square|hill|mews|parade|view)\b").unwrap()
});
static POSTCODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b").unwrap());

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The NHS number check digit (modulus 11).
pub fn nhs_number_valid(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9]
        .iter()
        .enumerate()
        .map(|(i, x)| x * (10 - i as u32))
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == d[9]
}

/// The Luhn check used by payment cards.
pub fn luhn_valid(s: &str) -> bool {
    let d = digits(s);
    if !(13..=19).contains(&d.len()) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// All personal data in a text, without overlaps.
pub fn find(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut push = |kind, m: regex::Match| {
        out.push(Found {
            kind,
            start: m.start(),
            end: m.end(),
        })
    };
    for m in EMAIL.find_iter(text) {
        push(Kind::Email, m);
    }
    for m in DIGIT_RUN.find_iter(text) {
        let s = m.as_str();
        let n = digits(s).len();
        let kind = if n == 10 && !s.starts_with('0') && nhs_number_valid(s) {
            Some(Kind::NhsNumber)
        } else if luhn_valid(s) && n >= 13 {
            Some(Kind::CardNumber)
        } else if (s.starts_with('0') && (10..=11).contains(&n)) || s.starts_with("+44") {
            Some(Kind::Phone)
        } else {
            None
        };
        if let Some(k) = kind {
            push(k, m);
        }
    }
    for m in NI.find_iter(text) {
        push(Kind::NiNumber, m);
    }
    let houses: Vec<regex::Match> = HOUSE.find_iter(text).collect();
    if !houses.is_empty() {
        for m in houses {
            push(Kind::Address, m);
        }
        // A full postcode given with a house address identifies a home.
        for m in POSTCODE.find_iter(text) {
            push(Kind::Address, m);
        }
    }
    out.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut merged: Vec<Found> = Vec::new();
    for f in out {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    merged
}

/// The text with personal data replaced by placeholders such as "[phone number]".
pub fn redact(text: &str) -> String {
    let found = find(text);
    if found.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        out.push_str(f.kind.placeholder());
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The text with personal data removed altogether, for processing: the
/// stages never see it, nor placeholder words that could sway them.
pub fn remove(text: &str) -> String {
    let found = find(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        out.push(' ');
        at = f.end;
    }
    out.push_str(&text[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The kinds present, in order, without repeats.
pub fn kinds(text: &str) -> Vec<Kind> {
    let mut k: Vec<Kind> = find(text).into_iter().map(|f| f.kind).collect();
    k.sort();
    k.dedup();
    k
}

/// What Signpost tells someone who shared personal data.
pub const NOTICE: &str = "You don't need to give personal details such as phone numbers, email addresses, NHS or National Insurance numbers, card numbers or your address, so I have not kept them.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums() {
        assert!(nhs_number_valid("943 476 5919"));
        assert!(!nhs_number_valid("943 476 5918"));
        assert!(luhn_valid("4111 1111 1111 1111"));
        assert!(!luhn_valid("4111 1111 1111 1112"));
    }

    #[test]
    fn finds_and_redacts_uk_personal_data() {
        let t = "I'm jo.bloggs@mail.example, 07700 900123, NHS 943 476 5919, NI QQ 12 34 56 C, card 4111-1111-1111-1111, at 12 Quay Street, Northbay NB3 4QS";
        let r = redact(t);
        for bad in [
            "jo.bloggs",
            "07700",
            "943 476",
            "QQ 12",
            "4111",
            "12 Quay",
            "NB3 4QS",
        ] {
            assert!(!r.contains(bad), "{bad} left in: {r}");
        }
        assert_eq!(
            kinds(t),
            vec![
                Kind::Email,
                Kind::NhsNumber,
                Kind::CardNumber,
                Kind::NiNumber,
                Kind::Phone,
                Kind::Address
            ]
        );
    }

    #[test]
    fn ordinary_numbers_are_left_alone() {
        for t in [
            "I have £20,000 in savings",
            "she is 68 and cares 35 hours a week",
            "a 10 digit number that fails the check 1234567890",
            "does the Harbourside club meet in NB3?",
        ] {
            assert_eq!(redact(t), t);
        }
    }
}
