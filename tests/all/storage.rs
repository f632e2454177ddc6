//! One storage interface, two backends: the same checks run on the embedded
//! SQLite store and on a real PostgreSQL server (Debian's, started here).
//! Conversations, call-backs, the audit log and settings (the kill switch)
//! behave the same on both, and councils' rows stay apart.

use std::time::Duration;

use signpost::import::state::{Change, Known, Place, State as ImportState};
use signpost::store::{NewCallback, Store};

use crate::common::postgres;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `check` on each backend with a function that opens the store for a
/// council (every call opens a new store on the same database, as another
/// replica would).
fn on_both(check: impl Fn(&str, &dyn Fn(&str) -> Store)) {
    let dir = tempfile::tempdir().unwrap();
    check("sqlite", &|council| {
        Store::open_configured(dir.path(), council, "", TIMEOUT).unwrap()
    });
    let pg = postgres::start();
    let data = tempfile::tempdir().unwrap();
    check("postgres", &|council| {
        let s = Store::open_configured(data.path(), council, &pg.url, TIMEOUT).unwrap();
        assert_eq!(s.backend(), "postgres");
        s
    });
    // Nothing was written to the data folder when PostgreSQL holds the store.
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}

fn callback(name: &str) -> NewCallback {
    NewCallback {
        name: name.into(),
        contact: "01632 960999".into(),
        best_time: "morning".into(),
        question: "help with a care assessment".into(),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn conversations_are_kept_counted_and_deleted_on_schedule() {
    on_both(|backend, open| {
        let s = open("");
        s.record("c1", "web", "answer", "proceed", "q", "r")
            .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let cutoff = unix_now();
        s.record(
            "c2",
            "web",
            "decline",
            "proceed",
            "where can i buy a boat",
            "r",
        )
        .unwrap();
        s.record("c3", "voice", "escalate", "crisis", "q", "r")
            .unwrap();
        assert_eq!(s.conversation_count().unwrap(), 3, "{backend}");
        // Only unanswered questions that were not emergencies are gaps.
        let gaps = s.gaps().unwrap();
        assert_eq!(gaps.len(), 1, "{backend}");
        assert_eq!(gaps[0].question, "where can i buy a boat", "{backend}");
        assert_eq!(gaps[0].date.len(), 10, "{backend}: {}", gaps[0].date);
        // Retention deletes only what is older than the cutoff.
        assert_eq!(
            s.delete_conversations_before(cutoff).unwrap(),
            1,
            "{backend}"
        );
        assert_eq!(s.conversation_count().unwrap(), 2, "{backend}");
        assert_eq!(s.delete_older_than(30).unwrap(), 0, "{backend}");
        // Another council's rows are apart, and its retention leaves ours.
        let other = open("wrenfield");
        assert_eq!(other.conversation_count().unwrap(), 0, "{backend}");
        other
            .record("c4", "web", "decline", "proceed", "theirs", "r")
            .unwrap();
        assert_eq!(
            other.delete_conversations_before(unix_now() + 10).unwrap(),
            1
        );
        assert_eq!(s.conversation_count().unwrap(), 2, "{backend}");
        assert!(other.gaps().unwrap().is_empty(), "{backend}");
        assert!(s.ping(), "{backend}");
    });
}

#[test]
fn call_backs_are_stored_listed_and_deleted_on_schedule() {
    on_both(|backend, open| {
        let s = open("");
        let first = s.add_callback(&callback("Pat")).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let cutoff = unix_now();
        let second = s.add_callback(&callback("Sam")).unwrap();
        assert!(second > first, "{backend}: ids grow");
        // A second replica sees the requests the first accepted.
        let replica = open("");
        let all = replica.callbacks().unwrap();
        assert_eq!(all.len(), 2, "{backend}");
        assert_eq!(all[0].name, "Sam", "{backend}: newest first");
        assert_eq!(all[0].id, second, "{backend}");
        assert_eq!(all[1].contact, "01632 960999", "{backend}");
        assert!(all[0].when.ends_with("UTC"), "{backend}: {}", all[0].when);
        assert!(
            open("wrenfield").callbacks().unwrap().is_empty(),
            "{backend}"
        );
        assert_eq!(s.delete_callbacks_before(cutoff).unwrap(), 1, "{backend}");
        let left = s.callbacks().unwrap();
        assert_eq!(left.len(), 1, "{backend}");
        assert_eq!(left[0].name, "Sam", "{backend}");
        // Text is kept as given, quotes and all.
        s.add_callback(&callback("O'Brien; DROP TABLE callbacks; --"))
            .unwrap();
        assert_eq!(
            s.callbacks().unwrap()[0].name,
            "O'Brien; DROP TABLE callbacks; --"
        );
    });
}

#[test]
fn the_audit_log_and_settings_are_per_council_and_shared_by_replicas() {
    on_both(|backend, open| {
        let s = open("northbay");
        assert_eq!(s.setting("kill_switch"), None, "{backend}");
        s.set_setting("kill_switch", "on").unwrap();
        s.audit("staff", "kill-switch", "on").unwrap();
        // Another replica of the same council reads the switch at once.
        let replica = open("northbay");
        assert_eq!(
            replica.setting("kill_switch").as_deref(),
            Some("on"),
            "{backend}"
        );
        replica.set_setting("kill_switch", "off").unwrap();
        assert_eq!(
            s.setting("kill_switch").as_deref(),
            Some("off"),
            "{backend}"
        );
        replica.audit("staff", "kill-switch", "off").unwrap();
        let log = s.audit_log().unwrap();
        assert_eq!(log.len(), 2, "{backend}");
        assert_eq!(log[0].3, "off", "{backend}: newest first");
        assert_eq!(log[1].2, "kill-switch", "{backend}");
        // Another council's settings and log stay apart.
        let other = open("wrenfield");
        assert_eq!(other.setting("kill_switch"), None, "{backend}");
        assert!(other.audit_log().unwrap().is_empty(), "{backend}");
        other.set_setting("kill_switch", "on").unwrap();
        assert_eq!(
            s.setting("kill_switch").as_deref(),
            Some("off"),
            "{backend}"
        );
    });
}

#[test]
fn replicas_starting_together_migrate_postgres_once() {
    let pg = postgres::start();
    let data = tempfile::tempdir().unwrap();
    // Eight replicas start at the same moment on an empty database: the
    // schema is made once, and every one of them works.
    let stores: Vec<Store> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (url, dir) = (&pg.url, data.path());
                scope.spawn(move || {
                    let s = Store::open_configured(dir, "", url, TIMEOUT).unwrap();
                    s.audit("replica", "start", &i.to_string()).unwrap();
                    s
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(stores[0].audit_log().unwrap().len(), 8);
    // Opening again changes nothing.
    let again = Store::open_configured(data.path(), "", &pg.url, TIMEOUT).unwrap();
    assert_eq!(again.audit_log().unwrap().len(), 8);
}

#[test]
fn an_unreachable_postgres_is_a_clear_error_and_a_store_that_loses_it_says_so() {
    let data = tempfile::tempdir().unwrap();
    let e = Store::open_configured(
        data.path(),
        "",
        "postgres://signpost:hunter2@127.0.0.1:1/signpost",
        Duration::from_millis(500),
    )
    .err()
    .expect("an error");
    let msg = format!("{e:#}");
    assert!(msg.contains("cannot reach PostgreSQL"), "{msg}");
    assert!(
        !msg.contains("hunter2"),
        "the password must not be shown: {msg}"
    );

    // A store whose server goes away fails its calls (it does not hang or
    // panic), reads no setting, and reports not ready.
    let pg = postgres::start();
    let s = Store::open_configured(data.path(), "", &pg.url, Duration::from_secs(2)).unwrap();
    s.set_setting("kill_switch", "on").unwrap();
    drop(pg);
    assert!(!s.ping());
    assert_eq!(s.setting("kill_switch"), None);
    assert!(s.add_callback(&callback("Pat")).is_err());
}

/// Runs `check` on each backend with a function that gives where a
/// council's import record lives for one replica. On SQLite, replicas of a
/// council share its data folder; on PostgreSQL each has its own folder and
/// they share the database.
fn ledger_on_both(check: impl Fn(&str, &dyn Fn(&str, usize) -> Place)) {
    let dir = tempfile::tempdir().unwrap();
    check("sqlite", &|council, _replica| Place {
        data_dir: dir.path().join(council),
        council: council.into(),
        postgres_url: String::new(),
        timeout: TIMEOUT,
    });
    let pg = postgres::start();
    let data = tempfile::tempdir().unwrap();
    check("postgres", &|council, replica| Place {
        data_dir: data.path().join(format!("{council}-{replica}")),
        council: council.into(),
        postgres_url: pg.url.clone(),
        timeout: TIMEOUT,
    });
    // The record went to PostgreSQL: no import file in any data folder.
    for d in std::fs::read_dir(data.path()).unwrap() {
        let d = d.unwrap().path();
        assert!(!d.join("import.db").exists(), "{}", d.display());
    }
}

fn known(url: &str) -> Known {
    Known {
        url: url.into(),
        slug: "blue-badge".into(),
        etag: Some("\"v1\"".into()),
        last_modified: Some("Mon, 30 Nov 2026 09:00:00 GMT".into()),
        hash: "3f2a".into(),
        status: "active".into(),
        missing: 0,
        last_checked: Some("2026-11-30".into()),
        links: vec!["https://www.wrenfield.example/adult-social-care".into()],
    }
}

#[test]
fn import_runs_sources_and_change_sets_are_kept_alike_and_councils_apart() {
    ledger_on_both(|backend, place| {
        let a = ImportState::open(&place("wrenfield", 0)).unwrap();
        assert_eq!(a.backend(), backend);
        let run1 = a
            .start_run("site", "https://www.wrenfield.example/")
            .unwrap();
        assert_eq!(a.unfinished().unwrap(), 1, "{backend}");

        // What is known about a source: written, read back, updated.
        let url = "https://www.wrenfield.example/adult-social-care/blue-badge";
        let mut k = known(url);
        a.remember(&k).unwrap();
        assert_eq!(a.known(url).unwrap(), Some(k.clone()), "{backend}");
        k.missing = 1;
        k.etag = None;
        k.links.push("https://www.wrenfield.example/contact".into());
        a.remember(&k).unwrap();
        assert_eq!(a.known(url).unwrap(), Some(k.clone()), "{backend}");
        a.remember(&known("https://www.wrenfield.example/a-first"))
            .unwrap();
        let all: Vec<String> = a.all_known().unwrap().into_iter().map(|k| k.url).collect();
        assert_eq!(
            all,
            ["https://www.wrenfield.example/a-first", url],
            "{backend}"
        );

        // A change set: staged, superseded by a newer run, then decided.
        let change = Change {
            id: 0,
            run: run1,
            kind: "changed".into(),
            target: "blue-badge".into(),
            path: "pages/blue-badge.md".into(),
            url: url.into(),
            content: Some("---\ntitle: Blue Badge\n---\nIt costs £10.\n".into()),
            diff: "-It costs £5.\n+It costs £10.".into(),
            note: String::new(),
            status: "staged".into(),
        };
        let first = a.stage(&change).unwrap();
        let scan = a
            .stage(&Change {
                kind: "flagged".into(),
                target: "easy-read".into(),
                content: None,
                note: "a scanned document with no text (needs OCR)".into(),
                ..change.clone()
            })
            .unwrap();
        a.finish_run(run1, "finished", "1 changed, 1 flagged")
            .unwrap();
        let run2 = a
            .start_run("site", "https://www.wrenfield.example/")
            .unwrap();
        assert!(run2 > run1);
        let second = a
            .stage(&Change {
                run: run2,
                ..change.clone()
            })
            .unwrap();
        a.supersede("blue-badge", run2).unwrap();
        let staged: Vec<i64> = a
            .changes(None, true)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(staged, [second, scan], "{backend}: newest run first");
        let of_run1 = a.changes(Some(run1), false).unwrap();
        assert_eq!(of_run1.len(), 2, "{backend}");
        assert_eq!(of_run1[0].id, first);
        assert_eq!(of_run1[0].status, "rejected", "{backend}: superseded");
        assert_eq!(of_run1[1].content, None);
        assert_eq!(
            of_run1[1].note,
            "a scanned document with no text (needs OCR)"
        );
        a.decide(second, "applied", "staff (web)").unwrap();
        let staged: Vec<i64> = a
            .changes(None, true)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(staged, [scan], "{backend}");
        let got = &a.changes(Some(run2), false).unwrap()[0];
        assert_eq!(
            (
                got.status.as_str(),
                got.content.as_deref(),
                got.diff.as_str()
            ),
            ("applied", change.content.as_deref(), change.diff.as_str())
        );

        // Another replica sees the same record; a run it finds still
        // running (its process stopped) is marked interrupted.
        let b = ImportState::open(&place("wrenfield", 1)).unwrap();
        assert_eq!(b.runs(5).unwrap(), a.runs(5).unwrap(), "{backend}");
        assert_eq!(b.runs(1).unwrap()[0].id, run2);
        assert_eq!(b.interrupted().unwrap(), 1, "{backend}");
        assert_eq!(a.unfinished().unwrap(), 0, "{backend}");
        let runs = a.runs(5).unwrap();
        assert_eq!(
            runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
            ["interrupted", "finished"],
            "{backend}"
        );
        assert_eq!(runs[1].summary, "1 changed, 1 flagged");
        assert!(runs.iter().all(|r| r.finished.is_some()));

        // Another council's record is its own.
        let other = ImportState::open(&place("oakhollow", 0)).unwrap();
        assert!(other.runs(5).unwrap().is_empty(), "{backend}");
        assert!(other.all_known().unwrap().is_empty(), "{backend}");
        assert!(other.changes(None, false).unwrap().is_empty(), "{backend}");
        assert_eq!(other.known(url).unwrap(), None);
        other.remember(&known(url)).unwrap();
        assert_eq!(a.known(url).unwrap(), Some(k.clone()), "{backend}");

        // One import at a time for a council, across replicas; another
        // council's import is not held up.
        let lock = a.lock_runs().unwrap();
        let e = b.lock_runs().err().expect("a second import refused");
        assert!(
            format!("{e:#}").contains("another import is running"),
            "{e:#}"
        );
        let other_lock = other.lock_runs().unwrap();
        drop(lock);
        let again = b.lock_runs().unwrap();
        drop((again, other_lock));
        // Letting go is done when the guard is dropped: the other replica
        // is never refused by a lock the server has not yet released.
        for _ in 0..50 {
            drop(a.lock_runs().unwrap());
            drop(b.lock_runs().unwrap());
        }

        a.forget(url).unwrap();
        assert_eq!(b.known(url).unwrap(), None, "{backend}");
        assert!(other.known(url).unwrap().is_some(), "{backend}");
    });
}
