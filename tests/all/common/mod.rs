//! Helpers shared by the integration tests: the real binary, the real
//! knowledge base, and a fresh data directory per test.
#![allow(dead_code)]

pub mod postgres;
pub mod site_server;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_signpost"));
    c.env_remove("SIGNPOST_CONFIG")
        .env("SIGNPOST_QUIET", "1")
        .env("SIGNPOST_KB_DIR", kb_dir())
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// A loopback port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn kb_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge-base")
}

/// Runs `signpost` with the given data directory and arguments.
pub fn run(data: &Path, args: &[&str]) -> Output {
    bin()
        .env("SIGNPOST_DATA_DIR", data)
        .args(args)
        .output()
        .expect("run signpost")
}

pub fn ask_json(data: &Path, question: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["ask", question, "--json"];
    args.extend_from_slice(extra);
    let out = run(data, &args);
    assert!(
        out.status.success(),
        "ask failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ask --json prints JSON")
}

/// A running `signpost serve` on a free port, stopped on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// What the server printed before it was ready.
    pub early: Vec<String>,
}

impl Server {
    pub fn start(data: &Path, envs: &[(&str, &str)]) -> Server {
        Self::start_with(data, envs, &[])
    }

    pub fn start_with(data: &Path, envs: &[(&str, &str)], args: &[&str]) -> Server {
        let mut cmd = bin();
        cmd.env("SIGNPOST_DATA_DIR", data)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Server::spawn(cmd, data)
    }

    /// Starts a server from a prepared command (`serve` with its
    /// arguments), waiting until it listens; its log goes to
    /// `data/server.log`.
    pub fn spawn(mut cmd: Command, data: &Path) -> Server {
        cmd.env("SIGNPOST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        std::fs::create_dir_all(data).unwrap();
        let mut child = cmd.spawn().expect("start server");
        let stderr = child.stderr.take().unwrap();
        let mut reader = BufReader::new(stderr);
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut line = String::new();
        let mut early = Vec::new();
        let base = loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || Instant::now() > deadline {
                let _ = child.kill();
                panic!("server did not start; last line: {line}");
            }
            if let Some(rest) = line.trim().strip_prefix("Signpost is listening on ") {
                break rest.to_string();
            }
            early.push(line.trim().to_string());
        };
        // Keep draining the server's log so it never blocks on a full pipe.
        let log_path = data.join("server.log");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::File::create(log_path).ok();
            for l in reader.lines().map_while(Result::ok) {
                if let Some(f) = f.as_mut() {
                    let _ = writeln!(f, "{l}");
                }
            }
        });
        Server { child, base, early }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies the real knowledge base into `dest` (to edit it in a test).
pub fn copy_kb(dest: &Path) {
    copy_dir(&kb_dir(), dest);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

pub fn slugs(v: &serde_json::Value) -> Vec<String> {
    v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_string())
        .collect()
}

/// Percent-encodes form fields as a browser does.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        let mut o = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    o.push(b as char)
                }
                b' ' => o.push('+'),
                _ => o.push_str(&format!("%{b:02X}")),
            }
        }
        o
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An HTTP client that returns error statuses instead of failing, and
/// does not follow redirects.
pub fn lenient() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

/// Visits the page as a browser would and returns (cookie header, form token).
pub fn csrf(server: &Server) -> (String, String) {
    let mut r = lenient().get(&server.url("/")).call().expect("GET /");
    let cookie = csrf_cookie(r.headers());
    let html = r.body_mut().read_to_string().unwrap();
    (cookie, form_token(&html))
}

/// The form-token cookie a response sets, as a Cookie header sends it.
pub fn csrf_cookie(headers: &ureq::http::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sp_csrf="))
        .expect("a form token cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The first form token in a page.
pub fn form_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form token in the page")
        .to_string()
}

/// Posts a form (with an optional Cookie header); returns status, headers and body.
pub fn post_form(
    server: &Server,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> (u16, ureq::http::HeaderMap, String) {
    let mut req = lenient()
        .post(&server.url(path))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let mut r = req.send(form_body(fields)).expect("form post");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, headers, body)
}

/// Posts raw bytes with a content type; returns status, headers and body.
pub fn post_raw(
    server: &Server,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, ureq::http::HeaderMap, String) {
    let mut req = lenient().post(&server.url(path));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let mut r = req.send(body).expect("post");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, headers, text)
}

// ---- Alexa test certificates (made with the openssl command) ----

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (installed by ./setup.sh)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a leaf certificate signed by it for `name`; returns the paths
/// of the CA certificate, the leaf certificate and the leaf key.
pub fn make_certs(dir: &Path, tag: &str, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = format!("{tag}-ca.key");
    let ca = format!("{tag}-ca.pem");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &ca_key,
            "-out",
            &ca,
            "-days",
            "30",
            "-subj",
            &format!("/CN=Signpost test root {tag}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let key = format!("{tag}-leaf.key");
    let csr = format!("{tag}-leaf.csr");
    let leaf = format!("{tag}-leaf.pem");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    let ext = format!("{tag}-ext.cnf");
    std::fs::write(
        dir.join(&ext),
        format!("subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n"),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &leaf,
            "-days",
            "30",
            "-extfile",
            &ext,
        ],
    );
    (dir.join(ca), dir.join(leaf), dir.join(key))
}

/// Signs a body the way Alexa does: RSA PKCS#1 v1.5 with SHA-256, base64.
pub fn sign(dir: &Path, key: &Path, body: &[u8]) -> String {
    use base64::Engine as _;
    let input = dir.join("body.json");
    let sig = dir.join("body.sig");
    std::fs::write(&input, body).unwrap();
    openssl(
        dir,
        &[
            "dgst",
            "-sha256",
            "-sign",
            key.to_str().unwrap(),
            "-out",
            sig.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
    );
    base64::engine::general_purpose::STANDARD.encode(std::fs::read(sig).unwrap())
}
