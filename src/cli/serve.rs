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
    let engine = Engine::new(config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(signpost::server::serve(engine, &addr, wyoming_addr))?;
    Ok(ExitCode::SUCCESS)
}
