//! Entry points for the coverage-guided fuzzers in `fuzz/` (cargo fuzz):
//! each takes arbitrary bytes and runs one parser of outside input the way
//! Signpost runs it. A panic, a hang or a crash in any of them is a bug;
//! each one found is kept as a test in `tests/fuzz_regressions`.
#![doc(hidden)]

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Page files (front matter and Markdown) and services files.
pub fn kb_files(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // The same bytes as a page and as a services file.
    let _ = crate::kb::parse_files_for_fuzzing(&text, &text);
}

/// A services directory feed, Open Referral UK version 1 or 3, item by item.
pub fn services_feed(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // Items as a feed's pages and files hold them, and the value itself as
    // one record.
    let mut items = crate::import::oruk::items(&v);
    items.push(v);
    for (i, item) in items.iter().enumerate() {
        if let Ok(s) = crate::import::oruk::normalise(item, i) {
            let _ = crate::import::oruk::record(&s, &[]);
        }
    }
}

/// A council's rules file over the national figures.
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut problems = Vec::new();
    let today = time::macros::date!(2026 - 11 - 30);
    let _ = crate::rules::Rules::parse(Path::new("rules.toml"), &text, today, &mut problems);
}

/// An evaluation case file.
pub fn eval_cases(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::eval::parse_cases(Path::new("cases.jsonl"), &text);
}

/// A resident's question through the amount and situation parser and the
/// calculators (national figures, the test council).
pub fn question(data: &[u8]) {
    use std::sync::LazyLock;
    static RULES: LazyLock<crate::rules::Rules> = LazyLock::new(|| {
        let mut problems = Vec::new();
        let today = time::macros::date!(2026 - 11 - 30);
        crate::rules::Rules::parse(Path::new("rules.toml"), "", today, &mut problems)
    });
    let text = String::from_utf8_lossy(data);
    let _ = crate::rules::parse::words_to_digits(&text);
    let _ = crate::rules::parse::facts(&text);
    let council = crate::config::Council::default();
    let _ = crate::rules::calc::calculate(&text, &RULES, &council);
}

/// A recording, as `/api/transcribe` decodes it (limits as the defaults).
pub fn audio(data: &[u8]) {
    let _ = crate::speech::decode(data, None, 10 * 1024 * 1024, 30.0);
}

/// An Alexa request: the certificate URL header, and a body whose
/// signature has passed (JSON, timestamp, skill id).
pub fn alexa(data: &[u8]) {
    use std::sync::LazyLock;
    static VERIFIER: LazyLock<crate::speakers::alexa::Verifier> = LazyLock::new(|| {
        let settings = crate::config::AlexaSettings {
            skill_id: "amzn1.ask.skill.fuzz".into(),
            ..Default::default()
        };
        crate::speakers::alexa::Verifier::new(&settings).expect("a verifier")
    });
    let text = String::from_utf8_lossy(data);
    let _ = crate::speakers::alexa::check_cert_url(&text);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    let _ = VERIFIER.check_body(data, now);
}

/// A stream of Wyoming events, read as the handle server reads them.
pub fn wyoming(data: &[u8]) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(async {
        let mut r = tokio::io::BufReader::new(data);
        while let Ok(Some(_)) = crate::speakers::wyoming::read_event(&mut r).await {}
    });
}

/// A council's web page, through the import's HTML extraction.
pub fn html(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let url = url::Url::parse("https://council.example/adult-social-care/page").expect("a URL");
    let extracted = crate::import::extract::extract(&text, &url);
    let _ = crate::import::extract::strip_markdown(&extracted.body);
}
