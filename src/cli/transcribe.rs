//! `signpost transcribe`.

use std::path::PathBuf;
use std::process::ExitCode;

use signpost::config::Config;

use super::init_logging;

pub fn run(
    config: Config,
    file: PathBuf,
    model: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    init_logging(&config, "warn");
    let mut config = config;
    if let Some(m) = model {
        config.speech.model = m;
        config.speech.ggml_path = None;
    }
    let path = signpost::speech::model_path(&config)?
        .ok_or_else(|| anyhow::anyhow!("speech input is off: set speech.model"))?;
    let t = signpost::speech::Transcriber::load(&path, &config)?;
    let bytes =
        std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let ext = file.extension().and_then(|e| e.to_str());
    let audio = signpost::speech::decode(
        &bytes,
        ext,
        config.speech.max_upload_bytes,
        config.speech.max_seconds,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let start = std::time::Instant::now();
    let tr = t.transcribe(&audio)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if json {
        println!(
            "{}",
            serde_json::json!({"text": tr.text, "language": tr.language, "duration_ms": tr.duration_ms, "ms": ms})
        );
    } else {
        println!("{}", tr.text);
    }
    Ok(ExitCode::SUCCESS)
}
