//! The architecture the docs promise: no module cycle among the stages and
//! channels, and docs/architecture.md names every stage file.

use std::path::Path;
use std::process::Command;

#[test]
fn no_module_depends_on_itself_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/module-cycles.py"))
        .arg("--graph")
        .output()
        .expect("python3 runs scripts/module-cycles.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // The graph really was read: the pipeline's stages are in it.
    for m in ["pipeline::compose", "pipeline::retrieve", "service", "web"] {
        assert!(
            text.contains(&format!("{m} -> ")),
            "{m} missing from:\n{text}"
        );
    }
    // Channels reach the engine through the service, never the other way.
    let line = |m: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{m} -> ")))
            .unwrap_or("")
            .to_string()
    };
    assert!(!line("service").contains("web") && !line("service").contains("server"));
    assert!(
        !line("pipeline").contains("channels"),
        "{}",
        line("pipeline")
    );
}

#[test]
fn the_architecture_document_names_every_stage_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    for entry in std::fs::read_dir(root.join("src/pipeline")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let stem = name.trim_end_matches(".rs");
        if stem != "mod" {
            assert!(
                doc.contains(&format!("src/pipeline/{name}")) || doc.contains(&format!("`{stem}`")),
                "docs/architecture.md does not mention src/pipeline/{name}"
            );
        }
    }
}
