//! Two replicas of one install on loopback sharing a real Redis (Debian's
//! redis-server, started here): a follow-up asked of the other replica
//! continues the conversation, the per-client limit holds across both, the
//! kill switch set on one reaches the other at once, and when Redis goes
//! away both keep answering from their own state. A wrong address is a
//! clear error when Signpost starts.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const TOKEN: &str = "replica-staff-token-0123456789abcdef";

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real redis-server on a free loopback port, with nothing saved to disk.
fn redis(dir: &Path) -> (Redis, u16) {
    let bin = Path::new("/usr/bin/redis-server");
    assert!(bin.exists(), "redis-server is missing: run ./setup.sh");
    let port = free_port();
    let child = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let redis = Redis(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"PING\r\n");
            let mut buf = [0u8; 16];
            if s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
            {
                return (redis, port);
            }
        }
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// POST /api/chat from a given client address (the replicas trust
/// X-Forwarded-For, as behind the council's load balancer).
fn chat(server: &Server, client: &str, message: &str, conversation: Option<&str>) -> (u16, Value) {
    let mut r = lenient()
        .post(&server.url("/api/chat"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", client)
        .send(
            json!({"message": message, "conversation_id": conversation})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn kill_switch(server: &Server, on: bool) {
    let mut r = lenient()
        .post(&server.url("/staff/kill-switch"))
        .header("content-type", "application/json")
        .header("authorization", &format!("Bearer {TOKEN}"))
        .header("x-forwarded-for", "198.51.100.250")
        .send(json!({ "on": on }).to_string().as_bytes())
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
}

#[test]
fn two_replicas_share_conversations_limits_and_the_kill_switch_through_redis() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (redis, port) = redis(d);
    let config = d.join("signpost.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nrate_limit_per_minute = 4\ntrust_forwarded_for = true\n\n[shared]\nredis_url = \"redis://127.0.0.1:{port}/0\"\n"
        ),
    )
    .unwrap();
    let envs = [
        ("SIGNPOST_CONFIG", config.to_str().unwrap()),
        ("SIGNPOST_ADMIN_TOKEN", TOKEN),
    ];
    let a = Server::start(&d.join("a"), &envs);
    let b = Server::start(&d.join("b"), &envs);

    // A follow-up asked of the other replica continues the conversation.
    let (status, first) = chat(&a, "198.51.100.1", "how much does a blue badge cost", None);
    assert_eq!(status, 200, "{first}");
    assert!(first["reply"].as_str().unwrap().contains("£10"), "{first}");
    let conversation = first["conversation_id"].as_str().unwrap().to_string();
    let (status, follow) = chat(
        &b,
        "198.51.100.1",
        "how long does it last",
        Some(&conversation),
    );
    assert_eq!(status, 200, "{follow}");
    assert!(
        follow["reply"].as_str().unwrap().contains("3 years"),
        "{follow}"
    );

    // The limit (4 a minute) holds across both replicas. The window is the
    // clock's minute: start it with time to spare.
    let second = time::OffsetDateTime::now_utc().second();
    if second > 45 {
        std::thread::sleep(Duration::from_secs(u64::from(61 - second)));
    }
    let client = "198.51.100.2";
    let mut statuses = Vec::new();
    for (i, server) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let (status, _) = chat(server, client, &format!("what is reablement {i}"), None);
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429],
        "the fifth message in a minute is refused"
    );
    // Another client is unaffected.
    let (status, _) = chat(&b, "198.51.100.3", "what is reablement", None);
    assert_eq!(status, 200);

    // The kill switch set on one replica reaches the other at once.
    kill_switch(&a, true);
    let (_, off) = chat(&b, "198.51.100.4", "how much does a blue badge cost", None);
    assert_eq!(off["route"], "decline", "{off}");
    assert!(
        off["reply"].as_str().unwrap().contains("not available"),
        "{off}"
    );
    kill_switch(&b, false);
    let (_, on) = chat(&a, "198.51.100.4", "how much does a blue badge cost", None);
    assert_eq!(on["route"], "answer", "{on}");

    // Redis goes away: both replicas go on answering from their own state.
    drop(redis);
    for server in [&a, &b] {
        let (status, v) = chat(
            server,
            "198.51.100.5",
            "how much does a blue badge cost",
            None,
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["route"], "answer", "{v}");
    }
    let (status, _) = lenient()
        .get(&a.url("/readyz"))
        .call()
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(
        status, 200,
        "a replica without Redis is still ready to answer"
    );
}

#[test]
fn a_wrong_redis_address_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = bin()
        .env("SIGNPOST_DATA_DIR", dir.path())
        .env("SIGNPOST_REDIS_URL", format!("redis://127.0.0.1:{port}/0"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot reach Redis") && err.contains("shared.redis_url"),
        "{err}"
    );
}

/// Asks for a call back through the web form, as a resident would. None:
/// the replica did not answer (it was killed).
fn callback(server: &Server, name: &str) -> Option<u16> {
    let mut page = lenient().get(&server.url("/")).call().ok()?;
    let cookie = csrf_cookie(page.headers());
    let token = form_token(&page.body_mut().read_to_string().ok()?);
    let body = form_body(&[
        ("csrf", &token),
        ("name", name),
        ("contact", "01632 960999"),
        ("best_time", "morning"),
        ("question", "I would like to talk about help at home."),
    ]);
    let r = lenient()
        .post(&server.url("/talk-to-a-person"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .send(body.as_bytes());
    r.ok().map(|r| r.status().as_u16())
}

#[test]
fn replicas_on_postgres_and_redis_lose_no_accepted_call_back_when_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_redis, port) = redis(d);
    let pg = postgres::start();
    let config = d.join("signpost.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nrate_limit_per_minute = 100000\n\n[shared]\nredis_url = \"redis://127.0.0.1:{port}/0\"\npostgres_url = \"{}\"\n",
            pg.url
        ),
    )
    .unwrap();
    let envs = [
        ("SIGNPOST_CONFIG", config.to_str().unwrap()),
        ("SIGNPOST_ADMIN_TOKEN", TOKEN),
    ];
    let mut a = Server::start(&d.join("a"), &envs);
    let b = Server::start(&d.join("b"), &envs);

    // Under load, residents ask both replicas for call backs; replica A is
    // killed (SIGKILL, no clean-up) part-way through.
    let accepted = std::sync::Mutex::new(Vec::<String>::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let answered_after = std::sync::atomic::AtomicUsize::new(0);
    let killed = std::sync::atomic::AtomicBool::new(false);
    let a_pid = a.child.id().to_string();
    let stop = &stop;
    std::thread::scope(|s| {
        for (t, server) in [&a, &a, &b, &b].into_iter().enumerate() {
            let accepted = &accepted;
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let name = format!("Resident T{t}N{i}");
                    i += 1;
                    match callback(server, &name) {
                        Some(200) => accepted.lock().unwrap().push(name),
                        Some(_) => {}
                        // A request cut off by the kill was not accepted.
                        None => {}
                    }
                }
            });
        }
        let (b, killed, answered_after) = (&b, &killed, &answered_after);
        s.spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, v) = chat(b, "198.51.100.9", "how much does a blue badge cost", None);
                assert_eq!(status, 200, "replica B stopped answering: {v}");
                if killed.load(std::sync::atomic::Ordering::Relaxed) {
                    answered_after.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        std::thread::sleep(Duration::from_millis(2000));
        // SIGKILL: no clean-up runs.
        let ok = Command::new("kill").args(["-9", &a_pid]).status().unwrap();
        assert!(ok.success());
        killed.store(true, std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(2000));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    a.child.wait().unwrap();
    let accepted = accepted.into_inner().unwrap();
    assert!(
        accepted
            .iter()
            .filter(|n| n.starts_with("Resident T0") || n.starts_with("Resident T1"))
            .count()
            >= 2,
        "replica A accepted too few call-backs before the kill: {accepted:?}"
    );
    eprintln!("call-backs accepted by both replicas: {}", accepted.len());
    assert!(
        answered_after.into_inner() >= 1,
        "replica B answered nothing after A was killed"
    );
    // Every call-back either replica accepted is in the shared store, and
    // staff see them all from the replica that is left.
    let list = lenient()
        .get(&b.url("/staff/callbacks"))
        .header("authorization", &format!("Bearer {TOKEN}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    for name in &accepted {
        assert!(
            list.contains(name.as_str()),
            "{name} was accepted but is not listed"
        );
    }
    // Nothing was written to the replicas' own data folders' databases.
    assert!(!d.join("b").join("signpost.db").exists());
}

#[test]
fn a_default_install_contacts_no_postgres_redis_or_model_server() {
    // With nothing configured, Signpost serves from its own files: the
    // SQLite store in its data folder, state in the process, the model in
    // the process. strace records every connection the server opens while
    // it starts, answers, stores a call-back and serves staff: none may go
    // to any network address.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("connect.trace");
    let data = dir.path().join("data");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=connect,bind", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_signpost"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SIGNPOST_KB_DIR", kb_dir())
        .env("SIGNPOST_DATA_DIR", &data)
        .env("SIGNPOST_ADMIN_TOKEN", TOKEN)
        .env("SIGNPOST_QUIET", "1");
    for k in [
        "SIGNPOST_CONFIG",
        "SIGNPOST_REDIS_URL",
        "SIGNPOST_POSTGRES_URL",
        "SIGNPOST_LLM_MODEL",
        "SIGNPOST_LLM_ROLES",
    ] {
        cmd.env_remove(k);
    }
    let server = Server::spawn(cmd, &data);
    let (status, v) = chat(
        &server,
        "198.51.100.20",
        "how much does a blue badge cost",
        None,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["route"], "answer", "{v}");
    assert_eq!(callback(&server, "Resident Default"), Some(200));
    let staff = lenient()
        .get(&server.url("/staff/callbacks"))
        .header("authorization", &format!("Bearer {TOKEN}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(staff.contains("Resident Default"), "{staff}");
    assert!(
        data.join("signpost.db").exists(),
        "the SQLite store is used"
    );
    drop(server);
    let connects = std::fs::read_to_string(&trace).unwrap();
    // The trace saw the server's own sockets: it bound its listening port.
    assert!(
        connects
            .lines()
            .any(|l| l.contains("bind(") && l.contains("AF_INET")),
        "strace recorded nothing of the server: {connects}"
    );
    for line in connects.lines().filter(|l| l.contains("connect(")) {
        assert!(
            !line.contains("AF_INET"),
            "a default install opened a network connection: {line}"
        );
    }
}
