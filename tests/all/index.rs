//! The index is built once, reused while the content is unchanged, rebuilt
//! aside and swapped in when it changes, and survives a crashed build.

use crate::common;

use signpost::config::Config;
use signpost::kb::Kb;
use signpost::search::SearchIndex;

fn open(kb_dir: &std::path::Path, data: &std::path::Path) -> SearchIndex {
    let mut config = Config::default();
    config.kb.dir = kb_dir.to_path_buf();
    config.data_dir = data.to_path_buf();
    let today = time::OffsetDateTime::now_utc().date();
    let (kb, _) = Kb::load(&config.kb, today).unwrap();
    SearchIndex::open_or_build(&kb, &config.data_dir, &config.search).unwrap()
}

fn current(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("index/CURRENT"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn built_once_reused_then_rebuilt_on_change() {
    let kb = tempfile::tempdir().unwrap();
    common::copy_kb(kb.path());
    let data = tempfile::tempdir().unwrap();

    let first = open(kb.path(), data.path());
    assert!(first.built);
    let key1 = current(data.path());
    assert!(data.path().join("index").join(&key1).is_dir());
    let hits = first.search("blue badge cost", 3).unwrap();
    assert_eq!(first.chunks[hits[0].chunk].slug, "blue-badge");
    drop(first);

    let again = open(kb.path(), data.path());
    assert!(!again.built, "unchanged content must reuse the index");
    assert_eq!(current(data.path()), key1);
    drop(again);

    // Change the content: a new index is built aside and swapped in.
    let page = kb.path().join("pages/blue-badge.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replace("costs £10", "costs £10 (zanzibar)")).unwrap();
    let changed = open(kb.path(), data.path());
    assert!(changed.built);
    let key2 = current(data.path());
    assert_ne!(key1, key2);
    assert!(
        !data.path().join("index").join(&key1).exists(),
        "old index removed"
    );
    let hits = changed.search("zanzibar", 3).unwrap();
    assert_eq!(changed.chunks[hits[0].chunk].slug, "blue-badge");
}

#[test]
fn a_crashed_build_or_broken_index_never_breaks_search() {
    let kb = tempfile::tempdir().unwrap();
    common::copy_kb(kb.path());
    let data = tempfile::tempdir().unwrap();
    drop(open(kb.path(), data.path()));
    let key = current(data.path());

    // A build that crashed half way leaves a folder aside; the live index is untouched.
    let crashed = data.path().join("index/.build-crashed");
    std::fs::create_dir_all(&crashed).unwrap();
    std::fs::write(crashed.join("meta.json"), "{not json").unwrap();
    let idx = open(kb.path(), data.path());
    assert!(!idx.built);
    assert_eq!(
        idx.chunks[idx.search("reablement", 1).unwrap()[0].chunk].slug,
        "reablement"
    );
    drop(idx);

    // The live index damaged (files lost): detected and rebuilt.
    let live = data.path().join("index").join(&key);
    for e in std::fs::read_dir(&live).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap() == "meta.json" {
            std::fs::write(&p, "garbage").unwrap();
        }
    }
    let idx = open(kb.path(), data.path());
    assert!(idx.built, "a damaged index is rebuilt");
    assert_eq!(
        idx.chunks[idx.search("reablement", 1).unwrap()[0].chunk].slug,
        "reablement"
    );

    // CURRENT pointing nowhere: rebuilt too.
    drop(idx);
    std::fs::write(data.path().join("index/CURRENT"), "nothing-here\n").unwrap();
    let idx = open(kb.path(), data.path());
    assert!(idx.built);
}

#[test]
fn stemming_phrases_and_title_boosts() {
    let data = tempfile::tempdir().unwrap();
    let idx = open(&common::kb_dir(), data.path());
    // Stemming: "assessing carers" finds the carer's assessment page.
    let hits = idx.search("assessing carers", 3).unwrap();
    assert!(hits
        .iter()
        .any(|h| idx.chunks[h.chunk].slug == "carers-assessment"));
    // A quoted phrase ranks the page that has it.
    let hits = idx.search("\"lasting power of attorney\"", 1).unwrap();
    assert_eq!(idx.chunks[hits[0].chunk].slug, "lasting-power-of-attorney");
    // Services are searched apart from pages.
    // Services are searched apart from pages: a dementia cafe search finds
    // dementia cafes, and never returns a page chunk.
    let s = idx.search_services("dementia cafe", 3).unwrap();
    assert_eq!(s.len(), 3);
    for h in &s {
        let svc = &idx.services[h.chunk];
        assert!(
            svc.categories.iter().any(|c| c == "dementia-cafes"),
            "{}: {:?}",
            svc.name,
            svc.categories
        );
    }
    assert!(idx.search("", 3).unwrap().is_empty());
}
