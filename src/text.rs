//! Small text helpers shared by the stages.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// The pattern of a UK phone number as people write it: 0 and 9 or 10 more
/// digits, in groups or run together ("01632 960100", "0300 123 2040",
/// "07700 900123", "01632960100"). The one definition every part of
/// Signpost uses; some add short numbers (999, 111) of their own.
pub const UK_PHONE_PATTERN: &str = r"\b0\d{2,4} ?\d{3} ?\d{3,4}\b|\b0\d{9,10}\b";

/// [`UK_PHONE_PATTERN`], compiled.
pub static UK_PHONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(UK_PHONE_PATTERN).unwrap());

/// Whether `s` is one UK phone number and nothing else: the digits of a UK
/// number (0 and 9 or 10 more, or +44 and 10), with spaces, brackets or
/// dashes between them.
pub fn is_uk_phone(s: &str) -> bool {
    let s = s.trim();
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'));
    let uk = if s.starts_with("+44") {
        digits.len() == 12
    } else {
        digits.starts_with('0') && (digits.len() == 10 || digits.len() == 11)
    };
    allowed && uk
}

/// Lower-cases and simplifies text for pattern matching: NFKC, curly quotes
/// and apostrophes dropped ("can't" -> "cant"), other punctuation to spaces,
/// runs of white space to one space, and a leading and trailing space so
/// patterns can use " word " boundaries.
pub fn for_matching(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut last_space = true;
    for c in text.nfkc().flat_map(char::to_lowercase) {
        let c = match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' => continue,
            '£' => '£',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if !last_space {
        out.push(' ');
    }
    out
}

/// Number of words in a text.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Escapes text for HTML or XML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The median: the middle value, or the mean of the two middle values when
/// there is an even number. 0 for none.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_form() {
        assert_eq!(
            for_matching("My Mum's FALLEN, can’t get up!"),
            " my mums fallen cant get up "
        );
        assert_eq!(for_matching("£10?"), " £10 ");
    }
}
