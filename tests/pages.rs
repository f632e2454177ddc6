//! Every page answers its own subject: asking a page's title or summary as
//! a question returns that page among the sources.

mod common;

use signpost::answer::{Engine, Question, Route};
use signpost::channels::Channel;
use signpost::config::Config;

#[test]
fn every_page_title_and_summary_finds_its_page() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir = common::kb_dir();
    config.data_dir = data.path().to_path_buf();
    let engine = Engine::new(config).unwrap();
    let mut failures = Vec::new();
    for page in &engine.kb.pages {
        for q in [page.title.clone(), page.summary.clone()] {
            let r = engine.answer(&Question::new(q.clone(), Channel::Web));
            let found = r.sources.iter().any(|s| s.slug == page.slug);
            if r.route != Route::Answer || !found {
                failures.push(format!(
                    "{}: {:?} -> {:?} {:?}",
                    page.slug,
                    q,
                    r.route,
                    r.sources.iter().map(|s| &s.slug).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_brief_slug_is_present() {
    let brief = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/kb-brief.md"),
    );
    let Ok(brief) = brief else {
        // The brief lives beside the project in development and CI.
        panic!("../shared/kb-brief.md not found beside the project");
    };
    let pages = common::kb_dir().join("pages");
    let section = brief
        .split("## Pages the knowledge base must contain")
        .nth(1)
        .unwrap();
    let section = section.split("## ").next().unwrap();
    let mut n = 0;
    for line in section.lines().filter(|l| l.starts_with("- `")) {
        let slug = line.split('`').nth(1).unwrap();
        assert!(
            pages.join(format!("{slug}.md")).exists(),
            "missing page {slug}"
        );
        n += 1;
    }
    assert!(n >= 47, "read {n} slugs from the brief");
}
