//! `signpost serve`.

use std::process::ExitCode;

use signpost::config::Config;
use signpost::pipeline::Engine;

use super::init_logging;

pub fn run(
    config: Config,
    addr: Option<String>,
    wyoming_addr: Option<String>,
) -> anyhow::Result<ExitCode> {
    init_logging(&config, "info");
    let addr = addr.unwrap_or_else(|| config.server.addr.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if config.councils.is_empty() {
        let engine = Engine::new(config)?;
        rt.block_on(signpost::server::serve(engine, &addr, wyoming_addr))?;
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        wyoming_addr.is_none(),
        "--wyoming-addr is for an install with one council; with several, set wyoming.addr in each council's [councils.<id>] table"
    );
    let engines = engines(&config)?;
    rt.block_on(signpost::server::serve_councils(engines, &addr))?;
    Ok(ExitCode::SUCCESS)
}

/// Every council's engine, the models loaded once and shared.
pub fn engines(config: &Config) -> anyhow::Result<Vec<Engine>> {
    let configs = config.councils()?;
    let total = configs.len();
    let mut engines: Vec<Engine> = Vec::with_capacity(total);
    for (i, c) in configs.into_iter().enumerate() {
        let id = c.council_id.clone();
        let started = std::time::Instant::now();
        let engine = match engines.first() {
            None => Engine::new(c),
            Some(first) => first.sharing_models(c),
        }
        .map_err(|e| anyhow::anyhow!("council '{id}': {e:#}"))?;
        tracing::info!(
            council = %id,
            pages = engine.kb().pages.len(),
            ms = started.elapsed().as_millis() as u64,
            "council {} of {total} ready",
            i + 1
        );
        engines.push(engine);
    }
    Ok(engines)
}
