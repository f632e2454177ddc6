//! `signpost models`: fetch, list, verify, prepare and convert.

use std::path::Path;
use std::process::ExitCode;

use signpost::config::Config;

use super::ModelsCommand;

pub fn run(config: &Config, command: ModelsCommand) -> anyhow::Result<ExitCode> {
    use signpost::models::{manifest_path, Manifest, Status};
    let manifest = Manifest::load(&manifest_path())?;
    let cache = config.models.cache();
    match command {
        ModelsCommand::Fetch { names, from } => {
            let chosen: Vec<_> = if names.is_empty() {
                manifest.models.iter().collect()
            } else {
                names
                    .iter()
                    .map(|n| manifest.get(n))
                    .collect::<anyhow::Result<_>>()?
            };
            for m in chosen {
                if m.fetch(&cache, from.as_deref())? {
                    println!(
                        "{}: installed and verified in {}",
                        m.name,
                        m.dir(&cache).display()
                    );
                } else {
                    println!("{}: already installed and verified", m.name);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::List => {
            println!("model cache: {}", cache.display());
            for m in &manifest.models {
                let status = match m.status(&cache) {
                    Status::Verified => "installed".to_string(),
                    Status::Missing => "not installed".to_string(),
                    Status::Damaged(why) => format!("damaged ({why})"),
                };
                println!(
                    "{:<10} {:<11} {:<15} {}",
                    m.name, m.role, status, m.description
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::ConvertWhisper { names, dir, out } => {
            use signpost::speech::convert::{check, convert};
            let report = |name: &str, o: &Path, c: signpost::speech::convert::Converted| {
                println!(
                    "{name}: {} ({} tensors, {} MB; vocabulary {}, width {}, {}+{} layers)",
                    o.display(),
                    c.tensors,
                    c.bytes / 1_000_000,
                    c.n_vocab,
                    c.d_model,
                    c.encoder_layers,
                    c.decoder_layers
                );
            };
            if let Some(d) = dir {
                let o = out.unwrap_or_else(|| d.join("ggml-model.bin"));
                eprintln!("{}: converting to ggml...", d.display());
                let c = convert(&d, &o)?;
                report(&d.display().to_string(), &o, c);
                return Ok(ExitCode::SUCCESS);
            }
            if out.is_some() {
                anyhow::bail!("--out goes with --dir; installed models are converted into the folder of derived files ({})", config.models.derived().display());
            }
            let chosen: Vec<_> = if names.is_empty() {
                manifest
                    .models
                    .iter()
                    .filter(|m| m.role == "speech")
                    .collect()
            } else {
                names
                    .iter()
                    .map(|n| manifest.get(n))
                    .collect::<anyhow::Result<_>>()?
            };
            for m in chosen {
                let o = signpost::speech::converted(config, &m.name)?;
                report(&m.name, &o, check(&o)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Prepare => {
            let derived = config.models.derived();
            for m in &manifest.models {
                if m.status(&cache) != Status::Verified {
                    continue;
                }
                let started = std::time::Instant::now();
                let made = match m.role.as_str() {
                    "speech" => Some(signpost::speech::converted(config, &m.name)?),
                    "llm" => signpost::llm::prepare_requantized(
                        &m.dir(&cache).join(signpost::llm::MODEL_FILE),
                        &derived,
                    )?
                    .map(|(p, _)| p),
                    _ => None,
                };
                if let Some(p) = made {
                    println!(
                        "{}: {} ready ({:.1} s)",
                        m.name,
                        p.display(),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCommand::Verify => {
            let mut bad = 0;
            for m in &manifest.models {
                if m.status(&cache) == Status::Missing {
                    println!("{}: not installed", m.name);
                    continue;
                }
                match m.verify(&cache) {
                    Ok(()) => println!("{}: ok", m.name),
                    Err(e) => {
                        bad += 1;
                        println!("{}: {e:#}", m.name);
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
