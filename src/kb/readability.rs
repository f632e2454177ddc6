//! Flesch-Kincaid grade of a page body, used by `kb check` to keep pages in
//! plain English. Headings are skipped; list items count as sentences.

use std::sync::LazyLock;

use regex::Regex;

static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z]+(?:['\u{2019}][A-Za-z]+)*").unwrap());
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").unwrap());
static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[.!?]+(?:\s|$)").unwrap());
static SILENT_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[^laeiouy]es|ed|[^laeiouy]e)$").unwrap());
static VOWELS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[aeiouy]{1,2}").unwrap());

/// Readability figures for one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Readability {
    pub grade: f64,
    pub words: usize,
    pub sentences: usize,
}

/// Estimated syllables in one word (a standard vowel-group heuristic).
pub fn syllables(word: &str) -> usize {
    let w = word.to_lowercase();
    if w.chars().count() <= 3 {
        return 1;
    }
    let w = SILENT_END.replace(&w, "");
    let w = w.strip_prefix('y').unwrap_or(&w);
    VOWELS.find_iter(w).count().max(1)
}

/// Flesch-Kincaid grade of a Markdown body.
pub fn flesch_kincaid(markdown_body: &str) -> Readability {
    let (mut sentences, mut words, mut syl) = (0usize, 0usize, 0usize);
    for line in markdown_body.lines() {
        let s = line.trim();
        if s.is_empty() || s.starts_with('#') {
            continue;
        }
        let s = LINK.replace_all(s, "$1");
        for part in SENTENCE_END.split(&s) {
            let ws: Vec<&str> = WORD.find_iter(part).map(|m| m.as_str()).collect();
            if ws.is_empty() {
                continue;
            }
            sentences += 1;
            words += ws.len();
            syl += ws.iter().map(|w| syllables(w)).sum::<usize>();
        }
    }
    let grade = if words == 0 {
        0.0
    } else {
        0.39 * words as f64 / sentences as f64 + 11.8 * syl as f64 / words as f64 - 15.59
    };
    Readability {
        grade,
        words,
        sentences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllable_counts() {
        assert_eq!(syllables("cat"), 1);
        assert_eq!(syllables("badge"), 1);
        assert_eq!(syllables("assessment"), 3);
        assert_eq!(syllables("allowance"), 3);
    }

    #[test]
    fn simple_text_scores_lower_than_dense_text() {
        let simple = flesch_kincaid("You can get help. We can visit you. It is free.");
        let dense = flesch_kincaid(
            "Eligibility determinations regarding institutional accommodation necessitate comprehensive financial investigation and documentation.",
        );
        assert!(simple.grade < 3.0, "{simple:?}");
        assert!(dense.grade > 15.0, "{dense:?}");
        assert_eq!(simple.sentences, 3);
    }

    #[test]
    fn headings_and_link_targets_are_ignored() {
        let r = flesch_kincaid("# A very complicated institutional heading\n\nSee [the page](https://x.example/a-b-c).");
        assert_eq!(r.words, 3);
        assert_eq!(r.sentences, 1);
    }
}
