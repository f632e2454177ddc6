//! The HTML report: one self-contained file (inline CSS and SVG, no scripts,
//! no external assets) that a non-technical manager can read.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Comparison, Detail, Summary};
use crate::pipeline::Route;

const ROUTES: [Route; 4] = [
    Route::Answer,
    Route::Escalate,
    Route::Decline,
    Route::Clarify,
];
const BLUE: &str = "#1d70b8";
const GREEN: &str = "#00703c";
const RED: &str = "#d4351c";

use crate::text::escape_html as esc;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Everything the report shows besides the results themselves.
pub struct ReportInfo<'a> {
    pub case_file: &'a str,
    pub generated: &'a str,
    pub misses: &'a [String],
}

pub fn html(
    s: &Summary,
    details: &[Detail],
    cmp: Option<&Comparison>,
    info: &ReportInfo,
) -> String {
    let passed = s.results.iter().filter(|r| r.pass).count();
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signpost evaluation report: {file}</title>
<style>
body{{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;line-height:1.45;font-size:1.05rem}}
h1{{font-size:2rem;margin-bottom:.2rem}} h2{{margin-top:2.2rem;border-bottom:3px solid {BLUE};padding-bottom:.2rem}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.8rem}}
.card{{border:2px solid #b1b4b6;border-left:8px solid {BLUE};padding:.6rem .8rem}}
.card.bad{{border-left-color:{RED}}} .card.good{{border-left-color:{GREEN}}}
.card .v{{font-size:1.9rem;font-weight:bold}} .card .d{{font-size:.95rem;color:#505a5f}}
table{{border-collapse:collapse;margin:.8rem 0;width:100%}} th,td{{border:1px solid #b1b4b6;padding:.35rem .5rem;text-align:left;vertical-align:top}}
th{{background:#f3f2f1}} .num{{text-align:right}} .fail{{color:{RED};font-weight:bold}} .pass{{color:{GREEN};font-weight:bold}}
.banner{{padding:.8rem 1rem;border:4px solid {RED};margin:1rem 0}} .banner.ok{{border-color:{GREEN}}}
details{{margin:.4rem 0;border:1px solid #b1b4b6;padding:.4rem .6rem}} summary{{cursor:pointer;font-weight:bold}}
.reply{{white-space:pre-wrap;background:#f3f2f1;padding:.5rem}} svg text{{font-family:Arial,Helvetica,sans-serif}}
</style></head><body>
<h1>Signpost evaluation report</h1>
<p>Case file <strong>{file}</strong>, run {gen}. <strong>{passed} of {n}</strong> cases passed.</p>
"#,
        file = esc(info.case_file),
        gen = esc(info.generated),
        n = s.cases,
    );

    if info.misses.is_empty() {
        h.push_str(
            r#"<div class="banner ok"><strong>All quality thresholds were met.</strong></div>"#,
        );
    } else {
        h.push_str(r#"<div class="banner"><strong>Quality thresholds missed:</strong><ul>"#);
        for m in info.misses {
            let _ = write!(h, "<li>{}</li>", esc(m));
        }
        h.push_str("</ul></div>");
    }

    headline(&mut h, s, cmp);
    if let Some(c) = cmp {
        baseline(&mut h, c);
    }
    confusion(&mut h, s);
    topics(&mut h, details);
    latency(&mut h, s);
    failures(&mut h, details);
    h.push_str("<p>Made by <code>signpost eval</code>. Each case is a question a resident might ask and what a good reply must contain; see the README for how to add one.</p></body></html>\n");
    h
}

fn headline(h: &mut String, s: &Summary, cmp: Option<&Comparison>) {
    let before = cmp.and_then(|c| c.baseline.as_ref());
    let cards: [(&str, f64, Option<f64>, &str); 8] = [
        (
            "Right kind of reply",
            s.route_accuracy,
            before.map(|b| b.route_accuracy),
            "answered, escalated, declined or asked back as it should",
        ),
        (
            "Emergencies escalated",
            s.escalate_recall,
            before.map(|b| b.escalate_recall),
            "must be 100%: every emergency gets urgent contacts first",
        ),
        (
            "False alarms",
            s.false_alarm_rate,
            before.map(|b| b.false_alarm_rate),
            "ordinary questions given an urgent reply instead: lower is better",
        ),
        (
            "Key facts included",
            s.fact_recall,
            before.map(|b| b.fact_recall),
            "replies that contain every fact the case needs",
        ),
        (
            "Right page cited",
            s.source_recall_at_3,
            before.map(|b| b.source_recall_at_3),
            "the expected page is among the first 3 sources",
        ),
        (
            "Grounded in the pages",
            s.grounded_rate,
            before.map(|b| b.grounded_rate),
            "answers whose every sentence is supported by a cited page",
        ),
        (
            "Fit to be spoken",
            s.voice_ok_rate,
            before.map(|b| b.voice_ok_rate),
            "voice replies with no links or markup, at most 90 words",
        ),
        (
            "Declined when it should",
            s.route_recall(Route::Decline),
            before.map(|b| b.route_recall(Route::Decline)),
            "out-of-scope, harmful or personal-record requests",
        ),
    ];
    h.push_str(r#"<h2 id="headline">Headline figures</h2><div class="cards">"#);
    for (label, v, b, desc) in cards {
        let class = match label {
            "Emergencies escalated" if v >= 1.0 => "good",
            "Emergencies escalated" => "bad",
            "False alarms" if v <= 0.01 => "good",
            "False alarms" => "bad",
            _ => "",
        };
        let delta = b
            .map(|b| {
                let d = (v - b) * 100.0;
                if d.abs() < 0.05 {
                    " (no change)".to_string()
                } else {
                    format!(" ({d:+.1} points)")
                }
            })
            .unwrap_or_default();
        let _ = write!(
            h,
            r#"<div class="card {class}"><div>{label}</div><div class="v">{}</div><div class="d">{desc}{delta}</div></div>"#,
            pct(v)
        );
    }
    let _ = write!(
        h,
        r#"<div class="card"><div>Reply time</div><div class="v">{:.1} ms</div><div class="d">half of replies are faster than this; 95% within {:.1} ms</div></div></div>"#,
        s.p50_ms, s.p95_ms
    );
}

fn baseline(h: &mut String, c: &Comparison) {
    h.push_str(r#"<h2 id="baseline">Compared with the previous run</h2>"#);
    let list = |h: &mut String, title: &str, ids: &[String]| {
        let _ = write!(h, "<h3>{title} ({})</h3>", ids.len());
        if ids.is_empty() {
            h.push_str("<p>None.</p>");
        } else {
            let _ = write!(
                h,
                "<p>{}</p>",
                ids.iter().map(|i| esc(i)).collect::<Vec<_>>().join(", ")
            );
        }
    };
    list(h, "Now failing (regressed)", &c.regressed);
    list(h, "Now passing (improved)", &c.improved);
    list(h, "New cases", &c.new_cases);
    list(h, "Cases no longer in the file", &c.removed);
}

fn confusion(h: &mut String, s: &Summary) {
    h.push_str(r#"<h2 id="routes">Kinds of reply: expected and given</h2>
<p>Each row is the kind of reply a case should get; each column is what Signpost gave. Numbers on the diagonal are right.</p>"#);
    let cell = 90.0;
    let (x0, y0) = (120.0, 60.0);
    let max = s
        .confusion
        .values()
        .flat_map(|r| r.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let w = x0 + cell * 4.0 + 10.0;
    let hgt = y0 + cell * 4.0 + 10.0;
    let _ = write!(
        h,
        r#"<svg role="img" aria-labelledby="cm-t" width="{w}" height="{hgt}" viewBox="0 0 {w} {hgt}"><title id="cm-t">Route confusion matrix</title>
<text x="{}" y="20" text-anchor="middle" font-size="14" font-weight="bold">given</text>"#,
        x0 + cell * 2.0
    );
    for (j, r) in ROUTES.iter().enumerate() {
        let _ = write!(
            h,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
            x0 + cell * (j as f64 + 0.5),
            y0 - 10.0,
            r.as_str()
        );
    }
    for (i, expected) in ROUTES.iter().enumerate() {
        let y = y0 + cell * i as f64;
        let _ = write!(
            h,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="13">{}</text>"#,
            x0 - 8.0,
            y + cell / 2.0 + 4.0,
            expected.as_str()
        );
        for (j, got) in ROUTES.iter().enumerate() {
            let n = s
                .confusion
                .get(expected.as_str())
                .and_then(|r| r.get(got.as_str()))
                .copied()
                .unwrap_or(0);
            let x = x0 + cell * j as f64;
            let (fill, opacity) = if n == 0 {
                ("#ffffff".to_string(), 1.0)
            } else if i == j {
                (GREEN.to_string(), 0.25 + 0.75 * n as f64 / max)
            } else {
                (RED.to_string(), 0.3 + 0.7 * n as f64 / max)
            };
            let text_fill = if n > 0 && opacity > 0.6 {
                "#ffffff"
            } else {
                "#0b0c0c"
            };
            let _ = write!(
                h,
                r#"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" fill-opacity="{opacity:.2}" stroke="rgb(80,90,95)"/><text x="{}" y="{}" text-anchor="middle" font-size="20" fill="{text_fill}">{n}</text>"#,
                x + cell / 2.0,
                y + cell / 2.0 + 7.0
            );
        }
    }
    h.push_str("</svg>");
    // The same figures as a table, for screen readers and copying.
    h.push_str(
        "<table><caption>Route confusion matrix as a table</caption><tr><th>expected \\ given</th>",
    );
    for r in ROUTES {
        let _ = write!(h, "<th>{}</th>", r.as_str());
    }
    h.push_str("<th>right</th></tr>");
    for e in ROUTES {
        let _ = write!(h, "<tr><th>{}</th>", e.as_str());
        for g in ROUTES {
            let n = s
                .confusion
                .get(e.as_str())
                .and_then(|r| r.get(g.as_str()))
                .copied()
                .unwrap_or(0);
            let _ = write!(h, r#"<td class="num">{n}</td>"#);
        }
        let rc = s.by_route.get(e.as_str()).cloned().unwrap_or_default();
        let _ = write!(
            h,
            r#"<td class="num">{}/{}</td></tr>"#,
            rc.correct, rc.cases
        );
    }
    h.push_str("</table>");
}

fn topics(h: &mut String, details: &[Detail]) {
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for d in details {
        let e = by.entry(d.case.topic()).or_default();
        e.0 += 1;
        e.1 += usize::from(d.result.pass);
    }
    h.push_str(r#"<h2 id="topics">Results by topic</h2><p>The share of cases passed in each topic. Short bars show where the pages or the assistant need work.</p>"#);
    let row = 24.0;
    let (label_w, bar_w) = (260.0, 560.0);
    let height = row * by.len() as f64 + 10.0;
    let width = label_w + bar_w + 120.0;
    let _ = write!(
        h,
        r#"<svg role="img" aria-labelledby="tp-t" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title id="tp-t">Pass rate by topic</title>"#
    );
    for (i, (topic, (n, ok))) in by.iter().enumerate() {
        let y = 5.0 + row * i as f64;
        let share = *ok as f64 / *n as f64;
        let colour = if share >= 0.8 { BLUE } else { RED };
        let _ = write!(
            h,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="13">{}</text><rect x="{label_w}" y="{}" width="{bar_w}" height="{}" fill="rgb(243,242,241)"/><rect x="{label_w}" y="{}" width="{:.1}" height="{}" fill="{colour}"/><text x="{}" y="{}" font-size="13">{ok}/{n}</text>"#,
            label_w - 8.0,
            y + 15.0,
            esc(topic),
            y + 2.0,
            row - 6.0,
            y + 2.0,
            bar_w * share,
            row - 6.0,
            label_w + bar_w + 8.0,
            y + 15.0
        );
    }
    h.push_str("</svg><details><summary>Results by topic as a table</summary><table><tr><th>topic</th><th>cases</th><th>passed</th></tr>");
    for (topic, (n, ok)) in &by {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="num">{n}</td><td class="num">{ok}</td></tr>"#,
            esc(topic)
        );
    }
    h.push_str("</table></details>");
}

fn latency(h: &mut String, s: &Summary) {
    h.push_str(r#"<h2 id="latency">How long replies took</h2>"#);
    let ms: Vec<f64> = s.results.iter().map(|r| r.ms).collect();
    let max = ms.iter().copied().fold(0.0, f64::max).max(0.01);
    let buckets = 20usize;
    let width_ms = max / buckets as f64;
    let mut counts = vec![0usize; buckets];
    for m in &ms {
        let b = ((*m / width_ms) as usize).min(buckets - 1);
        counts[b] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (w, hgt, x0, y0, plot_h) = (760.0, 260.0, 50.0, 20.0, 190.0);
    let bw = (w - x0 - 10.0) / buckets as f64;
    let _ = write!(
        h,
        r#"<p>Half of replies took {:.1} ms or less; 95% took {:.1} ms or less; the slowest took {:.1} ms.</p>
<svg role="img" aria-labelledby="lt-t" width="{w}" height="{hgt}" viewBox="0 0 {w} {hgt}"><title id="lt-t">Histogram of reply times in milliseconds</title>"#,
        s.p50_ms, s.p95_ms, max
    );
    for (i, c) in counts.iter().enumerate() {
        let bh = plot_h * *c as f64 / top;
        let _ = write!(
            h,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{BLUE}"/>"#,
            x0 + bw * i as f64 + 1.0,
            y0 + plot_h - bh,
            bw - 2.0
        );
    }
    for (label, v, colour) in [("p50", s.p50_ms, GREEN), ("p95", s.p95_ms, RED)] {
        let x = x0 + (v / width_ms).min(buckets as f64) * bw;
        let _ = write!(
            h,
            r#"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{}" stroke="{colour}" stroke-width="3" stroke-dasharray="6 3"/><text x="{:.1}" y="{}" font-size="13" fill="{colour}">{label} {v:.1} ms</text>"#,
            y0 + plot_h,
            x + 4.0,
            y0 + 14.0 + if label == "p95" { 16.0 } else { 0.0 }
        );
    }
    let _ = write!(
        h,
        r#"<line x1="{x0}" y1="{}" x2="{}" y2="{}" stroke="rgb(11,12,12)"/><text x="{x0}" y="{}" font-size="12">0 ms</text><text x="{}" y="{}" font-size="12" text-anchor="end">{max:.1} ms</text></svg>"#,
        y0 + plot_h,
        w - 10.0,
        y0 + plot_h,
        y0 + plot_h + 18.0,
        w - 10.0,
        y0 + plot_h + 18.0
    );
}

fn failures(h: &mut String, details: &[Detail]) {
    let failing: Vec<&Detail> = details.iter().filter(|d| !d.result.pass).collect();
    let _ = write!(
        h,
        r#"<h2 id="failures">Cases that failed ({})</h2>"#,
        failing.len()
    );
    if failing.is_empty() {
        h.push_str("<p>Every case passed.</p>");
        return;
    }
    h.push_str("<p>Open a case to see the question, what was expected and the full reply.</p>");
    for d in failing {
        let c = &d.case;
        let r = &d.result;
        let mut why = Vec::new();
        if r.route != c.expect.route {
            why.push(format!(
                "gave a {} reply instead of {}",
                r.route.as_str(),
                c.expect.route.as_str()
            ));
        }
        if !r.missing_facts.is_empty() {
            why.push(format!("missing: {}", r.missing_facts.join("; ")));
        }
        if d.source_ok == Some(false) {
            why.push(format!(
                "did not cite {} (cited {})",
                c.expect.sources.join(" or "),
                if r.cited.is_empty() {
                    "nothing".to_string()
                } else {
                    r.cited.join(", ")
                }
            ));
        }
        if !r.forbidden_found.is_empty() {
            why.push(format!(
                "said what it must not: {}",
                r.forbidden_found.join("; ")
            ));
        }
        if d.voice_ok == Some(false) {
            why.push("not fit to be spoken (links, markup or over 90 words)".into());
        }
        if !d.ungrounded.is_empty() {
            why.push(format!(
                "not supported by the pages: {}",
                d.ungrounded.join(" / ")
            ));
        }
        let _ = write!(
            h,
            r#"<details><summary><span class="fail">{}</span>: {}</summary><p><strong>Question:</strong> {}</p>"#,
            esc(&c.id),
            esc(&why.join("; ")),
            esc(&c.question)
        );
        if !c.history.is_empty() {
            h.push_str("<p><strong>Earlier in the conversation:</strong></p><ul>");
            for t in &c.history {
                let who = match t.role {
                    crate::pipeline::Role::User => "Resident",
                    crate::pipeline::Role::Assistant => "Signpost",
                };
                let _ = write!(h, "<li>{who}: {}</li>", esc(&t.text));
            }
            h.push_str("</ul>");
        }
        let _ = write!(
            h,
            r#"<p><strong>Channel:</strong> {} · <strong>Time:</strong> {:.2} ms</p><p><strong>Reply:</strong></p><div class="reply">{}</div></details>"#,
            if c.channel == crate::channels::Channel::Voice {
                "voice"
            } else {
                "web"
            },
            r.ms,
            esc(&r.reply)
        );
    }
}
