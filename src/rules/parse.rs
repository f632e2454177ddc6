//! Understanding amounts and situations in ordinary words: "20 grand",
//! "£20k", "twenty thousand pounds", "about 20,000", "just under fifteen
//! thousand", "she's 68", "over state pension age", "my wife still lives
//! there", typed or as a lower-case voice transcript.

use std::sync::LazyLock;

use regex::Regex;

/// How an amount was qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approx {
    Exact,
    About,
    /// "just under", "nearly", "less than": strictly below the figure.
    Under,
    /// "just over", "more than": strictly above the figure.
    Over,
}

/// What an amount of money is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Savings,
    Earnings,
    Cost,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    pub value: f64,
    pub approx: Approx,
    pub role: Role,
}

impl Amount {
    /// The figure to apply the rules to: just under £14,250 is below it.
    pub fn effective(&self) -> f64 {
        match self.approx {
            Approx::Under => self.value - 1.0,
            Approx::Over => self.value + 1.0,
            _ => self.value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Home,
    CareHome,
}

/// Who would still live in the home when someone moves into a care home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupant {
    Partner,
    RelativeOver60,
    DisabledRelative,
    Child,
    /// Nobody, or someone the rules do not protect.
    NoneThatCounts,
}

/// The facts found in a question.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub amounts: Vec<Amount>,
    pub age: Option<u32>,
    /// Said to be over (true) or under (false) State Pension age, in words.
    pub over_pension_age: Option<bool>,
    pub hours: Option<f64>,
    pub setting: Option<Setting>,
    pub occupant: Option<Occupant>,
}

impl Facts {
    pub fn savings(&self) -> Option<Amount> {
        self.amounts
            .iter()
            .find(|a| a.role == Role::Savings)
            .or_else(|| {
                self.amounts
                    .iter()
                    .find(|a| a.role == Role::Unknown && a.value >= 1000.0)
            })
            .copied()
    }
    pub fn earnings(&self) -> Option<Amount> {
        self.amounts
            .iter()
            .find(|a| a.role == Role::Earnings)
            .copied()
    }
    pub fn cost(&self) -> Option<Amount> {
        self.amounts
            .iter()
            .find(|a| a.role == Role::Cost)
            .or_else(|| self.amounts.iter().find(|a| a.role == Role::Unknown))
            .copied()
    }
}

const SMALL: [(&str, u64); 28] = [
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Replaces runs of number words with digits: "twenty three thousand two
/// hundred and fifty" -> "23250", "a thousand" -> "1000".
pub fn words_to_digits(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let small = |w: &str| SMALL.iter().find(|(n, _)| *n == w).map(|(_, v)| *v);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let starts = small(words[i]).is_some()
            || (words[i] == "a"
                && matches!(words.get(i + 1), Some(&"hundred") | Some(&"thousand")));
        if !starts {
            out.push(words[i].to_string());
            i += 1;
            continue;
        }
        let (mut total, mut current, mut j, mut used) = (0u64, 0u64, i, false);
        while j < words.len() {
            let w = words[j];
            if let Some(v) = small(w) {
                current += v;
            } else if w == "a" && !used {
                current += 1;
            } else if w == "hundred" {
                current = current.max(1) * 100;
            } else if w == "thousand" {
                total += current.max(1) * 1000;
                current = 0;
            } else if w == "million" {
                total += current.max(1) * 1_000_000;
                current = 0;
            } else if w == "and" && j > i && words.get(j + 1).is_some_and(|n| small(n).is_some()) {
                // "two hundred and fifty"
            } else {
                break;
            }
            used = true;
            j += 1;
        }
        out.push((total + current).to_string());
        i = j.max(i + 1);
    }
    out.join(" ")
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<pound>£ ?)?(?P<num>\d+(?:[.,]\d+)*) ?(?P<suffix>k\b|grand\b|thousand\b|pounds?\b|quid\b)?").unwrap()
});
static AGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:i am|im|i m|she is|shes|she s|he is|hes|he s|they are|theyre|is|aged|age|turned|turning|turns|now) (?P<a>\d{1,3})\b(?: (?:years? old|yrs|yo|next|this))?|\b(?P<b>\d{1,3}) (?:years? old|year old|yr old|yo)\b)").unwrap()
});
static HOURS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,3}(?:\.\d)?) ?(?:hours|hrs|hour)\b").unwrap());

fn window(text: &str, start: usize, end: usize, before: usize, after: usize) -> (&str, &str) {
    let b0 = text[..start]
        .char_indices()
        .rev()
        .nth(before)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let a1 = text[end..]
        .char_indices()
        .nth(after)
        .map(|(i, _)| end + i)
        .unwrap_or(text.len());
    (&text[b0..start], &text[end..a1])
}

static THOUSANDS_SEP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d),(\d{3})\b").unwrap());
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\d)\.(\d)").unwrap());

/// The matching form with numbers kept whole: "£14,250" stays "£14250" and
/// "14.5k" stays "14.5k" (the general matching form would split them).
pub fn matching_form(question: &str) -> String {
    let mut t = question.to_string();
    loop {
        let next = THOUSANDS_SEP.replace_all(&t, "$1$2").into_owned();
        if next == t {
            break;
        }
        t = next;
    }
    let t = DECIMAL.replace_all(&t, "${1}DECIMALPOINT$2");
    words_to_digits(&crate::text::for_matching(&t).replace("decimalpoint", "."))
}

/// Finds the facts in a question.
pub fn facts(question: &str) -> Facts {
    let m = crate::text::UK_PHONE
        .replace_all(&matching_form(question), " ")
        .into_owned();
    let mut f = Facts::default();
    for c in AMOUNT.captures_iter(&m) {
        let whole = c.get(0).unwrap();
        let raw = &c["num"];
        let mut value: f64 = match raw.replace(',', "").parse() {
            Ok(v) => v,
            Err(_) => continue,
        };
        let suffix = c.name("suffix").map(|s| s.as_str()).unwrap_or("");
        let pound = c.name("pound").is_some();
        if matches!(suffix, "k" | "grand" | "thousand") {
            value *= 1000.0;
        }
        let (before, after) = window(&m, whole.start(), whole.end(), 40, 30);
        let after_trim = after.trim_start();
        // Not money: ages, hours, weeks, years, phone numbers, dates.
        if !pound
            && suffix.is_empty()
            && (value < 1000.0
                || raw.len() > 7
                || [
                    "hour", "week", "year", "month", "day", "mile", "percent", "%",
                ]
                .iter()
                .any(|w| after_trim.starts_with(w)))
        {
            continue;
        }
        let approx = if [
            " just under ",
            " a bit under ",
            " slightly under ",
            " a little under ",
            " under ",
            " less than ",
            " below ",
            " nearly ",
            " almost ",
            " not quite ",
        ]
        .iter()
        .any(|w| before.ends_with(w))
        {
            Approx::Under
        } else if [
            " just over ",
            " a bit over ",
            " slightly over ",
            " a little over ",
            " over ",
            " more than ",
            " above ",
        ]
        .iter()
        .any(|w| before.ends_with(w))
        {
            Approx::Over
        } else if [
            " about ",
            " around ",
            " roughly ",
            " approximately ",
            " approx ",
            " round about ",
            " something like ",
            " give or take ",
        ]
        .iter()
        .any(|w| before.ends_with(w))
        {
            Approx::About
        } else {
            Approx::Exact
        };
        let near = format!("{before} {after}");
        let has = |ws: &[&str]| ws.iter().any(|w| near.contains(w));
        let role = if has(&[
            " earn",
            "wage",
            "salary",
            " a week",
            " per week",
            " pw ",
            "weekly",
            " paid ",
        ]) {
            Role::Earnings
        } else if has(&[
            "saving",
            "saved",
            "capital",
            "in the bank",
            "assets",
            " isa",
            "investment",
            "nest egg",
            "in savings",
            " got ",
            " have ",
            "left",
            "put by",
            "put away",
        ]) {
            Role::Savings
        } else if has(&[
            "cost",
            "quote",
            "price",
            "charge",
            " for a ",
            " for the ",
            "estimate",
            " be about",
        ]) {
            Role::Cost
        } else {
            Role::Unknown
        };
        f.amounts.push(Amount {
            value,
            approx,
            role,
        });
    }
    for c in AGE.captures_iter(&m) {
        let a = c
            .name("a")
            .or(c.name("b"))
            .and_then(|x| x.as_str().parse::<u32>().ok());
        let whole = c.get(0).unwrap();
        let after = m[whole.end()..].trim_start();
        if let Some(a) = a.filter(|a| (1..=115).contains(a)) {
            if ![
                "hour", "week", "month", "day", "percent", "grand", "k ", "thousand", "pound",
                "quid",
            ]
            .iter()
            .any(|w| after.starts_with(w))
            {
                f.age = Some(a);
                break;
            }
        }
    }
    let has = |ws: &[&str]| ws.iter().any(|w| m.contains(w));
    if has(&[
        " over state pension age",
        " past state pension age",
        " above state pension age",
        " of state pension age",
        " retired ",
        " pensioner",
        " on a pension",
        " old age pension",
        " getting my state pension",
        " gets her state pension",
        " gets his state pension",
    ]) {
        f.over_pension_age = Some(true);
    } else if has(&[
        " under state pension age",
        " below state pension age",
        " not yet state pension age",
        " working age",
        " not retired",
    ]) {
        f.over_pension_age = Some(false);
    }
    if let Some(c) = HOURS.captures(&m) {
        f.hours = c[1].parse().ok();
    } else if has(&[
        " 24 7 ",
        " 247 ",
        " round the clock",
        " all day every day",
        " day and night",
        " full time",
    ]) {
        f.hours = Some(168.0);
    }
    if has(&[
        " care home",
        " nursing home",
        " residential",
        " into a home",
        " old peoples home",
        " a home for good",
        " into care ",
    ]) {
        f.setting = Some(Setting::CareHome);
    } else if has(&[
        " at home",
        " home care",
        " carers coming",
        " care in my own home",
        " in her own home",
        " in his own home",
        " in my home",
        " carers in ",
        " domiciliary",
        " stay at home",
        " staying at home",
        " carers to come",
    ]) {
        f.setting = Some(Setting::Home);
    }
    f.occupant = occupant(&m);
    f
}

static LIVES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?P<who>wife|husband|partner|spouse|civil partner|girlfriend|boyfriend|daughter|son|sister|brother|mum|mother|dad|father|aunt|uncle|niece|nephew|cousin|grandson|granddaughter|relative|child|kids|children|carer|lodger|friend)\b(?P<mid>(?: \w+){0,6}?) (?:still )?(?:lives|living|live|stays|staying|stay|is staying|is living|will stay|will be living|will still live|would still live)\b").unwrap()
});

fn occupant(m: &str) -> Option<Occupant> {
    if [
        " live alone",
        " lives alone",
        " living alone",
        " on my own",
        " on her own",
        " on his own",
        " nobody else lives",
        " no one else lives",
        " nobody lives",
        " no one lives",
        " be empty",
        " empty house",
        " nobody will be living",
        " no one will be living",
    ]
    .iter()
    .any(|w| m.contains(w))
    {
        return Some(Occupant::NoneThatCounts);
    }
    let c = LIVES.captures(m)?;
    let who = &c["who"];
    let mid = &c["mid"];
    // "my 16 year old grandson lives with me": the age may come first.
    let start = c.get(0).unwrap().start();
    let before: Vec<&str> = m[..start].split_whitespace().rev().take(4).collect();
    let age = mid
        .split_whitespace()
        .chain(before.iter().copied())
        .find_map(|w| w.parse::<u32>().ok())
        .or_else(|| {
            // "my daughter who is 62 still lives there"
            let tail: String = m[c.get(0).unwrap().start()..].chars().take(60).collect();
            tail.split_whitespace().find_map(|w| w.parse::<u32>().ok())
        });
    let disabled = mid.contains("disabled") || m.contains(&format!("disabled {who}"));
    Some(match who {
        "wife" | "husband" | "partner" | "spouse" | "civil partner" | "girlfriend"
        | "boyfriend" => Occupant::Partner,
        "child" | "kids" | "children" => Occupant::Child,
        "carer" | "lodger" | "friend" => Occupant::NoneThatCounts,
        _ if disabled => Occupant::DisabledRelative,
        _ => match age {
            Some(a) if a >= 60 => Occupant::RelativeOver60,
            Some(a)
                if a < 18
                    && matches!(
                        who,
                        "son" | "daughter" | "grandson" | "granddaughter" | "niece" | "nephew"
                    ) =>
            {
                Occupant::Child
            }
            Some(_) => Occupant::NoneThatCounts,
            // A parent of someone old enough to be asking is usually over 60.
            None if matches!(who, "mum" | "mother" | "dad" | "father") => Occupant::RelativeOver60,
            None => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn savings(q: &str) -> Option<(f64, Approx)> {
        facts(q).savings().map(|a| (a.value, a.approx))
    }

    #[test]
    fn number_words() {
        assert_eq!(words_to_digits("twenty thousand pounds"), "20000 pounds");
        assert_eq!(
            words_to_digits("twenty three thousand two hundred and fifty"),
            "23250"
        );
        assert_eq!(
            words_to_digits("just under fifteen thousand"),
            "just under 15000"
        );
        assert_eq!(words_to_digits("a thousand"), "1000");
        assert_eq!(words_to_digits("i have one question"), "i have 1 question");
    }

    #[test]
    fn money_in_ordinary_words() {
        assert_eq!(
            savings("i've got 20 grand saved"),
            Some((20000.0, Approx::Exact))
        );
        assert_eq!(
            savings("I have £20k in savings"),
            Some((20000.0, Approx::Exact))
        );
        assert_eq!(
            savings("twenty thousand pounds in the bank"),
            Some((20000.0, Approx::Exact))
        );
        assert_eq!(
            savings("savings of about 20,000"),
            Some((20000.0, Approx::About))
        );
        assert_eq!(
            savings("just under fifteen thousand saved"),
            Some((15000.0, Approx::Under))
        );
        assert_eq!(
            savings("my savings are about 20 thousand pounds"),
            Some((20000.0, Approx::About))
        );
        assert_eq!(
            savings("i have £14,250 in savings"),
            Some((14250.0, Approx::Exact))
        );
        assert_eq!(savings("savings of 14.5k"), Some((14500.0, Approx::Exact)));
        assert_eq!(
            facts("i earn £250 a week").earnings().map(|a| a.value),
            Some(250.0)
        );
        assert_eq!(
            facts("the quote is £38,000 for a wet room")
                .cost()
                .map(|a| a.value),
            Some(38000.0)
        );
        assert!(facts("call 01632 960100").amounts.is_empty());
    }

    #[test]
    fn ages_hours_and_situations() {
        assert_eq!(
            facts("mum is 68, can she get attendance allowance").age,
            Some(68)
        );
        assert_eq!(facts("she's 68").age, Some(68));
        assert_eq!(facts("my dad is 70 years old").age, Some(70));
        assert_eq!(facts("i care for 40 hours a week").age, None);
        assert_eq!(facts("i care for 40 hours a week").hours, Some(40.0));
        assert_eq!(
            facts("she is over state pension age").over_pension_age,
            Some(true)
        );
        assert_eq!(
            facts("my wife still lives there").occupant,
            Some(Occupant::Partner)
        );
        assert_eq!(
            facts("my daughter who is 62 lives with me").occupant,
            Some(Occupant::RelativeOver60)
        );
        assert_eq!(
            facts("my son is 14 and lives with me").occupant,
            Some(Occupant::Child)
        );
        assert_eq!(
            facts("i live alone").occupant,
            Some(Occupant::NoneThatCounts)
        );
        assert_eq!(
            facts("will they take my house if i go into a care home").setting,
            Some(Setting::CareHome)
        );
        assert_eq!(
            facts("will i have to pay for carers at home").setting,
            Some(Setting::Home)
        );
    }
}
