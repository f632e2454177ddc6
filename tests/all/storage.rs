//! One storage interface, two backends: the same checks run on the embedded
//! SQLite store and on a real PostgreSQL server (Debian's, started here).
//! Conversations, call-backs, the audit log and settings (the kill switch)
//! behave the same on both, and councils' rows stay apart.

use std::time::Duration;

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
