//! Faults, each on the real binary: `kill -9` while writing call-backs and
//! conversations and while building the index, a full disk, and a database
//! another process holds locked. After each: restart, nothing accepted is
//! lost, nothing half-written is served, and the reply says what to do.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::{bin, csrf, post_form, Server};

const TOKEN: &str = "staff-token-for-fault-tests";

fn kill_9(server: &mut Server) {
    // Child::kill sends SIGKILL: no clean-up runs.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

fn callback(server: &Server, name: &str) -> (u16, String) {
    let (cookie, token) = csrf(server);
    let (status, _, html) = post_form(
        server,
        "/talk-to-a-person",
        &[
            ("csrf", &token),
            ("name", name),
            ("contact", "01632 960999"),
            ("best_time", "morning"),
            ("question", "I would like to talk about help at home."),
        ],
        Some(&cookie),
    );
    (status, html)
}

fn staff_callbacks(server: &Server) -> String {
    ureq::get(&server.url("/staff/callbacks"))
        .header("authorization", &format!("Bearer {TOKEN}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

fn integrity_ok(data: &Path) {
    let db = rusqlite::Connection::open(data.join("signpost.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn kill_9_loses_no_accepted_call_back_or_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let envs = [
        ("SIGNPOST_ADMIN_TOKEN", TOKEN),
        ("SIGNPOST_STORE_CONVERSATIONS", "true"),
    ];
    let mut server = Server::start(&data, &envs);

    // Call-backs: each accepted one, then the process killed at once.
    for i in 0..3 {
        let (status, html) = callback(&server, &format!("Resident Number{i}"));
        assert_eq!(status, 200, "{html}");
    }
    // Conversations: four clients asking without pause, killed mid-flight.
    let answered = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    let chat_url = server.url("/api/chat");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .new_agent();
                while !stop.load(Ordering::Relaxed) {
                    let r = agent
                        .post(&chat_url)
                        .header("content-type", "application/json")
                        .send("{\"message\": \"what is a carers assessment\"}");
                    // A request cut off by the kill is not accepted.
                    let Ok(mut r) = r else { break };
                    if r.status().as_u16() != 200 {
                        continue;
                    }
                    let Ok(v) = r.body_mut().read_json::<serde_json::Value>() else {
                        break;
                    };
                    answered
                        .lock()
                        .unwrap()
                        .push(v["conversation_id"].as_str().unwrap().to_string());
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        kill_9(&mut server);
        stop.store(true, Ordering::Relaxed);
    });
    let answered = answered.into_inner().unwrap();
    assert!(
        answered.len() >= 4,
        "answers before the kill: {}",
        answered.len()
    );

    // The database is whole, and holds every answered conversation.
    integrity_ok(&data);
    let db = rusqlite::Connection::open(data.join("signpost.db")).unwrap();
    for id in &answered {
        let n: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM conversations WHERE conversation = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "answered conversation {id} was stored");
    }
    drop(db);

    // Restarted: every accepted call-back is there for staff.
    let server = Server::start(&data, &envs);
    let list = staff_callbacks(&server);
    for i in 0..3 {
        assert!(list.contains(&format!("Resident Number{i}")), "{list}");
    }
}

#[test]
fn kill_9_while_building_the_index_never_serves_a_half_built_one() {
    let data = tempfile::tempdir().unwrap();
    // Kill the build at several points, each on the folder the last left.
    for wait_ms in [50u64, 200, 500, 900] {
        let mut child = bin()
            .env("SIGNPOST_DATA_DIR", data.path())
            .args(["kb", "index"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Whatever was left, the next start answers from a whole index.
    let v = crate::common::ask_json(data.path(), "how much does a blue badge cost", &[]);
    assert_eq!(v["route"], "answer", "{v}");
    assert!(
        crate::common::slugs(&v).iter().any(|s| s == "blue-badge"),
        "{v}"
    );
}

/// A size-limited folder (tmpfs), unmounted on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mounting a size-limited folder needs root (as setup.sh and CI run): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the folder's disk to the last byte.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_gets_a_clear_reply_and_loses_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _disk = SmallDisk::mount(&data, "8m");
    let envs = [
        ("SIGNPOST_ADMIN_TOKEN", TOKEN),
        ("SIGNPOST_STORE_CONVERSATIONS", "true"),
    ];
    let server = Server::start(&data, &envs);
    let (status, _) = callback(&server, "Before Full");
    assert_eq!(status, 200);

    fill(&data.join("filler"));
    // A call-back that cannot be saved says so, and who to call instead.
    let (status, html) = callback(&server, "During Full");
    assert_eq!(status, 500, "{html}");
    assert!(
        html.contains("could not save") && html.contains("01632 960100"),
        "{html}"
    );
    // Questions are still answered (only the record of them fails).
    let mut r = ureq::post(&server.url("/api/chat"))
        .header("content-type", "application/json")
        .send("{\"message\": \"how much does a blue badge cost\"}")
        .unwrap();
    let v: serde_json::Value = r.body_mut().read_json().unwrap();
    assert_eq!(v["route"], "answer", "{v}");

    // Space again: saving works, and nothing accepted before was lost.
    std::fs::remove_file(data.join("filler")).unwrap();
    let (status, _) = callback(&server, "After Full");
    assert_eq!(status, 200);
    let list = staff_callbacks(&server);
    assert!(
        list.contains("Before Full") && list.contains("After Full"),
        "{list}"
    );
    assert!(!list.contains("During Full"));
    drop(server);
    integrity_ok(&data);
    let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_database_locked_by_another_process_gets_a_clear_reply() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[("SIGNPOST_ADMIN_TOKEN", TOKEN)]);
    // Another program holds the database for longer than Signpost waits.
    let held = rusqlite::Connection::open(data.join("signpost.db")).unwrap();
    held.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let (status, html) = callback(&server, "While Locked");
    let waited = started.elapsed();
    assert_eq!(status, 500, "{html}");
    assert!(
        html.contains("could not save") && html.contains("01632 960100"),
        "{html}"
    );
    // Signpost waits up to 5 s for the database, then gives up; the bound
    // here only tells that wait from a hang, on however slow a machine.
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    // Meanwhile the assistant answered others as usual.
    let health = ureq::get(&server.url("/healthz")).call().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    held.execute_batch("ROLLBACK").unwrap();
    drop(held);
    let (status, _) = callback(&server, "After Unlock");
    assert_eq!(status, 200);
    let list = staff_callbacks(&server);
    assert!(list.contains("After Unlock") && !list.contains("While Locked"));
}
