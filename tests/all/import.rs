//! `signpost import`: a council's own site served on loopback (the Wrenfield
//! and Oakhollow test sites, tests/fixtures/sites/), imported politely,
//! reviewed, kept fresh, and answered from; Open Referral UK feeds in
//! versions 1 and 3.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common::site_server::{Script, SiteServer};
use crate::common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn wrenfield() -> SiteServer {
    SiteServer::start(
        fixtures().join("sites/wrenfield"),
        "https://www.wrenfield.example",
    )
}

/// A knowledge base folder with the council's details and nothing else.
fn empty_kb(council: &str) -> tempfile::TempDir {
    let kb = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(kb.path().join("pages")).unwrap();
    std::fs::copy(fixtures().join(council), kb.path().join("council.toml")).unwrap();
    kb
}

fn import(data: &Path, args: &[&str]) -> Output {
    import_with(data, &[], args)
}

fn import_with(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let out = bin()
        .envs(env.iter().copied())
        .env("SIGNPOST_DATA_DIR", data)
        .env("SIGNPOST_LOG", "warn")
        .arg("import")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn site(server: &SiteServer, kb: &Path, data: &Path, extra: &[&str]) -> String {
    let url = server.url("/adult-social-care");
    let mut args = vec![
        "site",
        url.as_str(),
        "--into",
        kb.to_str().unwrap(),
        "--allow-private-addresses",
        "--interval-ms",
        "40",
    ];
    args.extend_from_slice(extra);
    let out = import(data, &args);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

#[test]
fn a_site_is_imported_politely_and_then_answers_questions() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    let report = site(&server, kb.path(), data.path(), &["--apply"]);
    assert!(report.contains("42 added"), "{report}");
    assert!(report.contains("1 flagged for review"), "{report}");
    let pages = kb.path().join("pages");
    // A guide page no sitemap lists, found by following links.
    assert!(pages.join("what-we-count.md").exists());
    // A fact only in a linked PDF, with its page number.
    let policy =
        std::fs::read_to_string(pages.join("adult-social-care-charging-policy.md")).unwrap();
    assert!(
        policy.contains("£21.60") && policy.contains("## Page 2"),
        "{policy}"
    );
    // Its title from its properties, its numbered headings kept as
    // headings, its clause numbers and running footer gone.
    assert!(
        policy.contains("title: Adult Social Care Charging Policy\n")
            && policy.contains("title: the PDF's properties"),
        "{policy}"
    );
    assert!(
        policy.contains("### 5. Disability-related expenditure (DRE)\n\nWhere a person receives"),
        "{policy}"
    );
    assert!(
        !policy.contains("page 1 of 2") && !policy.contains("\n5.1 "),
        "{policy}"
    );
    // The scanned PDF is flagged, never written.
    assert!(!pages.join("easy-read-guide-to-assessments.md").exists());
    let review = text(&import(data.path(), &["review"]));
    assert!(
        review.contains("a scanned document with no text (needs OCR)"),
        "{review}"
    );

    // Politeness: an honest user agent, never a cookie, never a disallowed
    // path, and requests spaced as asked.
    let seen = server.requests();
    assert!(
        seen.iter()
            .all(|r| r.user_agent.starts_with("SignpostImporter/")),
        "{:?}",
        seen[0].user_agent
    );
    assert!(seen.iter().all(|r| r.cookie.is_none()));
    assert!(!seen.iter().any(|r| r.path.starts_with("/search")));
    assert_eq!(seen[0].path, "/robots.txt");
    for w in seen.windows(2) {
        let gap = w[1].at.duration_since(w[0].at);
        assert!(
            gap >= Duration::from_millis(35),
            "{gap:?} between {} and {}",
            w[0].path,
            w[1].path
        );
    }

    // Every page records where its fields came from, and the page furniture is gone.
    let faq = std::fs::read_to_string(pages.join("frequently-asked-questions.md")).unwrap();
    assert!(
        faq.contains("profile: localgov-drupal") && faq.contains("title: h1"),
        "{faq}"
    );
    assert!(
        faq.contains("### Is the care needs assessment free?"),
        "{faq}"
    );
    for furniture in [
        "cookie",
        "Was this page helpful",
        "Related links",
        "Skip to main content",
        "Follow us",
    ] {
        assert!(
            !faq.to_lowercase().contains(&furniture.to_lowercase()),
            "{furniture}"
        );
    }

    // And the imported site answers its residents' questions.
    let answer_data = tempfile::tempdir().unwrap();
    let ask = |q: &str| {
        let out = bin()
            .env("SIGNPOST_DATA_DIR", answer_data.path())
            .env("SIGNPOST_KB_DIR", kb.path())
            .args(["ask", q, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = ask("is the care needs assessment free");
    assert_eq!(v["route"], "answer", "{v}");
    assert!(v["reply"].as_str().unwrap().contains("free"), "{v}");
    // A fact from the linked PDF says which document it is in, with the link.
    let v = ask("how much is the arrangement fee if the council arranges my care");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("£290"), "{v}");
    assert!(
        reply.contains("in our document \"Adult Social Care Charging Policy\" (http://")
            && reply.contains("adult-social-care-charging-policy.pdf)"),
        "{v}"
    );
    let v = ask("how much does home care cost an hour");
    assert!(
        v["reply"].as_str().unwrap().contains("0118 496 0100"),
        "{v}"
    );
    assert!(
        v["sources"].as_array().unwrap().iter().all(|s| s["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.wrenfield.example/")),
        "{v}"
    );
}

#[test]
fn a_second_run_asks_politely_and_finds_only_what_changed() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    site(&server, kb.path(), data.path(), &["--apply"]);
    let before = server.requests().len();
    // Nothing changed: every page in the knowledge base answers 304 to its
    // ETag. The scanned PDF, never written, is fetched again and is still
    // waiting for a person.
    let report = site(&server, kb.path(), data.path(), &[]);
    assert!(
        report.contains("0 added, 0 changed, 42 unchanged, 0 failed")
            && report.contains("1 flagged for review"),
        "{report}"
    );
    let second = &server.requests()[before..];
    assert!(second.iter().filter(|r| r.if_none_match.is_some()).count() >= 40);
    // One phone number changes on one page: exactly one change, with its diff.
    let path = "/adult-social-care/blue-badge";
    let html = std::fs::read_to_string(
        fixtures().join("sites/wrenfield/adult-social-care/blue-badge/index.html"),
    )
    .unwrap();
    assert!(html.contains("0118 496 0210"));
    server.script(
        path,
        Script::Body {
            content_type: "text/html".into(),
            body: html.replace("0118 496 0210", "0118 496 0211").into_bytes(),
        },
    );
    let report = site(&server, kb.path(), data.path(), &[]);
    assert!(report.contains("0 added, 1 changed"), "{report}");
    let review = text(&import(data.path(), &["review", "--diff"]));
    assert!(review.contains("changed blue-badge"), "{review}");
    assert!(
        review.contains("-") && review.contains("+") && review.contains("0118 496 0211"),
        "{review}"
    );
    // Staged, not applied until approved.
    let page = kb.path().join("pages/blue-badge.md");
    assert!(!std::fs::read_to_string(&page)
        .unwrap()
        .contains("0118 496 0211"));
    let id = review
        .lines()
        .find(|l| l.contains("changed blue-badge"))
        .and_then(|l| l.trim_start_matches('#').split_whitespace().next())
        .unwrap()
        .to_string();
    let out = import(
        data.path(),
        &["approve", &id, "--into", kb.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::read_to_string(&page)
        .unwrap()
        .contains("0118 496 0211"));

    // A changed page with a wrong figure is staged with the problem, for
    // staff to see; it never vanishes silently.
    let path = "/adult-social-care/disabled-facilities-grant";
    let html = std::fs::read_to_string(
        fixtures().join("sites/wrenfield/adult-social-care/disabled-facilities-grant/index.html"),
    )
    .unwrap();
    assert!(html.contains("You can get up to £30,000."));
    server.script(
        path,
        Script::Body {
            content_type: "text/html".into(),
            body: html
                .replace(
                    "You can get up to £30,000.",
                    "A Disabled Facilities Grant can give you up to £25,000.",
                )
                .into_bytes(),
        },
    );
    let report = site(&server, kb.path(), data.path(), &[]);
    assert!(report.contains("0 added, 1 changed"), "{report}");
    let review = text(&import(data.path(), &["review"]));
    assert!(
        review.contains("changed disabled-facilities-grant")
            && review.contains("gives £25,000 for dfg_maximum, but the rules say £30,000"),
        "{review}"
    );
    // The top-up grant of up to £10,000 in the next sentence is not called wrong.
    assert!(!review.contains("£10,000 for dfg_maximum"), "{review}");
}

/// With PostgreSQL configured the import's record (runs, what each address
/// gave, change sets) lives there: a second replica, with its own data
/// folder, sees the first one's changes, finds only what changed, and
/// staff approve from either.
#[test]
fn the_import_record_lives_in_postgres_when_configured() {
    let pg = crate::common::postgres::start();
    let env = [("SIGNPOST_POSTGRES_URL", pg.url.as_str())];
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url = server.url("/adult-social-care");
    let args = |extra: &'static [&'static str]| {
        let mut a = vec![
            "site",
            url.as_str(),
            "--into",
            kb.path().to_str().unwrap(),
            "--allow-private-addresses",
            "--interval-ms",
            "20",
        ];
        a.extend_from_slice(extra);
        a
    };
    let out = import_with(one.path(), &env, &args(&[]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("42 added"), "{}", text(&out));
    // Staged, not applied; the other replica lists the same changes.
    assert!(!kb.path().join("pages/blue-badge.md").exists());
    let review = text(&import_with(two.path(), &env, &["review"]));
    assert!(review.contains("added blue-badge"), "{review}");
    assert!(review.contains("needs OCR"), "{review}");
    let out = import_with(
        two.path(),
        &env,
        &["approve", "--all", "--into", kb.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(kb.path().join("pages/blue-badge.md").exists());
    // A second run from the other replica knows every page's ETag.
    let before = server.requests().len();
    let out = import_with(two.path(), &env, &args(&[]));
    assert!(
        text(&out).contains("0 added, 0 changed, 42 unchanged"),
        "{}",
        text(&out)
    );
    let second = &server.requests()[before..];
    assert!(second.iter().filter(|r| r.if_none_match.is_some()).count() >= 40);
    // Both runs are in the record, and no replica kept a record file.
    let review = text(&import_with(one.path(), &env, &["review"]));
    assert_eq!(review.matches("(site, finished)").count(), 2, "{review}");
    for d in [one.path(), two.path()] {
        assert!(!d.join("import.db").exists());
    }
    // Without the address, the embedded record is empty: nothing leaked.
    let review = text(&import(one.path(), &["review"]));
    assert!(!review.contains("run "), "{review}");
}

#[test]
fn a_page_gone_twice_is_withdrawn_and_only_a_person_removes_it() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    site(&server, kb.path(), data.path(), &["--apply"]);
    server.script("/adult-social-care/day-centres", Script::Status(404));
    let report = site(&server, kb.path(), data.path(), &["--apply"]);
    assert!(
        report.contains("0 withdrawn"),
        "one 404 is not enough: {report}"
    );
    server.script("/adult-social-care/day-centres", Script::Status(410));
    let report = site(&server, kb.path(), data.path(), &["--apply"]);
    assert!(report.contains("1 withdrawn, 1 to remove"), "{report}");
    // Out of answers at once; the file stays until a person approves.
    let page = kb.path().join("pages/day-centres.md");
    assert!(page.exists());
    let withdrawn = std::fs::read_to_string(kb.path().join("withdrawn.txt")).unwrap();
    assert!(withdrawn.starts_with("day-centres "), "{withdrawn}");
    let check = run(
        data.path(),
        &["kb", "check", "--kb", kb.path().to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&check.stdout)
        .contains("day-centres.md:1: warning: withdrawn from answers"));
    let answer_data = tempfile::tempdir().unwrap();
    let out = bin()
        .env("SIGNPOST_DATA_DIR", answer_data.path())
        .env("SIGNPOST_KB_DIR", kb.path())
        .args(["ask", "where is the larkspur day centre", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!slugs(&v).contains(&"day-centres".to_string()), "{v}");
    let review = text(&import(data.path(), &["review"]));
    assert!(review.contains("removed day-centres"), "{review}");
    let out = import(
        data.path(),
        &["approve", "--all", "--into", kb.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!page.exists());
    assert!(!std::fs::read_to_string(kb.path().join("withdrawn.txt"))
        .unwrap()
        .contains("day-centres"));

    // A path the council excludes later: its pages leave answers at once,
    // and a person approves their removal.
    let report = site(
        &server,
        kb.path(),
        data.path(),
        &[
            "--exclude",
            "/adult-social-care/guide-to-paying-for-care/what-we-count",
        ],
    );
    assert!(report.contains("1 withdrawn, 1 to remove"), "{report}");
    let withdrawn = std::fs::read_to_string(kb.path().join("withdrawn.txt")).unwrap();
    assert!(withdrawn.starts_with("what-we-count "), "{withdrawn}");
    let review = text(&import(data.path(), &["review"]));
    assert!(
        review.contains("removed what-we-count") && review.contains("under an excluded path"),
        "{review}"
    );
}

#[test]
fn busy_servers_are_waited_for_and_unsafe_addresses_refused() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    server.script(
        "/adult-social-care/blue-badge",
        Script::Busy {
            status: 429,
            retry_after: 1,
            times: 1,
        },
    );
    server.script(
        "/adult-social-care/day-centres",
        Script::Redirect {
            status: 302,
            to: "http://169.254.169.254/latest/meta-data".into(),
        },
    );
    server.script("/adult-social-care/contact-us", Script::Body {
        content_type: "text/html".into(),
        body: b"<html><body><noscript>Please enable JavaScript to use this site.</noscript><div id=app></div></body></html>".to_vec(),
    });
    server.script(
        "/adult-social-care/complaints",
        Script::Body {
            content_type: "text/html".into(),
            body: vec![b'a'; 6 * 1024 * 1024],
        },
    );
    server.script(
        "/adult-social-care/mental-capacity",
        Script::Body {
            content_type: "application/zip".into(),
            body: b"PK\x03\x04not a page".to_vec(),
        },
    );
    let report = site(&server, kb.path(), data.path(), &["--apply"]);
    // 429 with Retry-After: 1 was waited for, then the page came.
    let badge: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/adult-social-care/blue-badge")
        .collect();
    assert_eq!(badge.len(), 2);
    assert!(badge[1].at.duration_since(badge[0].at) >= Duration::from_millis(950));
    assert!(kb.path().join("pages/blue-badge.md").exists());
    // A redirect to another host (a cloud metadata address) is refused.
    assert!(
        report.contains("169.254.169.254 is not one of the hosts being imported"),
        "{report}"
    );
    // A script-only page is flagged; a huge page and a file are not imported.
    let review = text(&import(data.path(), &["review"]));
    assert!(review.contains("needs JavaScript"), "{review}");
    assert!(
        report.contains("larger than the 5242880-byte limit"),
        "{report}"
    );
    assert!(
        report.contains("not a web page or PDF (application/zip)"),
        "{report}"
    );
    assert!(!kb.path().join("pages/contact-us.md").exists());

    // Without the test switch, a loopback address is refused outright.
    let out = import(
        data.path(),
        &[
            "site",
            &server.url("/adult-social-care"),
            "--into",
            kb.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("a private or loopback address"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_server_error_on_robots_txt_stops_the_run() {
    let server = wrenfield();
    server.script("/robots.txt", Script::Status(503));
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    let url = server.url("/adult-social-care");
    let out = import(
        data.path(),
        &[
            "site",
            &url,
            "--into",
            kb.path().to_str().unwrap(),
            "--allow-private-addresses",
            "--interval-ms",
            "0",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("RFC 9309"), "{}", text(&out));
    // A missing robots.txt (404) means no rules.
    server.script("/robots.txt", Script::Status(404));
    let out = import(
        data.path(),
        &[
            "site",
            &url,
            "--into",
            kb.path().to_str().unwrap(),
            "--allow-private-addresses",
            "--interval-ms",
            "0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
}

/// One page of each extraction profile, against a golden Markdown file
/// (tests/fixtures/import-golden/). Set SIGNPOST_BLESS=1 to rewrite them
/// after checking the difference by eye.
#[test]
fn each_extraction_profile_gives_its_golden_markdown() {
    use signpost::import::extract::extract;
    let cases = [
        (
            "sites/wrenfield/adult-social-care/frequently-asked-questions/index.html",
            "https://www.wrenfield.example/adult-social-care/frequently-asked-questions",
            "localgov-drupal",
            "wrenfield-faq.md",
        ),
        (
            "sites/wrenfield/adult-social-care/paying-for-care/charges-2026-to-2027/index.html",
            "https://www.wrenfield.example/adult-social-care/paying-for-care/charges-2026-to-2027",
            "localgov-drupal",
            "wrenfield-charges.md",
        ),
        (
            "sites/oakhollow/social-care-and-health/financial-assessment/index.html",
            "https://www.oakhollow.example/social-care-and-health/financial-assessment",
            "govuk-frontend",
            "oakhollow-financial-assessment.md",
        ),
        (
            "sites/oakhollow/social-care-and-health/adult-social-care-charges/index.html",
            "https://www.oakhollow.example/social-care-and-health/adult-social-care-charges",
            "govuk-frontend",
            "oakhollow-charges.md",
        ),
        (
            "import-golden/generic-page.html",
            "https://www.example.org/care/meals",
            "generic",
            "generic-page.md",
        ),
    ];
    for (file, url, profile, golden) in cases {
        let html = std::fs::read_to_string(fixtures().join(file)).unwrap();
        let e = extract(&html, &url::Url::parse(url).unwrap());
        assert_eq!(e.profile.name(), profile, "{file}");
        let got = format!(
            "title: {}\nsummary: {}\nreviewed: {:?}\ncontacts: {:?}\n\n{}",
            e.title, e.summary, e.reviewed, e.contacts, e.body
        );
        let path = fixtures().join("import-golden").join(golden);
        if std::env::var_os("SIGNPOST_BLESS").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            got, want,
            "{golden} differs: check the new output, then SIGNPOST_BLESS=1"
        );
    }
}

#[test]
fn version_1_and_version_3_feeds_of_the_same_services_read_the_same() {
    use signpost::import::oruk::normalise;
    let read = |f: &str| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("oruk").join(f)).unwrap())
            .unwrap()
    };
    let (v1, v3) = (read("wrenfield-v1.json"), read("wrenfield-v3.json"));
    assert_eq!(v1.len(), 5);
    for (a, b) in v1.iter().zip(&v3) {
        assert_eq!(normalise(a, 1).unwrap(), normalise(b, 1).unwrap());
    }
    let lunch = normalise(&v3[0], 1).unwrap();
    assert_eq!(lunch.schedule.as_deref(), Some("Friday 12 noon to 2pm"));
    assert_eq!(lunch.eligibility.as_deref(), Some("Aged 60 and over"));
}

#[test]
fn a_services_feed_is_paged_mapped_and_staged_with_field_changes() {
    let dir = tempfile::tempdir().unwrap();
    // The feed as an API serves it: GET / says the version; /services pages.
    let api = dir.path().join("api");
    std::fs::create_dir_all(api.join("services")).unwrap();
    std::fs::copy(fixtures().join("oruk/v3-root.json"), api.join("index.html")).unwrap();
    let server = SiteServer::start(api.clone(), "https://directory.wrenfield.example");
    for page in 1..=3 {
        let body = std::fs::read(fixtures().join(format!("oruk/v3-page-{page}.json"))).unwrap();
        server.script(
            &format!("/services?page={page}&per_page=50"),
            Script::Body {
                content_type: "application/json".into(),
                body,
            },
        );
    }
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    std::fs::create_dir_all(kb.path().join("services")).unwrap();
    std::fs::copy(
        fixtures().join("oruk/taxonomy-map.toml"),
        kb.path().join("services/taxonomy-map.toml"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    // The file form of the same feed.
    let file = fixtures().join("oruk/wrenfield-v1.json");
    let out = import(
        data.path(),
        &[
            "services",
            file.to_str().unwrap(),
            "--into",
            kb.path().to_str().unwrap(),
            "--apply",
        ],
    );
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("5 added"), "{report}");
    assert!(
        report.contains("unmapped term 'Strength and balance' (1 services)"),
        "{report}"
    );
    // Four have a category and were applied; the unmapped one waits.
    assert!(report.contains("4 applied"), "{report}");
    let check = run(
        data.path(),
        &["kb", "check", "--kb", kb.path().to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("services: 4"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // The same services from a version 3 API, paged, change nothing (the
    // unmapped one is still waiting).
    let out = import(
        data.path(),
        &[
            "services",
            &server.url("/"),
            "--into",
            kb.path().to_str().unwrap(),
            "--allow-private-addresses",
        ],
    );
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("version: HSDS-UK-3.0"), "{report}");
    assert!(
        report.contains("1 added, 0 changed, 4 unchanged"),
        "{report}"
    );
    let v3 = fixtures().join("oruk/wrenfield-v3.json");
    // ...and a changed phone number is one change, field by field.
    let mut recs: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&v3).unwrap()).unwrap();
    recs[0]["phones"][0]["number"] = "0118 496 0361".into();
    let changed = dir.path().join("changed.json");
    std::fs::write(&changed, serde_json::to_string(&recs).unwrap()).unwrap();
    let report = text(&import(
        data.path(),
        &[
            "services",
            changed.to_str().unwrap(),
            "--into",
            kb.path().to_str().unwrap(),
        ],
    ));
    // (The unmapped service is still waiting, so it is still "added".)
    assert!(
        report.contains("1 added, 1 changed, 3 unchanged"),
        "{report}"
    );
    let review = text(&import(data.path(), &["review", "--diff"]));
    assert!(
        review.contains("phone: \"0118 496 0360\" -> \"0118 496 0361\""),
        "{review}"
    );
    // Bad records are named.
    let bad = fixtures().join("oruk/bad-records.json");
    let report = text(&import(
        data.path(),
        &[
            "services",
            bad.to_str().unwrap(),
            "--into",
            kb.path().to_str().unwrap(),
        ],
    ));
    assert!(
        report.contains("service 1 has no \"id\"")
            && report.contains("service wf-x has no \"name\""),
        "{report}"
    );
}

/// A one-page knowledge base's page, so `serve` can start before the import.
fn write_welcome(kb: &Path, reviewed: &str, more: &str) {
    std::fs::write(
        kb.join("pages/welcome.md"),
        format!("---\nslug: welcome\ntitle: Welcome\nsummary: What this service is.\ntopics: [welcome]\nurl: https://www.wrenfield.example/adult-social-care\nlast_reviewed: {reviewed}\n---\n\nThis is the adult social care service of Wrenfield Council{more}.\n"),
    )
    .unwrap();
}

/// Waits until `f` holds, for up to `secs` seconds.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

#[test]
fn serve_resumes_an_interrupted_import_and_swaps_content_without_a_restart() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    // One page to start from, so the assistant can start.
    write_welcome(kb.path(), "2026-11-29", "");
    let data = tempfile::tempdir().unwrap();
    // A run the last process started and never finished.
    let url = server.url("/adult-social-care");
    signpost::import::state::State::open(&signpost::import::Place::local(data.path()))
        .unwrap()
        .start_run("site", &url)
        .unwrap();
    let settings = data.path().join("signpost.toml");
    std::fs::write(
        &settings,
        format!(
            "[import]\nsite = \"{url}\"\nschedule = \"03:00\"\nauto_apply = true\ninterval_ms = 20\nallow_private_addresses = true\n\n[kb]\nreload_check_seconds = 1\n"
        ),
    )
    .unwrap();
    let s = Server::start(
        data.path(),
        &[
            ("SIGNPOST_CONFIG", settings.to_str().unwrap()),
            ("SIGNPOST_KB_DIR", kb.path().to_str().unwrap()),
        ],
    );
    let health = || -> serde_json::Value {
        ureq::get(&s.url("/healthz"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let first = health();
    assert_eq!(first["pages"], 1, "{first}");
    // The interrupted run is done again at once, its changes applied, and
    // the new content swapped in while the server goes on answering.
    assert!(
        eventually(180, || health()["pages"].as_u64().unwrap_or(0) > 40),
        "{}; log: {}",
        health(),
        std::fs::read_to_string(data.path().join("server.log")).unwrap_or_default()
    );
    assert_ne!(health()["content_hash"], first["content_hash"]);
    let chat = |q: &str| -> serde_json::Value {
        ureq::post(&s.url("/api/chat"))
            .send_json(serde_json::json!({ "message": q }))
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    let v = chat("is the care needs assessment free");
    assert_eq!(v["route"], "answer", "{v}");
    assert!(
        v["sources"].as_array().unwrap().iter().any(|s| s["url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.wrenfield.example/")),
        "{v}"
    );

    // A staff edit on disk is noticed and loaded too.
    let before = health()["content_hash"].clone();
    write_welcome(kb.path(), "2026-11-30", ", open every weekday");
    assert!(
        eventually(60, || health()["content_hash"] != before),
        "the edit was not loaded"
    );
    // The import ran once, as the record shows.
    let runs = signpost::import::state::State::open(&signpost::import::Place::local(data.path()))
        .unwrap()
        .runs(10)
        .unwrap();
    assert_eq!(
        runs.iter().filter(|r| r.status == "finished").count(),
        1,
        "{runs:?}"
    );
    assert_eq!(
        runs.iter().filter(|r| r.status == "interrupted").count(),
        1,
        "{runs:?}"
    );
}

#[test]
fn staff_approve_imported_changes_on_the_staff_page_and_answers_use_them_at_once() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    write_welcome(kb.path(), "2026-11-29", "");
    let data = tempfile::tempdir().unwrap();
    let report = site(&server, kb.path(), data.path(), &[]);
    assert!(
        report.contains("42 added") && report.contains("0 applied"),
        "{report}"
    );
    let token = "staff-token-for-the-changes-test";
    let s = Server::start(
        data.path(),
        &[
            ("SIGNPOST_KB_DIR", kb.path().to_str().unwrap()),
            ("SIGNPOST_ADMIN_TOKEN", token),
        ],
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = s.url("/staff/changes");
    // Staff only.
    let r = agent.get(&url).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let mut r = agent
        .get(&url)
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cookie = csrf_cookie(r.headers());
    let html = r.body_mut().read_to_string().unwrap();
    assert!(html.contains("added: what-we-count"), "{html}");
    assert!(html.contains("a scanned document with no text"), "{html}");
    assert!(html.contains("What changed"), "{html}");
    let csrf = form_token(&html);
    let post = |fields: &[(&str, &str)]| -> (u16, String) {
        let mut r = agent
            .post(&url)
            .header("authorization", format!("Bearer {token}"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form_body(fields))
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let pages = || -> u64 {
        ureq::get(&s.url("/healthz"))
            .call()
            .unwrap()
            .body_mut()
            .read_json::<serde_json::Value>()
            .unwrap()["pages"]
            .as_u64()
            .unwrap()
    };
    // A forged form changes nothing.
    let (status, _) = post(&[
        ("csrf", "0123456789abcdef0123456789abcdef"),
        ("action", "approve"),
        ("id", "all"),
    ]);
    assert_eq!(status, 403);
    assert_eq!(pages(), 1);
    // Approving every addition writes the pages and answers use them at once.
    let (status, body) = post(&[("csrf", &csrf), ("action", "approve"), ("id", "all")]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("42 change(s) approved and now used in answers"),
        "{body}"
    );
    assert!(pages() > 40);
    assert!(kb.path().join("pages/what-we-count.md").exists());
    // What is left is the flagged scan, which can only be rejected.
    assert!(!body.contains("Approve #"), "{body}");
    let id = body
        .split("name=\"id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (_, body) = post(&[("csrf", &csrf), ("action", "reject"), ("id", &id)]);
    assert!(
        body.contains("1 change(s) rejected") && body.contains("Nothing is waiting"),
        "{body}"
    );
    // Every decision is in the audit log.
    let audit = agent
        .get(&s.url("/staff/audit"))
        .header("authorization", format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        audit.contains("approved") && audit.contains("rejected"),
        "{audit}"
    );
}

#[test]
fn answers_from_a_page_not_checked_for_a_while_say_when_it_was_checked() {
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let page = |checked: &str| {
        format!(
            "---\nslug: meals-at-home\ntitle: Meals at home\nsummary: Hot meals delivered to your home.\ntopics: [meals]\nurl: https://www.wrenfield.example/adult-social-care/meals-at-home\nlast_reviewed: 2026-01-10\nlast_checked: {checked}\nsource: https://www.wrenfield.example/adult-social-care/meals-at-home\n---\n\nA hot meal delivery service brings a cooked lunch to your door every day. Each meal costs £6.20.\n"
        )
    };
    let ask = |data: &Path| -> serde_json::Value {
        let out = bin()
            .env("SIGNPOST_DATA_DIR", data)
            .env("SIGNPOST_KB_DIR", kb.path())
            .args(["ask", "how much does a hot meal delivery cost", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    std::fs::write(kb.path().join("pages/meals-at-home.md"), page("2026-01-12")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let v = ask(data.path());
    assert_eq!(v["route"], "answer", "{v}");
    let reply = v["reply"].as_str().unwrap();
    assert!(reply.contains("£6.20"), "{v}");
    assert!(
        reply.contains(
            "We last checked this page on 12 January 2026, so it may have changed since."
        ),
        "{v}"
    );
    assert_eq!(v["sources"][0]["last_checked"], "12 January 2026", "{v}");
    // Checked recently: nothing to say.
    let today = time::OffsetDateTime::now_utc().date().to_string();
    std::fs::write(kb.path().join("pages/meals-at-home.md"), page(&today)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let v = ask(data.path());
    assert!(
        !v["reply"].as_str().unwrap().contains("last checked"),
        "{v}"
    );
    assert!(v["sources"][0].get("last_checked").is_none(), "{v}");
    // A page past its review date says when it was last updated.
    std::fs::write(
        kb.path().join("pages/meals-at-home.md"),
        page(&today).replace("last_reviewed: 2026-01-10", "last_reviewed: 2019-06-04"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let v = ask(data.path());
    assert!(
        v["reply"].as_str().unwrap().contains(
            "This page was last updated on 4 June 2019, so figures and details may have changed since."
        ),
        "{v}"
    );
}

#[test]
fn kill_9_mid_import_then_a_rerun_finishes_with_no_half_written_page() {
    let server = wrenfield();
    let kb = empty_kb("sites/wrenfield-hand/council.toml");
    let data = tempfile::tempdir().unwrap();
    let url = server.url("/adult-social-care");
    // Killed part-way through, twice: pages are fetched 40 ms apart, so
    // about a third of the site each time.
    for wait_ms in [700u64, 1500] {
        let mut child = bin()
            .env("SIGNPOST_DATA_DIR", data.path())
            .env("SIGNPOST_LOG", "warn")
            .args(["import", "site", &url, "--into"])
            .arg(kb.path())
            .args([
                "--allow-private-addresses",
                "--interval-ms",
                "40",
                "--apply",
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the kill left is whole: every page written so far parses,
        // and no temporary file is left where pages are read.
        for e in std::fs::read_dir(kb.path().join("pages")).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(
                p.extension().and_then(|x| x.to_str()),
                Some("md"),
                "only whole pages in pages/: {}",
                p.display()
            );
            let page = std::fs::read_to_string(&p).unwrap();
            let body = page.strip_prefix("---\n").map(|r| r.split_once("\n---\n"));
            assert!(
                matches!(body, Some(Some((_, text))) if !text.trim().is_empty()),
                "a whole page with its front matter: {}",
                p.display()
            );
        }
    }
    // Run again: it finishes, and the pages are exactly those one
    // uninterrupted run writes.
    let report = site(&server, kb.path(), data.path(), &["--apply"]);
    let clean_kb = empty_kb("sites/wrenfield-hand/council.toml");
    let clean_data = tempfile::tempdir().unwrap();
    site(&server, clean_kb.path(), clean_data.path(), &["--apply"]);
    let pages = |dir: &Path| -> Vec<(String, String)> {
        let mut v: Vec<_> = std::fs::read_dir(dir.join("pages"))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let (resumed, clean) = (pages(kb.path()), pages(clean_kb.path()));
    assert_eq!(resumed.len(), 42, "{report}");
    assert_eq!(
        resumed.iter().map(|p| &p.0).collect::<Vec<_>>(),
        clean.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    for (a, b) in resumed.iter().zip(&clean) {
        assert_eq!(a.1, b.1, "{} differs from an uninterrupted import", a.0);
    }
}
