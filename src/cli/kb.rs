//! `signpost kb`: check the knowledge base, build its index, and the
//! triage tuning scores.

use std::path::PathBuf;
use std::process::ExitCode;

use signpost::config::Config;
use signpost::kb::Kb;
use signpost::pipeline::Engine;

use super::init_logging;

/// `kb check`: every problem with its file and line; exit 1 on errors.
pub fn check(
    mut config: Config,
    kb: Option<PathBuf>,
    readability: bool,
    today: Option<time::Date>,
) -> anyhow::Result<ExitCode> {
    init_logging(&config, "warn");
    if let Some(dir) = kb {
        config.kb.dir = dir;
    }
    let today = today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    config.resolve_council()?;
    let (kb, mut problems) = Kb::load(&config.kb, today)?;
    let rules = signpost::rules::Rules::load(&config.kb.dir, today, &kb.pages, &mut problems);
    problems.extend(signpost::kb::routes::check_council(&kb, &config.council));
    problems.extend(signpost::kb::routes::check(&kb, &config.council));
    for p in &problems {
        println!("{p}");
    }
    if readability {
        let mut grades = kb.readability();
        grades.sort_by(|a, b| b.grade.total_cmp(&a.grade));
        for g in &grades {
            println!(
                "readability: {:5.1}  {:4} words  {}",
                g.grade, g.words, g.slug
            );
        }
    }
    let grades = kb.readability();
    if let Some(worst) = grades.iter().max_by(|a, b| a.grade.total_cmp(&b.grade)) {
        let gs: Vec<f64> = grades.iter().map(|g| g.grade).collect();
        println!(
            "readability: median grade {:.1}, highest {:.1} ({}), limit {:.1}",
            signpost::text::median(gs),
            worst.grade,
            worst.slug,
            config.kb.max_reading_grade
        );
    }
    for (key, pages) in rules.all_cites() {
        println!("calculator {key} cites: {}", pages.join(", "));
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    println!(
        "pages: {}, chunks: {}, services: {}",
        kb.pages.len(),
        kb.chunks().count(),
        kb.services.len()
    );
    if errors > 0 {
        eprintln!("{errors} error(s), {warnings} warning(s): fix the errors above and run `signpost kb check` again");
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// `kb index`: builds the search index now.
pub fn index(config: Config) -> anyhow::Result<ExitCode> {
    init_logging(&config, "warn");
    let engine = Engine::new(config)?;
    println!(
        "index ready: {} passages from {} pages at {} ({})",
        engine.index().num_docs(),
        engine.kb().pages.len(),
        engine.index().path.display(),
        if engine.index().built {
            "built"
        } else {
            "already up to date"
        }
    );
    Ok(ExitCode::SUCCESS)
}

pub fn triage_scores(config: Config, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(config)?;
    let Some(sem) = engine.semantic() else {
        anyhow::bail!("semantic triage is not available: run `signpost models fetch minilm`");
    };
    for f in files {
        for case in signpost::eval::read_cases(f)? {
            let has_history = case
                .history
                .iter()
                .any(|t| t.role == signpost::pipeline::Role::User);
            let pattern = signpost::triage::triage(&case.question, has_history);
            let v = sem.embedder.embed_one(&case.question)?;
            let n = sem.bank.nearest(&v);
            let row = serde_json::json!({
                "id": case.id,
                "expect": case.expect.route.as_str(),
                "pattern": format!("{pattern:?}"),
                "escalate": n.escalate.map(|(u, s, _)| (u.name(), s)),
                "decline": n.decline.map(|(d, s, _)| (d.name(), s)),
                "answer": n.answer.map(|(s, _)| s),
            });
            println!("{row}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
