//! Speech input over HTTP with real audio: questions spoken by espeak-ng,
//! turned into FLAC, MP3, Ogg Vorbis and 44.1 kHz stereo float WAV by the
//! usual command-line encoders, transcribed by the real Whisper model, and
//! every kind of bad upload. `./setup.sh` installs the tools and the model.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn tool(name: &str, args: &[&str]) {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {name} (installed by ./setup.sh): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn speak(dir: &Path, voice: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{voice}.wav"));
    tool(
        "espeak-ng",
        &["-v", voice, "-s", "150", "-w", p.to_str().unwrap(), text],
    );
    p
}

fn post_audio(
    server: &Server,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.post(&server.url(path));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let mut r = req.send(body).expect("post audio");
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A mono 16-bit WAV of `seconds` of silence at `rate`.
fn silence(rate: u32, seconds: u32) -> Vec<u8> {
    let n = rate * seconds;
    let data_len = n * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.resize(b.len() + data_len as usize, 0);
    b
}

fn speech_server(data: &Path) -> Server {
    std::fs::create_dir_all(data).unwrap();
    let config = data.join("signpost.toml");
    std::fs::write(
        &config,
        "[speech]\nmodel = \"whisper-tiny-en\"\nmax_upload_bytes = 1000000\nmax_seconds = 8\n",
    )
    .unwrap();
    let server = Server::start(data, &[("SIGNPOST_CONFIG", config.to_str().unwrap())]);
    let (status, v) = post_audio(
        &server,
        "/api/transcribe",
        Some("audio/wav"),
        &silence(16_000, 1),
    );
    assert_eq!(
        status, 200,
        "speech input is not ready (run ./setup.sh): {v}"
    );
    server
}

#[test]
fn a_spoken_question_is_answered_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let server = speech_server(&dir.path().join("data"));
    let wav = speak(dir.path(), "en-gb-x-rp", "how much does a blue badge cost");
    let (status, v) = post_audio(
        &server,
        "/api/voice",
        Some("audio/wav"),
        &std::fs::read(wav).unwrap(),
    );
    assert_eq!(status, 200, "{v}");
    let heard = v["transcript"]["text"].as_str().unwrap().to_lowercase();
    assert!(heard.contains("blue badge"), "{v}");
    assert_eq!(v["route"], "answer", "{v}");
    assert_eq!(slugs(&v)[0], "blue-badge", "{v}");
    let reply = v["reply"].as_str().unwrap();
    assert!(
        reply.contains("£10") && !reply.contains("http"),
        "speakable: {reply}"
    );
    assert!(v["transcript"]["duration_ms"].as_u64().unwrap() > 500);
}

#[test]
fn every_audio_format_and_every_bad_upload() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = speech_server(&d.join("data"));
    let wav = speak(d, "en-gb-x-rp", "how much does a blue badge cost");
    let w = wav.to_str().unwrap();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    tool(
        "sox",
        &[
            w,
            "-r",
            "44100",
            "-c",
            "2",
            "-e",
            "floating-point",
            "-b",
            "32",
            &p("stereo-float.wav"),
        ],
    );
    tool("flac", &["--silent", "-f", "-o", &p("q.flac"), w]);
    tool("lame", &["--quiet", w, &p("q.mp3")]);
    tool("oggenc", &["--quiet", "-o", &p("q.ogg"), w]);
    for (file, ct) in [
        ("stereo-float.wav", "audio/wav"),
        ("q.flac", "audio/flac"),
        ("q.mp3", "audio/mpeg"),
        ("q.ogg", "audio/ogg"),
    ] {
        let (status, v) = post_audio(
            &server,
            "/api/transcribe",
            Some(ct),
            &std::fs::read(d.join(file)).unwrap(),
        );
        assert_eq!(status, 200, "{file}: {v}");
        let text = v["text"].as_str().unwrap().to_lowercase();
        assert!(text.contains("blue badge"), "{file}: {v}");
        assert_eq!(v["language"], "en");
    }

    // Silence: an empty transcript, not an invented one; and no answer.
    let (status, v) = post_audio(
        &server,
        "/api/transcribe",
        Some("audio/wav"),
        &silence(16_000, 3),
    );
    assert_eq!(status, 200);
    assert_eq!(v["text"], "", "{v}");
    assert_eq!(v["duration_ms"], 3000);
    let (_, v) = post_audio(
        &server,
        "/api/voice",
        Some("audio/wav"),
        &silence(16_000, 3),
    );
    assert_eq!(v["route"], "clarify", "{v}");
    assert!(v["reply"].as_str().unwrap().contains("didn't hear"));

    // Bad uploads: each a clear error in the API's error shape.
    let mut corrupt = std::fs::read(&wav).unwrap();
    corrupt.truncate(40);
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("empty", Some("audio/wav"), Vec::new(), 400, "empty_audio"),
        (
            "corrupt",
            Some("audio/wav"),
            b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk".to_vec(),
            400,
            "unreadable_audio",
        ),
        (
            "cut short",
            Some("audio/wav"),
            corrupt,
            400,
            "unreadable_audio",
        ),
        (
            "not audio",
            Some("text/plain"),
            b"how much does a blue badge cost".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "an image",
            Some("image/png"),
            vec![0x89, b'P', b'N', b'G'],
            415,
            "unsupported_media_type",
        ),
        (
            "random bytes",
            Some("application/octet-stream"),
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            400,
            "unreadable_audio",
        ),
        (
            "too long",
            Some("audio/wav"),
            silence(8_000, 12),
            413,
            "too_long",
        ),
    ];
    for (what, ct, body, status, code) in cases {
        let (s, v) = post_audio(&server, "/api/transcribe", ct, &body);
        assert_eq!(s, status, "{what}: {v}");
        assert_eq!(v["error"], code, "{what}: {v}");
        assert!(v["message"].as_str().unwrap().len() > 20, "{what}: {v}");
    }
    // Too large: the server stops reading at the limit and answers (an HTTP
    // client still sending then gets a broken pipe, so this one is sent by hand).
    {
        use std::io::{Read, Write};
        let addr = server.base.trim_start_matches("http://").to_string();
        let mut sock = std::net::TcpStream::connect(&addr).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let body = silence(48_000, 12);
        write!(
            sock,
            "POST /api/transcribe HTTP/1.1\r\nHost: {addr}\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        let _ = sock.write_all(&body);
        // Read what comes back (the server may keep the socket open).
        let mut buf = vec![0u8; 4096];
        let n = sock.read(&mut buf).unwrap_or(0);
        let reply = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
        assert!(
            reply.contains("\"too_large\"") && reply.contains("shorter"),
            "{reply}"
        );
    }
    // The server is still there.
    let (status, _) = post_audio(
        &server,
        "/api/transcribe",
        Some("audio/wav"),
        &silence(16_000, 1),
    );
    assert_eq!(status, 200);
}

#[test]
fn without_a_speech_model_the_api_says_so() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("signpost.toml");
    std::fs::write(&config, "[speech]\nmodel = \"\"\n").unwrap();
    let server = Server::start(
        data.path(),
        &[("SIGNPOST_CONFIG", config.to_str().unwrap())],
    );
    let (status, v) = post_audio(
        &server,
        "/api/transcribe",
        Some("audio/wav"),
        &silence(16_000, 1),
    );
    assert_eq!(status, 503);
    assert_eq!(v["error"], "speech_off");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("Type your question"));
}

#[test]
fn a_transcription_that_runs_too_long_is_stopped_with_a_clear_reply() {
    // A deadline far shorter than any real transcription: the recogniser is
    // asked to stop mid-way, as it would be if it hung.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let config = data.join("signpost.toml");
    std::fs::write(
        &config,
        "[speech]\nmodel = \"whisper-tiny-en\"\ndeadline_ms = 1\n[limits]\nbusy_retry_after_seconds = 3\n",
    )
    .unwrap();
    let server = Server::start(&data, &[("SIGNPOST_CONFIG", config.to_str().unwrap())]);
    let wav = std::fs::read(speak(
        dir.path(),
        "en-gb-x-rp",
        "how much does a blue badge cost",
    ))
    .unwrap();
    for path in ["/api/transcribe", "/api/voice"] {
        let (status, v) = post_audio(&server, path, Some("audio/wav"), &wav);
        assert_eq!(status, 503, "{path}: {v}");
        assert_eq!(v["error"], "busy", "{v}");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("took too long")
                && message.contains("type your question")
                && message.contains("01632 960100"),
            "{message}"
        );
    }
    // The recogniser is free again: silence (which never reaches it) and the
    // typed API are answered as usual.
    let (status, _) = post_audio(
        &server,
        "/api/transcribe",
        Some("audio/wav"),
        &silence(16_000, 1),
    );
    assert_eq!(status, 200);
}
