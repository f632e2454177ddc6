//! `signpost import`: the council's website and directory in, changes
//! reviewed and approved.

use std::process::ExitCode;

use signpost::config::Config;
use signpost::import::{self, oruk, state::State};

use super::ImportCommand;

pub fn run(config: &Config, command: ImportCommand) -> anyhow::Result<ExitCode> {
    let record = import::Place::configured(config);
    let s = &config.import;
    match command {
        ImportCommand::Site {
            url,
            into,
            allow,
            exclude,
            max_pages,
            interval_ms,
            allow_private_addresses,
            apply,
        } => {
            // The settings, with what the command line gives over them.
            let mut opts = import::SiteOptions::from_settings(s, &url, into, record)?;
            if !allow.is_empty() {
                opts.allow = allow;
            }
            if !exclude.is_empty() {
                opts.exclude = exclude;
            }
            if let Some(n) = max_pages {
                opts.max_pages = n;
            }
            if let Some(ms) = interval_ms {
                opts.min_interval = std::time::Duration::from_millis(ms);
            }
            opts.allow_private |= allow_private_addresses;
            opts.auto_apply |= apply;
            let r = import::import_site(&opts)?;
            print_report(&r);
            Ok(ExitCode::SUCCESS)
        }
        ImportCommand::Services {
            source,
            into,
            allow_private_addresses,
            apply,
        } => {
            let r = oruk::import_services(
                &oruk::Source::parse(&source),
                &into,
                &record,
                allow_private_addresses || s.allow_private_addresses,
                apply || s.auto_apply,
                &s.contact,
            )?;
            print_report(&r);
            Ok(ExitCode::SUCCESS)
        }
        ImportCommand::Review { run, all, diff } => {
            let state = State::open(&record)?;
            for r in state.runs(5)? {
                println!(
                    "run {} ({}, {}): {} {}",
                    r.id, r.kind, r.status, r.source, r.summary
                );
            }
            let changes = state.changes(run, !all)?;
            if changes.is_empty() {
                println!("nothing is waiting for approval");
            }
            for c in changes {
                println!(
                    "#{} [{}] {} {} ({}){}",
                    c.id,
                    c.status,
                    c.kind,
                    c.target,
                    c.url,
                    if c.note.is_empty() {
                        String::new()
                    } else {
                        format!("\n    {}", c.note.replace('\n', "\n    "))
                    }
                );
                if diff && !c.diff.is_empty() {
                    println!("{}", c.diff);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ImportCommand::Approve { ids, all, into } => {
            let ids = if all {
                State::open(&record)?
                    .changes(None, true)?
                    .into_iter()
                    // A scan with no text, or a fetch that failed, has nothing to apply.
                    .filter(|c| c.content.is_some() || c.kind == "removed")
                    .map(|c| c.id)
                    .collect()
            } else {
                ids
            };
            let n = import::apply(&into, &record, &ids, "staff (command line)")?;
            println!("{n} change(s) applied to {}", into.display());
            Ok(ExitCode::SUCCESS)
        }
        ImportCommand::Reject { ids } => {
            let n = import::reject(&record, &ids, "staff (command line)")?;
            println!("{n} change(s) rejected");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_report(r: &import::Report) {
    for n in &r.notes {
        println!("note: {n}");
    }
    println!("{}", r.line());
    if r.added + r.changed + r.removed + r.flagged > r.applied {
        println!("review with `signpost import review --diff`, then `signpost import approve`");
    }
}
