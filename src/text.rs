//! Small text helpers shared by the stages.

use unicode_normalization::UnicodeNormalization;

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
