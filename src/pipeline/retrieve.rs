//! Retrieval: passages ranked by BM25 (fused with embedding similarity when
//! hybrid retrieval is on), a follow-up's topic page favoured, local services
//! for a local request, and the decision to say "I don't know" when the
//! pages do not cover the question's key words.

use std::collections::{HashMap, HashSet};

use crate::config::SearchSettings;
use crate::kb::Service;
use crate::search::Hit;

use super::understand::key_terms;
use super::Content;

/// What retrieval found for one question.
#[derive(Debug, Clone)]
pub struct Retrieved {
    /// Passages, best first.
    pub hits: Vec<Hit>,
    /// BM25's best score before fusion, which decides whether pages were found.
    pub bm25_best: f32,
    /// How passages were ranked: "bm25", or "hybrid" with what was fused.
    pub ranking: String,
}

/// Ranks passages for `query`. A follow-up (`topic`) looks further and
/// favours the page the earlier question found.
pub fn search(
    content: &Content,
    settings: &SearchSettings,
    query: &str,
    topic: Option<&str>,
) -> Retrieved {
    let k = settings.top_k;
    let figure = settings.figure_weight > 0.0 && asks_cost(query);
    // Looking further for a passage with a figure, as for a follow-up.
    let wanted = if topic.is_some() || figure { k * 3 } else { k };
    let mut hits = match content.index.search(query, wanted) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "search failed");
            Vec::new()
        }
    };
    let bm25_best = hits.first().map(|h| h.score).unwrap_or(0.0);
    let ranking = fuse_dense(content, settings, query, &mut hits, wanted);
    // Asked what something costs: the passages that give a figure.
    if figure {
        for h in &mut hits {
            let c = &content.index.chunks[h.chunk];
            if c.units.iter().any(|u| u.contains('£')) {
                h.score *= 1.0 + settings.figure_weight;
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        if topic.is_none() {
            hits.truncate(k);
        }
    }
    // A follow-up is about the page the earlier question found.
    if let Some(t) = topic {
        for h in &mut hits {
            if content.index.chunks[h.chunk].slug == t {
                h.score *= 1.6;
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(k);
    }
    Retrieved {
        hits,
        bm25_best,
        ranking,
    }
}

/// Whether a question asks what something costs: "how much is it", "what's
/// the charge", "are there any fees".
fn asks_cost(query: &str) -> bool {
    let q = format!(" {} ", crate::text::for_matching(query));
    [
        " how much ",
        " cost ",
        " costs ",
        " price ",
        " charge ",
        " fee ",
        " fees ",
    ]
    .iter()
    .any(|w| q.contains(w))
}

/// Hybrid retrieval: ranks every passage by embedding similarity to the
/// query and fuses that ranking with BM25's by reciprocal rank fusion.
/// Scores are rescaled to BM25's best, so later stages' relative weights
/// keep their meaning. Does nothing when hybrid retrieval is off.
fn fuse_dense(
    content: &Content,
    s: &SearchSettings,
    query: &str,
    hits: &mut Vec<Hit>,
    k: usize,
) -> String {
    let bm25 = "bm25".to_string();
    let (Some(embedder), Some(vectors)) = (content.embedder(), &content.chunk_vectors) else {
        return bm25;
    };
    // The query's words without the synonyms' markers.
    let plain: String = crate::search::segments(query)
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(" ");
    let q = match embedder.embed_one(&plain) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "query embedding failed; BM25 alone");
            return bm25;
        }
    };
    let from_bm25 = hits.len();
    let mut dense: Vec<(usize, f32)> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, crate::embed::cosine(&q, v)))
        .collect();
    dense.sort_by(|a, b| b.1.total_cmp(&a.1));
    dense.truncate(s.dense_k);
    let mut fused: HashMap<usize, f32> = HashMap::new();
    for (rank, h) in hits.iter().enumerate() {
        *fused.entry(h.chunk).or_default() += 1.0 / (s.rrf_k + rank as f32 + 1.0);
    }
    for (rank, (chunk, _)) in dense.iter().enumerate() {
        *fused.entry(*chunk).or_default() += 1.0 / (s.rrf_k + rank as f32 + 1.0);
    }
    let best = hits.first().map(|h| h.score).unwrap_or(1.0).max(1e-6);
    let mut list: Vec<(usize, f32)> = fused.into_iter().collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = list.first().map(|x| x.1).unwrap_or(1.0).max(1e-9);
    *hits = list
        .into_iter()
        .take(k)
        .map(|(chunk, f)| Hit {
            chunk,
            score: best * f / top,
        })
        .collect();
    format!(
        "hybrid: {from_bm25} BM25 and {} embedding passages fused (rrf k {})",
        dense.len(),
        s.rrf_k
    )
}

/// Up to two services for a local request, those in the named
/// neighbourhood (or borough-wide) first.
pub fn local_services<'a>(
    content: &'a Content,
    settings: &SearchSettings,
    query: &str,
    area: Option<&str>,
) -> Vec<&'a Service> {
    let Ok(hits) = content.index.search_services(query, 20) else {
        return Vec::new();
    };
    let best = hits.first().map(|h| h.score).unwrap_or(0.0);
    let mut found: Vec<(bool, f32, &Service)> = hits
        .iter()
        .filter(|h| h.score >= best * 0.5 && h.score >= settings.min_score)
        .map(|h| {
            let s = &content.index.services[h.chunk];
            let here = area.is_some_and(|a| s.areas.iter().any(|x| x.eq_ignore_ascii_case(a)));
            (here, h.score, s)
        })
        .collect();
    // Stay with the kind of service asked about (the best match's category).
    if let Some(top) = found.first().map(|f| f.2) {
        let cats = top.categories.clone();
        found.retain(|f| f.2.categories.iter().any(|c| cats.contains(c)));
    }
    if area.is_some() && found.iter().any(|f| f.0) {
        found.retain(|f| f.0);
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    found.into_iter().take(2).map(|f| f.2).collect()
}

/// Share of the question's key words (weighted by rarity) that the best
/// three pages, or the services offered, contain. A synonym phrase (or one
/// searched for in other words) counts as covered when the words it stands
/// for are there.
pub fn coverage(content: &Content, standalone: &str, hits: &[Hit], services: &[&Service]) -> f32 {
    let qterms = key_terms(content, standalone);
    let mut present: HashSet<String> = HashSet::new();
    let mut pages: Vec<&str> = Vec::new();
    for h in hits {
        let slug = content.index.chunks[h.chunk].slug.as_str();
        if !pages.contains(&slug) {
            pages.push(slug);
        }
    }
    for slug in pages.into_iter().take(3) {
        if let Some(t) = content.page_terms.get(slug) {
            present.extend(t.iter().cloned());
        }
    }
    for s in services {
        let text = format!(
            "{} {} {} {}",
            s.name,
            s.description,
            s.categories.join(" "),
            s.areas.join(" ")
        );
        present.extend(content.index.terms(&text));
    }
    let m = crate::text::for_matching(standalone);
    for (phrase, adds) in content.kb.synonyms.iter().chain(&content.kb.instead) {
        if m.contains(phrase.as_str())
            && content
                .index
                .terms(adds)
                .iter()
                .any(|t| present.contains(t))
        {
            present.extend(content.index.terms(phrase));
        }
    }
    let total: f32 = qterms.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    qterms
        .iter()
        .filter(|(t, _)| present.contains(t))
        .map(|(_, w)| w)
        .sum::<f32>()
        / total
}

/// Whether the pages answer the question, or it is "I don't know".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    /// A page scored well enough to quote from.
    pub pages: bool,
    /// Nothing covers the question's key words: say so and hand over.
    pub off_topic: bool,
}

/// How close in meaning the closest sentence of the best three passages is
/// to the question (the cosine of their embeddings); 0 without the
/// question's embedding or the sentences'.
pub fn closeness(content: &Content, question: Option<&[f32]>, hits: &[Hit]) -> f32 {
    let (Some(q), Some(units)) = (question, content.unit_vectors.as_ref()) else {
        return 0.0;
    };
    hits.iter()
        .take(3)
        .filter_map(|h| units.get(h.chunk))
        .flatten()
        .map(|u| crate::embed::cosine(q, u))
        .fold(0.0, f32::max)
}

/// The "I don't know" decision: nothing found, or too little of the
/// question's meaning covered by what was found. A long question in the
/// resident's own words ("since her stroke she's living on sandwiches… can
/// someone bring her hot dinners") has many words no page uses: it is still
/// answered when a sentence found says the same in other words
/// (`closeness` at least `min_closeness`).
pub fn found(
    settings: &SearchSettings,
    bm25_best: f32,
    services: &[&Service],
    coverage: f32,
    closeness: f32,
) -> Found {
    let pages = bm25_best >= settings.min_score;
    let nothing_found = !pages && services.is_empty();
    let said_otherwise =
        pages && settings.min_closeness > 0.0 && closeness >= settings.min_closeness;
    Found {
        pages,
        off_topic: nothing_found || (coverage < settings.min_coverage && !said_otherwise),
    }
}
