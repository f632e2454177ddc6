//! `signpost eval`: every case through the same entry point residents use.

use std::process::ExitCode;

use signpost::config::Config;
use signpost::pipeline::Engine;

use super::{write_atomic, EvalArgs};

pub fn run(config: Config, a: EvalArgs) -> anyhow::Result<ExitCode> {
    use signpost::eval;
    let mut config = config;
    if a.no_llm {
        config.llm.model.clear();
        config.llm.server_url.clear();
    }
    let mut cases = eval::read_cases(&a.file)?;
    if let Some(n) = a.sample.filter(|&n| n > 0 && n < cases.len()) {
        let step = cases.len() as f64 / n as f64;
        cases = (0..n)
            .map(|i| cases[(i as f64 * step) as usize].clone())
            .collect();
    }
    let baseline = a.baseline.as_deref().map(eval::read_summary).transpose()?;
    let data_dir = config.data_dir.clone();
    let engine = Engine::new(config)?;
    let (summary, details) = eval::run(&engine, &cases);
    let thresholds = eval::Thresholds {
        route_accuracy: a.min_route_accuracy,
        escalate_recall: a.min_escalate_recall,
        decline_accuracy: a.min_decline_accuracy,
        fact_recall: a.min_fact_recall,
        source_recall: a.min_source_recall,
        grounded_rate: a.min_grounded_rate,
        voice_ok_rate: a.min_voice_ok_rate,
        max_p95_ms: a.max_p95_ms,
        max_false_alarm_rate: a.max_false_alarm_rate,
    };
    let misses = thresholds.misses(&summary);
    let comparison = baseline.map(|b| eval::compare(&summary, b));
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let file_name = a.file.display().to_string();
    let html = eval::report::html(
        &summary,
        &details,
        comparison.as_ref(),
        &eval::report::ReportInfo {
            case_file: &file_name,
            generated: &generated,
            misses: &misses,
        },
    );
    let json = serde_json::to_string_pretty(&summary)?;
    // The latest report is kept for the staff page.
    let latest = data_dir.join("eval");
    std::fs::create_dir_all(&latest)?;
    write_atomic(&latest.join("latest.html"), &html)?;
    write_atomic(&latest.join("latest.json"), &json)?;
    if let Some(p) = &a.json {
        write_atomic(p, &json)?;
    }
    if let Some(p) = &a.html {
        write_atomic(p, &html)?;
    }
    if let Some(p) = &a.dump {
        let mut lines = String::new();
        for d in &details {
            let mut r = serde_json::to_value(&d.reply)?;
            r["reply"] = serde_json::Value::String(d.result.reply.clone());
            // Timings differ on every run; everything else must not.
            r["ms"] = serde_json::Value::Null;
            if let Some(m) = r["stages"].get_mut("model") {
                m["ms"] = serde_json::Value::Null;
                m["first_token_ms"] = serde_json::Value::Null;
            }
            lines.push_str(&serde_json::json!({"id": d.case.id, "reply": r}).to_string());
            lines.push('\n');
        }
        write_atomic(p, &lines)?;
    }
    let passed = summary.results.iter().filter(|r| r.pass).count();
    println!("cases: {}, passed: {passed}", summary.cases);
    println!(
        "route accuracy {:.3}, escalate recall {:.3}, false alarms {:.3}, decline accuracy {:.3}, fact recall {:.3}, source recall@3 {:.3}, grounded {:.3}, voice ok {:.3}, p50 {:.2} ms, p95 {:.2} ms",
        summary.route_accuracy,
        summary.escalate_recall,
        summary.false_alarm_rate,
        summary.route_recall(signpost::pipeline::Route::Decline),
        summary.fact_recall,
        summary.source_recall_at_3,
        summary.grounded_rate,
        summary.voice_ok_rate,
        summary.p50_ms,
        summary.p95_ms
    );
    if let Some(c) = &comparison {
        println!(
            "against the baseline: {} improved, {} regressed{}",
            c.improved.len(),
            c.regressed.len(),
            if c.regressed.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.regressed.join(", "))
            }
        );
    }
    if misses.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for m in &misses {
            eprintln!("threshold missed: {m}");
        }
        Ok(ExitCode::from(1))
    }
}
