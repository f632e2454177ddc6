//! `signpost kb check` on broken content: every kind of problem is reported
//! with its file and line, the loader never crashes, and errors exit 1.

use crate::common;

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

/// The test council: every detail urgent replies need, and no urgent pages.
const COUNCIL: &str = "name = \"Testshire Council\"
front_door_name = \"Testshire Care\"
phone = \"01632 960100\"
hours = \"Monday to Friday, 9am to 5pm\"
out_of_hours_phone = \"01632 960199\"
safeguarding_name = \"Testshire safeguarding\"
safeguarding_phone = \"01632 960150\"
welfare_rights_phone = \"01632 960260\"
email = \"care@testshire.example\"
website = \"https://www.testshire.example\"
";

fn kb_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("pages")).unwrap();
    std::fs::create_dir_all(dir.path().join("services")).unwrap();
    std::fs::write(dir.path().join("pages/good-page.md"), GOOD).unwrap();
    std::fs::write(dir.path().join("pages/other-page.md"), OTHER).unwrap();
    std::fs::write(dir.path().join("services/good.json"), SERVICE).unwrap();
    std::fs::write(dir.path().join("council.toml"), COUNCIL).unwrap();
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
                && l.contains("the rules say £23,250")),
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

/// Runs `kb check` as on `day`.
fn check_on(kb: &Path, day: &str) -> (i32, String) {
    let data = tempfile::tempdir().unwrap();
    let out = run(
        data.path(),
        &["kb", "check", "--kb", kb.to_str().unwrap(), "--today", day],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// The knowledge base as it stood before the 2026 fact-check: last year's
/// Carer's Allowance earnings limit (£196, "2025 to 2026") in the rules and
/// on its page, and "State Pension age is 66 now" on a page.
fn kb_before_the_fact_check() -> tempfile::TempDir {
    let kb = real_kb_with(
        "rules.toml",
        "value = 204\nunit = \"pounds a week\"\nyear = \"2026 to 2027\"",
        "value = 196\nunit = \"pounds a week\"\nyear = \"2025 to 2026\"",
    );
    for (page, from, to) in [
        (
            "pages/support-for-carers.md",
            "In 2026 to 2027, the Carer's Allowance earnings limit is £204 a week after deductions.",
            "In 2025 to 2026, the Carer's Allowance earnings limit was £196 a week after deductions.",
        ),
        (
            "pages/benefits-and-money-advice.md",
            "In 2026 to 2027, the Carer's Allowance earnings limit is £204 a week after deductions.",
            "In 2025 to 2026, the Carer's Allowance earnings limit was £196 a week after deductions.",
        ),
        (
            "pages/getting-out-and-about.md",
            "You can get an older person's bus pass from State Pension age.",
            "You can get an older person's bus pass from State Pension age. State Pension age is 66 now.",
        ),
    ] {
        let path = kb.path().join(page);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from} not in {page}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    kb
}

/// The two HIGH findings of the 2026 fact-check, caught by `kb check` on
/// its own on the first day of the 2026 to 2027 rates.
#[test]
fn kb_check_would_have_caught_last_years_figures_on_6_april_2026() {
    let kb = kb_before_the_fact_check();
    // In March, a warning that next April's figure is due.
    let (code, text) = check_on(kb.path(), "2026-03-15");
    assert_line(&text, "rules.toml:", "warning", "rule 'carers_allowance_earnings_limit' is £196 a week (2025 to 2026), which applies until 5 April 2026");
    // The "now" sentence is an error whatever the day.
    assert_eq!(code, 1, "{text}");
    assert_line(
        &text,
        "getting-out-and-about.md:",
        "error",
        "applies now, without saying when or for whom",
    );
    // On 6 April 2026, last year's figure is an error naming it and its pages.
    let (code, text) = check_on(kb.path(), "2026-04-06");
    assert_eq!(code, 1, "{text}");
    assert_line(&text, "rules.toml:", "error", "rule 'carers_allowance_earnings_limit' is £196 a week (2025 to 2026), which applied until 5 April 2026");
    assert_line(
        &text,
        "rules.toml:",
        "error",
        "support-for-carers, benefits-and-money-advice",
    );
}

#[test]
fn todays_rules_expire_on_5_april_2027_with_a_warning_from_march() {
    let (code, text) = check_on(&kb_dir(), "2027-02-28");
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("which applies until"), "{text}");
    let (code, text) = check_on(&kb_dir(), "2027-03-01");
    assert_eq!(code, 0, "{text}");
    assert_line(&text, "rules.toml:", "warning", "rule 'carers_allowance_earnings_limit' is £204 a week (2026 to 2027), which applies until 5 April 2027");
    let (code, text) = check_on(&kb_dir(), "2027-04-06");
    assert_eq!(code, 1, "{text}");
    assert_line(&text, "rules.toml:", "error", "rule 'attendance_allowance_higher_rate' is £114.60 a week (2026 to 2027), which applied until 5 April 2027");
    // Figures fixed in law do not expire.
    assert!(!text.contains("'dfg_maximum'"), "{text}");
}

#[test]
fn a_yearly_figure_stated_without_its_year_is_reported() {
    let kb = real_kb_with(
        "pages/attendance-allowance.md",
        "In 2026 to 2027, the lower rate of Attendance Allowance is £76.70 a week",
        "The lower rate of Attendance Allowance is £76.70 a week",
    );
    let (code, text) = check(kb.path());
    assert_eq!(code, 0, "{text}");
    assert_line(&text, "attendance-allowance.md:", "warning", "attendance_allowance_lower_rate, a figure that changes each April, without saying which year");
}

/// A correct sentence about a limit is not mistaken for a wrong limit.
#[test]
fn a_difference_from_a_limit_is_not_a_wrong_limit() {
    let (code, text) = check(&kb_dir());
    assert_eq!(code, 0, "{text}");
    let page = std::fs::read_to_string(kb_dir().join("pages/support-for-carers.md")).unwrap();
    assert!(
        page.contains("If you earn even £1 over the Carer's Allowance earnings limit in a week")
    );
}

/// An office-hours number for reporting abuse, with no out-of-hours route
/// or 999 in its passage, as the safeguarding page had before the 2026
/// fact-check.
#[test]
fn an_office_hours_only_route_for_abuse_is_an_error() {
    let kb = real_kb_with(
        "pages/safeguarding-adults.md",
        "If you are being abused or you feel unsafe, you can call us on 01632 960150 for help, Monday to Friday, 8:30am to 5pm. At other times, call the Emergency Duty Team on 01632 960199. Abuse is never your fault. You can talk to us first, before you decide what to do. If you are in danger, call 999.",
        "If you are being abused or you feel unsafe, you can call us on 01632 960150 for help. Abuse is never your fault. You can talk to us first, before you decide what to do.",
    );
    let (code, text) = check(kb.path());
    assert_eq!(code, 1, "{text}");
    assert_line(&text, "safeguarding-adults.md:", "error", "office-hours number (01632 960150) for reporting abuse or a crisis, but not the out-of-hours number (01632 960199) and 999");
}

/// A calculator never uses a figure whose period has ended: with last
/// year's earnings limit it stays silent and the pages answer instead.
#[test]
fn an_expired_figure_is_not_used_by_the_calculators() {
    let kb = kb_before_the_fact_check();
    let data = tempfile::tempdir().unwrap();
    let out = bin()
        .env("SIGNPOST_DATA_DIR", data.path())
        .env("SIGNPOST_KB_DIR", kb.path())
        .args([
            "ask",
            "can i get carers allowance if i earn £200 a week",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reply = v["reply"].as_str().unwrap();
    assert!(
        !reply.contains("above the Carer's Allowance earnings limit"),
        "{reply}"
    );
    assert!(
        !reply.contains("within the Carer's Allowance earnings limit"),
        "{reply}"
    );
    // With this year's figure, the calculator answers.
    let v = ask_json(
        data.path(),
        "can i get carers allowance if i earn £200 a week",
        &[],
    );
    assert!(
        v["reply"]
            .as_str()
            .unwrap()
            .contains("within the Carer's Allowance earnings limit of £204 a week (2026 to 2027)"),
        "{v}"
    );
}

#[test]
fn an_urgent_page_that_does_not_exist_is_an_error() {
    let kb = real_kb_with(
        "council.toml",
        "abuse = \"safeguarding-adults\"",
        "abuse = \"safeguarding\"",
    );
    let (code, text) = check(kb.path());
    assert_eq!(code, 1, "{text}");
    assert_line(
        &text,
        "council.toml:",
        "error",
        "urgent_pages: the page 'safeguarding' for abuse does not exist",
    );
    let kb = real_kb_with("council.toml", "fall = ", "falls = ");
    let (_, text) = check(kb.path());
    assert_line(
        &text,
        "council.toml:",
        "error",
        "'falls' is not a kind of urgent reply",
    );
}

#[test]
fn a_calculator_citation_to_a_missing_page_is_an_error() {
    let kb = real_kb_with(
        "rules.toml",
        "grant = [\"disabled-facilities-grant\"",
        "grant = [\"home-adaptations-grant\"",
    );
    let (code, text) = check(kb.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("[cite] grant names page 'home-adaptations-grant', which does not exist"),
        "{text}"
    );
}
