//! The fuzzers' seed corpora and every input a fuzzer ever crashed on
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`), run through the
//! same entry points as `cargo fuzz` runs them: none may panic.

use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 9] = [
    ("kb_files", signpost::fuzz::kb_files),
    ("services_feed", signpost::fuzz::services_feed),
    ("rules", signpost::fuzz::rules),
    ("eval_cases", signpost::fuzz::eval_cases),
    ("question", signpost::fuzz::question),
    ("audio", signpost::fuzz::audio),
    ("alexa", signpost::fuzz::alexa),
    ("wyoming", signpost::fuzz::wyoming),
    ("html", signpost::fuzz::html),
];

#[test]
fn every_seed_and_every_past_crash_runs_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut ran = 0;
    for (name, target) in TARGETS {
        let mut seeds = 0;
        for folder in ["corpus", "regressions"] {
            let dir = root.join(folder).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let result = std::panic::catch_unwind(|| target(&bytes));
                assert!(result.is_ok(), "{name} panicked on {}", path.display());
                if folder == "corpus" {
                    seeds += 1;
                }
                ran += 1;
            }
        }
        assert!(seeds > 0, "fuzz/corpus/{name} has no seeds");
    }
    assert!(ran >= TARGETS.len());
    // Every target in fuzz/Cargo.toml is run here.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert_eq!(manifest.matches("[[bin]]").count(), TARGETS.len());
}
