//! Composition: the answer's sentences, quoted whole from the passages that
//! answer the question (the page's key answer and the sentences that carry
//! what was asked for, up to the word limit), led by a calculation when a
//! calculator answered, with local services from the directory, and the
//! sources to cite.

use std::collections::{HashMap, HashSet};

use crate::config::AnswerSettings;
use crate::kb::Service;
use crate::rules::calc::Calculation;
use crate::search::Hit;

use super::types::Passage;
use super::Content;

/// What was asked, for choosing sentences.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    /// The resident's words.
    pub message: &'a str,
    /// Their embedding, when sentences are chosen by meaning too.
    pub meaning: Option<&'a [f32]>,
    /// What the assistant already said in this conversation: a sentence in
    /// it is not said again while another will do.
    pub said: &'a [String],
}

/// Picks whole sentences from the best passages, most important first, up
/// to the word limit and `max_sentences`: the best sentence leads, the rest
/// follow in page order. Returns the sentences and the passages they come
/// from.
pub fn sentences(
    content: &Content,
    settings: &AnswerSettings,
    asked: &Asked,
    qterms: &[(String, f32)],
    hits: &[Hit],
    max_sentences: usize,
) -> (Vec<String>, Vec<Passage>) {
    let meaning = asked.meaning;
    let wants = Wants::of(asked.message);
    let best = hits.first().map(|h| h.score).unwrap_or(1.0).max(1e-6);
    let top_slug = hits
        .first()
        .map(|h| content.index.chunks[h.chunk].slug.clone())
        .unwrap_or_default();
    let qset: HashMap<&str, f32> = qterms.iter().map(|(t, w)| (t.as_str(), *w)).collect();

    struct Cand {
        text: String,
        score: f32,
        hit: usize,
        /// Where the sentence is in its page, to keep page order.
        order: (usize, usize),
        /// The passage and the sentence's place in it.
        chunk: usize,
        unit: usize,
    }
    let mut cands: Vec<Cand> = Vec::new();
    // What a sentence is quoted as: itself, or for a bare "Yes." or "No."
    // that answers an FAQ question, the question with it ("Can we get
    // benefits quickly? Yes."); a bare answer under any other heading is
    // never quoted.
    // An FAQ answer that opens "Yes, …" or "No, …" is quoted with its
    // question too, so that the yes or no is not taken as the answer to
    // what the resident asked.
    let shown = |chunk: usize, j: usize| -> Option<String> {
        let c = &content.index.chunks[chunk];
        let unit = &c.units[j];
        let question = c.headings.last().filter(|h| asks(h));
        match question {
            Some(h) if j == 0 && (SETTLES.is_match(&unit.to_lowercase()) || leans_back(unit)) => {
                Some(format!("{} {unit}", h.trim()))
            }
            _ if bare_answer(unit) => None,
            // A definition given as a fragment under a short label heading
            // ("Financial or material abuse" then "Stealing, fraud, scams…")
            // means nothing without its label: it is quoted after it.
            None if j == 0 && labels(&c.headings, unit) => {
                Some(format!("{}: {unit}", c.headings.last()?.trim()))
            }
            _ => Some(unit.clone()),
        }
    };
    // What kind of thing was asked for (a figure, a number to call, a step
    // to take), which closeness in meaning does not see, keeps its weight
    // beside the meaning's.
    let kind = 1.0 + meaning.map_or(0.0, |_| settings.meaning_weight / 8.0);
    // The best page's opening (its key answer) is always a candidate.
    // Judged by meaning as well, every passage retrieved is worth a look.
    let look = if meaning.is_some() { hits.len() } else { 5 };
    let mut considered: Vec<Hit> = hits.iter().take(look).cloned().collect();
    if let Some(intro) = content
        .index
        .chunks
        .iter()
        .position(|c| c.slug == top_slug && c.page_start)
    {
        if !considered.iter().any(|h| h.chunk == intro) {
            considered.push(Hit {
                chunk: intro,
                score: best * 0.8,
            });
        }
    }
    for (rank, h) in considered.iter().enumerate() {
        let c = &content.index.chunks[h.chunk];
        let rel = h.score / best;
        // When the best page is past its review date, a current page found
        // further down is still looked at for the figures asked for.
        let floor =
            if wants.money && content.dated.contains(&top_slug) && !content.dated.contains(&c.slug)
            {
                0.15
            } else {
                0.35
            };
        if rel < floor {
            continue;
        }
        // A section whose heading asks what the resident asked: every word
        // of the heading is one of the question's ("What are the types of
        // LPA?" for "what are the two types of lasting power of attorney").
        let asked_heading = c.headings.last().map(|h| h.trim()).filter(|h| {
            let ht: std::collections::BTreeSet<String> =
                content.index.terms(h).into_iter().collect();
            asks(h) && ht.len() >= 2 && ht.iter().all(|t| qset.contains_key(t.as_str()))
        });
        for (i, unit) in c.units.iter().enumerate() {
            let Some(text) = shown(h.chunk, i) else {
                continue;
            };
            // Under a heading that asks a question (an FAQ, an accordion),
            // the first sentence answers it: its words include the
            // question's, as an FAQ answer's shown text does.
            let question = c.headings.last().filter(|h| i == 0 && asks(h));
            let mut words = match question {
                Some(h) if !text.starts_with(h.trim()) => format!("{} {text}", h.trim()),
                _ => text.clone(),
            };
            // Under a heading that asks what the resident asked, the
            // opening sentence answers it about the page's subject: it
            // carries the heading's and the title's words.
            let answers_heading = asked_heading.filter(|_| i == 0);
            if let Some(h) = answers_heading {
                words = format!("{} {h} {words}", c.title);
            }
            // Summed in a fixed order, so the same question always gets
            // the same scores (a hash set's order changes run to run).
            let terms: std::collections::BTreeSet<String> =
                content.index.terms(&words).into_iter().collect();
            let overlap: f32 = terms.iter().filter_map(|t| qset.get(t.as_str())).sum();
            let mut score = overlap * (0.6 + 0.4 * rel);
            if c.page_start && i < 2 {
                score += 1.5; // the page's key answer
            } else if i == 0 {
                score += 0.5; // a section's opening sentence
            }
            // Pages put what matters most first.
            score += 0.6 / (1.0 + c.position as f32 * 0.5);
            score += wants.bonus(unit) * kind;
            let mut close = 0.0;
            let vector = content
                .unit_vectors
                .as_ref()
                .and_then(|u| u.get(h.chunk))
                .and_then(|u| u.get(i))
                .map(Vec::as_slice);
            // Closeness in meaning: a sentence that says what was asked in
            // other words ("a year to live" and "12 months").
            if let (Some(q), Some(v)) = (meaning, vector) {
                close = crate::embed::cosine(q, v);
                score += settings.meaning_weight * (close - 0.2).max(0.0);
            }
            // Under a heading that asks what the resident asked (an FAQ or
            // accordion question close in meaning), the first sentence is
            // the page's answer; a yes or no there settles a yes/no question.
            if question.is_some() && close >= 0.55 {
                score += kind * 0.5;
                if wants.yes_no && SETTLES.is_match(&unit.to_lowercase()) {
                    score += kind;
                }
            }
            // It leads.
            if answers_heading.is_some() {
                score *= 1.3;
            }
            if c.slug != top_slug {
                score *= 0.8;
            }
            // A page past its review date gives way to a current one that
            // says the same kind of thing (last year's charges, this year's).
            if content.dated.contains(&c.slug) {
                score *= 0.85;
                // Its figures most of all.
                if wants.money && unit.contains('£') {
                    score *= 0.6;
                }
            }
            // A sentence on the best page that carries what was asked for
            // (the number to call, the figure, how long) is a candidate
            // even in other words ("who do I phone" and "call them on …").
            let carries = c.slug == top_slug && wants.carries(unit);
            if overlap > 0.0 || close >= 0.5 || carries || (rank == 0 && c.page_start && i < 2) {
                cands.push(Cand {
                    text,
                    score,
                    hit: rank,
                    order: (c.position, i),
                    chunk: h.chunk,
                    unit: i,
                });
            }
        }
    }
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    // A follow-up gets what was not said before, if the pages have more.
    let said_before = |t: &str| asked.said.iter().any(|s| s.contains(t));
    if cands.iter().any(|c| !said_before(&c.text)) {
        cands.retain(|c| !said_before(&c.text));
    }

    let max_words = settings.max_words;
    let mut words = 0;
    let mut chosen: Vec<Cand> = Vec::new();
    // How many sentences the best one brings (it and any it leans on).
    let mut lead = 0;
    for c in cands {
        if chosen
            .iter()
            .any(|x| x.text == c.text || similar(&x.text, &c.text))
        {
            continue;
        }
        // A sentence that leans on the one before it ("It is free for 6
        // weeks") is quoted with the sentences it refers to, or not at all.
        let units = &content.index.chunks[c.chunk].units;
        let mut first = c.unit;
        while first > 0 && c.unit - first < 2 && leans_back(&units[first]) {
            first -= 1;
        }
        // The FAQ answer's "Yes." or "No." comes with the sentence after it.
        if first > 0 && bare_answer(&units[first - 1]) && shown(c.chunk, first - 1).is_some() {
            first -= 1;
        }
        // Sentence `j` of the same passage, quoted along with `c` (unless
        // it is already in the answer).
        let along = |js: Vec<usize>| -> Vec<Cand> {
            js.into_iter()
                .filter_map(|j| shown(c.chunk, j).map(|t| (j, t)))
                .filter(|(_, t)| !chosen.iter().any(|x| x.text == *t))
                .map(|(j, text)| Cand {
                    text,
                    score: c.score,
                    hit: c.hit,
                    order: (c.order.0, j),
                    chunk: c.chunk,
                    unit: j,
                })
                .collect()
        };
        let before = along((first..c.unit).collect());
        // A sentence that announces how many there are ("There are two
        // types of lasting power of attorney.") is quoted with the
        // sentences that name them; a bare "Yes." with what follows it.
        let mut next = named_after(&c.text, units, c.unit);
        if bare_answer(&units[c.unit]) && c.unit + 1 < units.len() {
            next.insert(0, c.unit + 1);
        }
        let after = along(next);
        let n = crate::text::word_count(&c.text)
            + before
                .iter()
                .chain(&after)
                .map(|b| crate::text::word_count(&b.text))
                .sum::<usize>();
        if !chosen.is_empty() && words + n > max_words {
            continue;
        }
        words += n;
        chosen.extend(before);
        chosen.push(c);
        chosen.extend(after);
        if lead == 0 {
            lead = chosen.len();
        }
        if words >= max_words * 3 / 4 || chosen.len() >= max_sentences {
            break;
        }
    }
    // The best sentence leads; the rest follow in page order so they read naturally.
    if chosen.len() > lead + 1 {
        let rest = &mut chosen[lead..];
        rest.sort_by_key(|c| (c.hit.min(1), considered[c.hit].chunk, c.order));
    }
    // Then the next step: when no sentence quoted gives a number to call,
    // the lead page's nearest sentence that does (the team that helps with
    // what the answer is about: "Call the hub or drop in on Wednesdays").
    if settings.next_step_words > 0 && max_sentences > 1 {
        let has_number = chosen
            .iter()
            .any(|c| crate::text::UK_PHONE.is_match(&c.text));
        let lead = chosen.first().map(|c| &content.index.chunks[c.chunk]);
        if let Some(lead) = lead.filter(|_| !has_number) {
            // Nearest first: the lead's own passage, then the page's
            // passages after it, then those before it. A sentence that
            // leans on the one before it ("Call them on…") comes with it.
            //
            // How near, the passage, and the sentences with their places.
            type Next = (usize, usize, Vec<(usize, String)>);
            let mut next: Option<Next> = None;
            for (ci, c) in content.index.chunks.iter().enumerate() {
                if c.slug != lead.slug {
                    continue;
                }
                let distance = c.position.abs_diff(lead.position) * 2
                    + usize::from(c.position < lead.position);
                if next.as_ref().is_some_and(|n| n.0 <= distance) {
                    continue;
                }
                let found = c.units.iter().enumerate().find_map(|(j, u)| {
                    if !crate::text::UK_PHONE.is_match(u) {
                        return None;
                    }
                    let mut first = j;
                    while first > 0 && j - first < 2 && leans_back(&c.units[first]) {
                        first -= 1;
                    }
                    if leans_back(&c.units[first]) {
                        return None;
                    }
                    let group: Option<Vec<(usize, String)>> =
                        (first..=j).map(|k| shown(ci, k).map(|t| (k, t))).collect();
                    group.filter(|g| {
                        g.iter()
                            .map(|(_, t)| crate::text::word_count(t))
                            .sum::<usize>()
                            <= settings.next_step_words
                            && g.iter().all(|(_, t)| {
                                !said_before(t) && !chosen.iter().any(|x| x.text == *t)
                            })
                    })
                });
                if let Some(group) = found {
                    next = Some((distance, ci, group));
                }
            }
            if let Some((_, ci, group)) = next {
                // Cited from its own passage, which may not have been found.
                let hit = considered
                    .iter()
                    .position(|h| h.chunk == ci)
                    .unwrap_or_else(|| {
                        considered.push(Hit {
                            chunk: ci,
                            score: 0.0,
                        });
                        considered.len() - 1
                    });
                for (j, text) in group {
                    chosen.push(Cand {
                        text,
                        score: 0.0,
                        hit,
                        order: (content.index.chunks[ci].position, j),
                        chunk: ci,
                        unit: j,
                    });
                }
            }
        }
    }
    let chosen: Vec<(String, usize)> = chosen.into_iter().map(|c| (c.text, c.hit)).collect();
    let mut passages: Vec<Passage> = Vec::new();
    for (_, hit) in &chosen {
        let c = &content.index.chunks[considered[*hit].chunk];
        if !passages.iter().any(|p| p.chunk == c.id) {
            // With its heading, which an FAQ answer's "Yes." is quoted with
            // (and a labelled fragment, after a colon).
            let text = match c.headings.last() {
                Some(h) if asks(h) => format!("{} {}", h.trim(), c.text()),
                Some(h) => format!("{}: {}", h.trim(), c.text()),
                None => c.text(),
            };
            passages.push(Passage {
                chunk: c.id.clone(),
                slug: c.slug.clone(),
                text,
            });
        }
    }
    (chosen.into_iter().map(|(t, _)| t).collect(), passages)
}

/// The question's embedding, when sentences are chosen by meaning too:
/// `known` when the caller already has it, else made here.
pub fn meaning_of(
    content: &Content,
    settings: &AnswerSettings,
    question: &str,
    known: Option<Vec<f32>>,
) -> Option<Vec<f32>> {
    if settings.meaning_weight <= 0.0 || content.unit_vectors.is_none() {
        return None;
    }
    if known.is_some() {
        return known;
    }
    let embedder = content.embedder()?;
    match embedder.embed_one(question) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "the question could not be embedded; sentences are chosen by their words alone");
            None
        }
    }
}

/// The answer put together: the calculation's sentences lead (they rest on
/// the rules data, which `kb check` keeps in step with the pages they cite),
/// then the quoted sentences, then one sentence per local service.
pub struct Composed {
    pub answer: Vec<String>,
    pub passages: Vec<Passage>,
    /// Pages to cite, in order.
    pub slugs: Vec<String>,
}

/// Adds the calculation and the services to the quoted sentences, and picks
/// the sources: the calculator's pages, the pages quoted (in order), the
/// page about each service's kind, then other strong hits, up to `max`.
pub fn assemble(
    content: &Content,
    quoted: (Vec<String>, Vec<Passage>),
    calculation: Option<&Calculation>,
    services: &[&Service],
    hits: &[Hit],
    max_sources: usize,
) -> Composed {
    let (mut answer, mut passages) = quoted;
    let mut calc_pages: Vec<String> = Vec::new();
    if let Some(c) = calculation {
        passages.insert(
            0,
            Passage {
                chunk: format!("calculator:{}", c.name),
                slug: format!("calculator:{}", c.name),
                text: c.sentences.join(" "),
            },
        );
        answer.retain(|s| !c.sentences.contains(s));
        answer.splice(0..0, c.sentences.iter().cloned());
        calc_pages = c.pages.clone();
    }
    for s in services {
        let sentence = service_sentence(s);
        passages.push(Passage {
            chunk: format!("service:{}", s.id),
            slug: format!("service:{}", s.id),
            text: format!("{sentence} {}", s.description),
        });
        answer.push(sentence);
    }
    let best = hits.first().map(|h| h.score).unwrap_or(0.0);
    let mut slugs: Vec<String> = calc_pages;
    for p in &passages {
        if !slugs.contains(&p.slug) && content.page_by_slug.contains_key(&p.slug) {
            slugs.push(p.slug.clone());
        }
    }
    // A directory answer cites the page about that kind of service.
    for s in services {
        if let Some(page) = s
            .categories
            .iter()
            .find_map(|c| content.kb.pages.iter().find(|p| p.topics.contains(c)))
        {
            if !slugs.contains(&page.slug) {
                slugs.push(page.slug.clone());
            }
        }
    }
    for h in hits {
        let slug = &content.index.chunks[h.chunk].slug;
        if h.score >= best * 0.6 && !slugs.contains(slug) {
            slugs.push(slug.clone());
        }
    }
    slugs.truncate(max_sources);
    Composed {
        answer,
        passages,
        slugs,
    }
}

/// One sentence introducing a service from the directory, built only from its record.
fn service_sentence(s: &Service) -> String {
    let mut out = format!("Local service: {}", s.name);
    if let Some(a) = &s.address {
        out.push_str(&format!(", at {a}"));
    } else if let Some(a) = s.areas.first() {
        out.push_str(&format!(", for {a}"));
    }
    if let Some(when) = &s.schedule {
        out.push_str(&format!(". {}", when.trim_end_matches('.')));
    }
    match (&s.phone, &s.email) {
        (Some(p), _) => out.push_str(&format!(". Call {p}.")),
        (None, Some(e)) => out.push_str(&format!(". Email {e}.")),
        _ => out.push('.'),
    }
    out
}

/// A sentence that is only "Yes." or "No.": an FAQ answer's first word.
fn bare_answer(sentence: &str) -> bool {
    let t = sentence.trim().trim_end_matches(['.', '!', ',']);
    t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("no")
}

/// Whether a heading asks a question (an FAQ's or an accordion's).
fn asks(heading: &str) -> bool {
    heading.trim_end().ends_with('?')
}

/// Whether `unit`, the first sentence under `headings`, is a fragment that
/// the last heading labels: a short heading that is not a question, and a
/// sentence with no verb or subject of its own ("Stealing, fraud, scams,
/// or misusing someone's money.").
fn labels(headings: &[String], unit: &str) -> bool {
    let Some(h) = headings.last() else {
        return false;
    };
    let h = h.trim();
    !h.is_empty()
        && !asks(h)
        && crate::text::word_count(h) <= 8
        && !h.contains(':')
        && !unit.contains(':')
        && !CLAUSE.is_match(&unit.to_lowercase())
}

/// Words that make a sentence a clause of its own: a finite verb or a subject.
static CLAUSE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"\b(is|are|was|were|be|been|being|am|can|cannot|can't|could|will|won't|would|may|might|must|should|shall|has|have|had|do|does|did|don't|doesn't|we|you|they|he|she|it|i|there|this|these|our|your|call|ask|see|contact|use|go|get|tell|find|read|visit|email|phone|apply)\b",
    )
    .expect("a valid pattern")
});

/// Whether a sentence leans on the one before it for its meaning: it opens
/// with a pronoun or a phrase that points back ("They", "This", "If so"),
/// it qualifies what was just said ("However, …", "But …", "Complicated
/// complaints can take longer": longer than the sentence before says), or
/// it sends you to "them" ("If something breaks, call them on …").
fn leans_back(sentence: &str) -> bool {
    LEANS_BACK.is_match(sentence)
}

static LEANS_BACK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^(?i:(it|its|it's|they|they're|their|them|these|those|he|she|this|that)\b|(if|unless) (so|not|that|this|they|it)\b|otherwise\b|however\b|but\b|(more )?(complicated|complex|urgent|difficult) (\w+ )?(can|may|might|could|will|sometimes|often)\b)|(?i:\b(can|may|might|could|will|sometimes|often|usually) take longer\b)|(?i:\b(call|contact|ring|phone|email|write to) (them|him|her)\b)",
    )
    .expect("a valid pattern")
});

/// The sentences that name what `sentence` announces a count of ("There
/// are two types of LPA." followed by "An LPA for property..." and "An LPA
/// for health..."): the first `n` of the next few sentences in the passage
/// that open with the same two words, when at least `n` do. Empty when the
/// sentence announces nothing or names its items itself.
fn named_after(sentence: &str, units: &[String], at: usize) -> Vec<usize> {
    let Some(n) = ANNOUNCES
        .captures(sentence)
        .and_then(|c| match c[1].to_lowercase().as_str() {
            "two" | "2" => Some(2),
            "three" | "3" => Some(3),
            "four" | "4" => Some(4),
            _ => None,
        })
    else {
        return Vec::new();
    };
    let next: Vec<usize> = (at + 1..units.len().min(at + 10)).collect();
    // Items given with run-in labels ("Health and welfare: This covers…",
    // from "**Health and welfare.** This covers…") come first.
    let labelled: Vec<usize> = next
        .iter()
        .copied()
        .filter(|&k| run_in_label(&units[k]))
        .take(n)
        .collect();
    if labelled.len() == n {
        return labelled;
    }
    // Else items that all open the same way.
    let opening = |s: &str| -> String {
        s.split_whitespace()
            .take(2)
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for &j in &next {
        let o = opening(&units[j]);
        let same: Vec<usize> = next
            .iter()
            .copied()
            .filter(|&k| k >= j && opening(&units[k]) == o)
            .take(n)
            .collect();
        if same.len() == n {
            return same;
        }
    }
    Vec::new()
}

/// Whether a sentence opens with a short run-in label ("Health and welfare:
/// This covers…").
fn run_in_label(sentence: &str) -> bool {
    sentence.split_once(": ").is_some_and(|(l, _)| {
        let n = crate::text::word_count(l);
        (1..=6).contains(&n) && !CLAUSE.is_match(&l.to_lowercase())
    })
}

/// "There are two types of...", "You can do this in three ways." ending
/// the sentence, so the items come after it.
static ANNOUNCES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(two|three|four|2|3|4) (?:main |different )?(?:types|kinds|sorts|ways|routes|parts|options|forms)\b[^:;]*\.$",
    )
    .expect("a valid pattern")
});

/// Two sentences are near-duplicates when most of their words are shared.
fn similar(a: &str, b: &str) -> bool {
    let wa: HashSet<&str> = a.split_whitespace().collect();
    let wb: HashSet<&str> = b.split_whitespace().collect();
    let inter = wa.intersection(&wb).count() as f32;
    inter / (wa.len().min(wb.len()).max(1) as f32) > 0.8
}

static HOW_TO: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r" (how|where) (do|can|should) (i|we|you) | who (do|can|should) (i|we) ")
        .expect("a valid pattern")
});

/// "Who do I tell", "who can we contact": someone to get in touch with.
static NUMBER_WANTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r" who (do|can|should|would) (i|we) (tell|report|contact|speak|talk|ask|go to|get hold of)\b")
        .expect("a valid pattern")
});

/// A length of time: "6 weeks", "one month", "12 months or less".
static SPAN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few) (working )?(day|week|month|year)s?\b",
    )
    .expect("a valid pattern")
});

/// "Last" as a time in the past ("last month"), not as "how long it lasts".
static PAST: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r" last (night|week|month|year|time|weekend|winter|summer|christmas) ")
        .expect("a valid pattern")
});

/// A question that yes or no settles: "is the care line open on a
/// saturday", "do i have to pay for it", "hes 87, can he get one".
static YES_NO: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^ (is|are|do|does|did|can|could|will|would|should|have|has|am|must|may) | (so|but|and|then|now|also|ok) (is|are|do|does|can|could|will|would|should|must) (i|we|you|she|he|they|it|there|my \w+|mum|dad) ",
    )
    .expect("a valid pattern")
});

/// A sentence that settles a yes/no question on its own: an FAQ answer's
/// "No, not if…", "Yes, you can…".
static SETTLES: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^(yes|no)\b[,.!]").expect("a valid pattern"));

/// What kind of information the question asks for, to prefer sentences that carry it.
struct Wants {
    /// Yes or no settles it: the deciding sentence leads.
    yes_no: bool,
    money: bool,
    duration: bool,
    contact: bool,
    /// A number to call is asked for ("who do I ring", "what's the number").
    number: bool,
    eligibility: bool,
    /// "How do I report…", "where do I apply": the step to take.
    how_to: bool,
}

impl Wants {
    fn of(message: &str) -> Self {
        let m = crate::text::for_matching(message);
        let has = |words: &[&str]| words.iter().any(|w| m.contains(&format!(" {w} ")));
        Wants {
            yes_no: YES_NO.is_match(&m),
            money: has(&[
                "cost", "costs", "much", "price", "pay", "paying", "charge", "charged", "fee",
                "fees", "free", "afford", "money",
            ]),
            // "How long does it last", but not "she fell last month".
            duration: has(&[
                "long", "lasts", "when", "weeks", "expire", "expires", "renew", "quicker",
                "quickly", "faster", "soon", "deadline", "often", "limit", "within",
            ]) || (has(&["last"]) && !PAST.is_match(&m)),
            // Asking who or where to turn to ("is there anyone who can
            // teach her", "what can I do") is asking whom to contact.
            contact: has(&[
                "phone",
                "call",
                "contact",
                "number",
                "ring",
                "email",
                "speak",
                "talk",
                "anyone",
                "anybody",
                "anywhere",
                "somewhere",
                "who can",
                "where can",
                "who do",
                "where do",
                "who should",
                "where should",
                "what can i do",
                "what can we do",
                "what do i do",
                "what do we do",
            ]),
            number: has(&["phone", "call", "number", "ring"]) || NUMBER_WANTED.is_match(&m),
            eligibility: has(&["can", "eligible", "qualify", "entitled", "who"]),
            how_to: HOW_TO.is_match(&m),
        }
    }

    /// Whether a sentence carries exactly what was asked for: a figure
    /// for "how much", a length of time for "how long", a phone number for
    /// "who do I ring" (not for "can I talk to someone face to face").
    fn carries(&self, unit: &str) -> bool {
        let u = unit.to_lowercase();
        (self.money && u.contains('£'))
            || (self.duration && SPAN.is_match(&u))
            || (self.number && crate::text::UK_PHONE.is_match(&u))
    }

    fn bonus(&self, unit: &str) -> f32 {
        let u = unit.to_lowercase();
        let mut b = 0.0;
        if self.money && (u.contains('£') || u.contains(" free") || u.contains("cost")) {
            b += 1.5;
        }
        if self.duration && SPAN.is_match(&u) {
            b += 1.0;
        }
        if self.contact && crate::text::UK_PHONE.is_match(&u) {
            b += 1.5;
        }
        if self.how_to
            && (crate::text::UK_PHONE.is_match(&u)
                || [
                    "call ", "apply", "fill in", "contact ", "email ", "online", "form ",
                ]
                .iter()
                .any(|w| u.contains(w)))
        {
            b += 1.5;
        }
        if self.eligibility
            && (u.contains("you can") || u.contains("you may") || u.contains("if you"))
        {
            b += 0.3;
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::{labels, leans_back, named_after, Wants};

    #[test]
    fn a_sentence_carries_what_was_asked_for() {
        let phone = "If something breaks, call them on 0113 496 0000.";
        assert!(Wants::of("the hoist stopped working, who do i phone").carries(phone));
        assert!(Wants::of("who do we report it to").carries(phone));
        // Talking face to face is not asking for a number.
        assert!(!Wants::of("can i come in and talk to someone face to face").carries(phone));
        assert!(Wants::of("how much is a day at the centre").carries("It costs £62 a day."));
        assert!(Wants::of("how long do you take to reply")
            .carries("We aim to reply within 20 working days."));
        assert!(!Wants::of("what is reablement").carries("It costs £62 a day."));
    }

    #[test]
    fn asking_who_or_where_to_turn_to_favours_a_number_to_call() {
        let team = "Our Sensory Team can help: call 0113 496 0660.";
        for q in [
            "is there anyone who can teach her to use a white stick",
            "where can he go for support in the meantime",
            "the letters keep coming, what can i do",
        ] {
            assert!(Wants::of(q).bonus(team) > 0.0, "{q}");
        }
        assert_eq!(Wants::of("what is a sensory impairment").bonus(team), 0.0);
    }

    #[test]
    fn a_qualifier_leans_on_the_sentence_before() {
        for q in [
            "Complicated complaints can take longer, but we will keep you informed.",
            "More complicated complaints can take longer, and we will agree a timescale with you.",
            "However, you will need to pay for the first visit.",
            "But you can't stay in hospital while you wait.",
            "Some assessments may take longer if we need reports.",
            "It is free for up to 6 weeks.",
            "If something breaks, call them on 0113 496 0000.",
        ] {
            assert!(leans_back(q), "{q}");
        }
        for q in [
            "We aim to send you a full response within 20 working days.",
            "Complaints are handled by our customer relations team.",
            "Butterfly Care runs the service.",
        ] {
            assert!(!leans_back(q), "{q}");
        }
    }

    fn units(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_fragment_under_a_short_label_heading_is_labelled() {
        let h = |s: &str| vec!["Types of abuse".to_string(), s.to_string()];
        let fragment = "Stealing, fraud, scams, or misusing someone's money or benefits.";
        assert!(labels(&h("Financial or material abuse"), fragment));
        // A sentence of its own, a question heading, a long heading, a
        // label already given, or no heading: not labelled.
        assert!(!labels(
            &h("Financial or material abuse"),
            "It can be done by someone the person trusts."
        ));
        assert!(!labels(&h("What is financial abuse?"), fragment));
        assert!(!labels(
            &h("What we mean when we talk about money being taken from you"),
            fragment
        ));
        assert!(!labels(&h("Money"), "Opening hours: 9am to 5pm."));
        assert!(!labels(&[], fragment));
    }

    #[test]
    fn a_count_announced_brings_the_sentences_that_name_the_items() {
        let u = units(&[
            "There are two types of lasting power of attorney.",
            "You can make one type, or both.",
            "An LPA for property and financial affairs covers your money.",
            "Attorneys can pay your bills.",
            "An LPA for health and welfare covers your care.",
            "Health and welfare attorneys can decide where you live.",
        ]);
        assert_eq!(named_after(&u[0], &u, 0), vec![2, 4]);
        // Items given with run-in labels (bold on the page), ahead of
        // sentences that open alike ("You can…").
        let u = units(&[
            "There are two types.",
            "You can make one or both.",
            "Property and financial affairs: This covers your money.",
            "You can also use it while you are well.",
            "Health and welfare: This covers your care.",
        ]);
        assert_eq!(named_after(&u[0], &u, 0), vec![2, 4]);
        // Three announced, two named: nothing is guessed.
        let three = units(&[
            "There are three ways to pay.",
            "You can pay by direct debit.",
            "You can pay online.",
        ]);
        assert!(named_after(&three[0], &three, 0).is_empty());
        // Items named in the sentence itself, or no count: nothing added.
        for s in [
            "There are two types: property and health.",
            "A lasting power of attorney lets you choose people.",
        ] {
            let mut v = units(&[s]);
            v.extend(u[2..].iter().cloned());
            assert!(named_after(s, &v, 0).is_empty(), "{s}");
        }
    }
}
