//! `signpost kb check` on broken content: every kind of problem is reported
//! with its file and line, the loader never crashes, and errors exit 1.

mod common;

use std::path::Path;

use common::*;

const GOOD: &str = "---
slug: good-page
title: A good page
summary: A page that is fine.
topics: [carers]
url: https://www.northbay.example/care/good-page
last_reviewed: 2026-10-01
related: [other-page]
---
# A good page

You can get help. Call us on 01632 960100.
";

const OTHER: &str = "---
slug: other-page
title: Another page
summary: Another fine page.
topics: [carers]
url: https://www.northbay.example/care/other-page
last_reviewed: 2026-10-01
---
# Another page

Carers can ask for a carer's assessment.
";

const SERVICE: &str = r#"[
  {
    "id": "svc-1",
    "name": "Good Club",
    "description": "A friendly club.",
    "status": "active",
    "organization": {"id": "o1", "name": "Good Org"},
    "contacts": [{"id": "c1", "phones": [{"id": "p1", "number": "01632 960401"}]}],
    "service_areas": [{"id": "a1", "service_area": "Harbourside"}],
    "service_taxonomys": [{"id": "t1", "taxonomy": {"id": "befriending", "name": "befriending", "vocabulary": "signpost-category"}}]
  }
]
"#;

fn kb_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages")).unwrap();
    std::fs::create_dir_all(dir.path().join("services")).unwrap();
    std::fs::write(dir.path().join("pages/good-page.md"), GOOD).unwrap();
    std::fs::write(dir.path().join("pages/other-page.md"), OTHER).unwrap();
    std::fs::write(dir.path().join("services/good.json"), SERVICE).unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

/// Runs `kb check`, returning (exit code, stdout).
fn check(kb: &Path) -> (i32, String) {
    let data = tempfile::tempdir().unwrap();
    let out = run(data.path(), &["kb", "check", "--kb", kb.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap(), text)
}

fn assert_line(text: &str, file_and_line: &str, kind: &str, words: &str) {
    let found = text
        .lines()
        .any(|l| l.contains(file_and_line) && l.contains(kind) && l.contains(words));
    assert!(
        found,
        "expected '{file_and_line}: {kind}: …{words}…' in:\n{text}"
    );
}

#[test]
fn clean_knowledge_base_passes_with_summary() {
    let kb = kb_with(&[]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        text.lines().last().unwrap(),
        "pages: 2, chunks: 2, services: 1"
    );
}

#[test]
fn bad_yaml_is_reported_at_its_line() {
    let bad = GOOD
        .replace("slug: good-page", "slug: bad-yaml")
        .replace("title: A good page", "title: [unclosed");
    let kb = kb_with(&[("pages/bad-yaml.md", bad.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "bad-yaml.md:3", "error", "not valid YAML");
    assert!(
        text.contains("pages: 2,"),
        "the good pages still load: {text}"
    );
}

#[test]
fn missing_field_is_named() {
    let bad = GOOD
        .replace("slug: good-page", "slug: no-summary")
        .replace("summary: A page that is fine.\n", "");
    let kb = kb_with(&[("pages/no-summary.md", bad.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "no-summary.md:1", "error", "missing field 'summary'");
}

#[test]
fn wrong_field_types_and_bad_dates_point_at_the_field() {
    let bad = GOOD
        .replace("slug: good-page", "slug: typed")
        .replace("topics: [carers]", "topics: carers")
        .replace("last_reviewed: 2026-10-01", "last_reviewed: last week");
    let kb = kb_with(&[("pages/typed.md", bad.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "typed.md:5", "error", "'topics' must be a list");
    assert_line(&text, "typed.md:7", "error", "YYYY-MM-DD");
}

#[test]
fn duplicate_slug_names_the_first_file() {
    let dup = GOOD.replace("title: A good page", "title: A copy");
    let kb = kb_with(&[("pages/zz-copy.md", dup.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "zz-copy.md:2", "error", "duplicate slug 'good-page'");
    assert!(text.contains("good-page.md already uses it"), "{text}");
}

#[test]
fn link_to_a_missing_page_is_an_error() {
    let bad = GOOD.replace("slug: good-page", "slug: linker").replace(
        "related: [other-page]",
        "related: [other-page, no-such-page]",
    );
    let kb = kb_with(&[("pages/linker.md", bad.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(
        &text,
        "linker.md:8",
        "error",
        "'no-such-page' does not exist",
    );
}

#[test]
fn old_review_date_is_only_a_warning() {
    let old = GOOD
        .replace("slug: good-page", "slug: old-page")
        .replace("last_reviewed: 2026-10-01", "last_reviewed: 2020-01-15");
    let kb = kb_with(&[("pages/old-page.md", old.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 0, "{text}");
    assert_line(
        &text,
        "old-page.md:7",
        "warning",
        "last reviewed 2020-01-15",
    );
}

#[test]
fn no_front_matter_and_non_utf8_are_reported() {
    let kb = kb_with(&[
        ("pages/plain.md", b"# Just a heading\n\nSome text.\n"),
        (
            "pages/latin1.md",
            b"---\nslug: latin1\ntitle: caf\xe9\n---\n",
        ),
    ]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "plain.md:1", "error", "no front matter");
    assert_line(&text, "latin1.md:3", "error", "not UTF-8");
}

#[test]
fn malformed_services_are_reported_with_record_lines() {
    let broken_json = "[\n  {\"id\": \"x\",\n   \"name\": \"oops\"\n";
    let missing = r#"[
  {
    "id": "svc-2",
    "description": "No name and no contact.",
    "status": "active",
    "organization": {"name": "Org"},
    "service_areas": [{"service_area": "Fernley"}],
    "service_taxonomys": [{"taxonomy": {"name": "befriending", "vocabulary": "signpost-category"}}]
  },
  {
    "id": "svc-1",
    "name": "Same id as the good file",
    "description": "Duplicate.",
    "status": "active",
    "organization": {"name": "Org"},
    "email": "a@b.example",
    "service_areas": [{"service_area": "Fernley"}]
  }
]
"#;
    let kb = kb_with(&[
        ("services/broken.json", broken_json.as_bytes()),
        ("services/missing.json", missing.as_bytes()),
    ]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "broken.json:4", "error", "not valid JSON");
    assert_line(
        &text,
        "missing.json:2",
        "error",
        "svc-2: missing or empty \"name\"",
    );
    assert_line(
        &text,
        "missing.json:2",
        "error",
        "svc-2: give at least one phone number",
    );
    assert_line(
        &text,
        "missing.json:10",
        "error",
        "duplicate service id 'svc-1'",
    );
    assert_line(&text, "missing.json:10", "error", "needs a taxonomy term");
    assert!(
        text.ends_with("services: 1\n"),
        "only the good service loads: {text}"
    );
}

#[test]
fn bad_synonyms_file_is_reported() {
    let kb = kb_with(&[(
        "synonyms.toml",
        b"[expand]\n\"ok\" = \"fine\"\n\"broken = \"x\"\n",
    )]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 1);
    assert_line(&text, "synonyms.toml:3", "error", "not valid TOML");
}

#[test]
fn readability_is_reported_and_dense_pages_warned() {
    let dense = GOOD.replace("slug: good-page", "slug: dense").replace(
        "You can get help. Call us on 01632 960100.",
        "Notwithstanding institutional considerations, eligibility determinations necessitate comprehensive multidisciplinary investigation of individualised circumstances.",
    );
    let kb = kb_with(&[("pages/dense.md", dense.as_bytes())]);
    let (code, text) = check(kb.path());
    assert_eq!(code, 0, "{text}");
    assert_line(&text, "dense.md:10", "warning", "reading grade");
    assert!(text.contains("readability: median grade"), "{text}");
}

/// A copy of the real knowledge base with one file edited.
fn real_kb_with(edit: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_kb(dir.path());
    let path = dir.path().join(edit);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {edit}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

#[test]
fn the_real_rules_and_pages_agree() {
    let (code, text) = check(&kb_dir());
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_page_that_disagrees_with_the_rules_fails() {
    let kb = real_kb_with(
        "pages/paying-for-care-at-home.md",
        "If your capital is between £14,250 and £23,250",
        "If your capital is between £14,250 and £24,000",
    );
    let (code, text) = check(kb.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("paying-for-care-at-home.md:")
                && l.contains("upper_capital_limit")
                && l.contains("£24,000")
                && l.contains("rules.toml says £23,250")),
        "{text}"
    );
}

#[test]
fn rules_that_no_page_states_fail() {
    let kb = real_kb_with("rules.toml", "value = 30000", "value = 35000");
    let (code, text) = check(kb.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("dfg_maximum is £35,000 but this page never states it"),
        "{text}"
    );
}
