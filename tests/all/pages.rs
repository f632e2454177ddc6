//! Every page answers its own subject: asking a page's title or summary as
//! a question returns that page among the sources.

use crate::common;

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::pipeline::{Engine, Question, Route};

#[test]
fn every_page_title_and_summary_finds_its_page() {
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.kb.dir = common::kb_dir();
    config.data_dir = data.path().to_path_buf();
    let engine = Engine::new(config).unwrap();
    let mut failures = Vec::new();
    for page in &engine.kb().pages {
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

/// The pages the brief asks for, listed in tests/fixtures/required-pages.txt.
#[test]
fn every_required_page_is_present() {
    let list = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/required-pages.txt"),
    )
    .unwrap();
    let pages = common::kb_dir().join("pages");
    let mut n = 0;
    for line in list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let slug = line.split(':').next().unwrap().trim();
        assert!(
            pages.join(format!("{slug}.md")).exists(),
            "missing page {slug}"
        );
        n += 1;
    }
    assert_eq!(n, 47, "read {n} slugs from the list");
}
