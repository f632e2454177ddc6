//! `signpost ask`: one question through the request path, with what each
//! stage did when asked.

use std::process::ExitCode;

use signpost::channels::Channel;
use signpost::config::Config;
use signpost::pipeline::{Engine, Question};

use super::init_logging;

pub fn run(
    mut config: Config,
    question: String,
    json: bool,
    channel: Channel,
    explain: bool,
    no_llm: bool,
    after: Vec<String>,
) -> anyhow::Result<ExitCode> {
    init_logging(&config, "warn");
    if no_llm {
        config.llm.model.clear();
        config.llm.server_url.clear();
    }
    let engine = Engine::new(config)?;
    let mut q = Question::new(question, channel);
    q.history = after
        .into_iter()
        .map(|text| signpost::pipeline::Turn {
            role: signpost::pipeline::Role::User,
            text,
        })
        .collect();
    let reply = engine.answer(&q);
    let text = signpost::channels::render(&reply, channel, engine.config());
    if json {
        let mut out = serde_json::json!({
            "route": reply.route.as_str(),
            "reply": text,
            "sources": reply.sources,
            "grounded": reply.grounded,
            "ms": reply.ms,
        });
        if explain {
            out["stages"] = serde_json::to_value(&reply.stages)?;
            out["passages"] = serde_json::to_value(&reply.passages)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{text}");
        if !reply.sources.is_empty() {
            println!("\nSources:");
            for s in &reply.sources {
                println!("  - {} <{}>", s.title, s.url);
            }
        }
        if explain {
            let st = &reply.stages;
            println!("\n[triage] {}", st.triage);
            if !st.query.is_empty() {
                println!("[query] {}", st.query);
                if let Some(c) = &st.calculator {
                    println!("[calculator] {c}");
                }
                println!("[retrieval] {}", st.retrieval);
                println!("[coverage] {:.2}", st.coverage);
                for (id, score) in &st.retrieved {
                    println!("[retrieved] {score:7.2} {id}");
                }
            }
            for s in &st.removed {
                println!("[removed] {s}");
            }
            if let Some(m) = &st.model {
                println!("[model] {} ({:.0} ms in the model)", m.model, m.ms);
                if let Some(r) = &m.rewrite {
                    println!("[rewrite] {r}");
                }
                for (id, p) in &m.ranking {
                    println!("[ranking] P(yes) {p:.3} {id}");
                }
                if let Some(d) = &m.draft {
                    println!("[draft] {}", d.trim());
                }
                for r in &m.removed {
                    println!("[removed from draft] {r}");
                }
                for n in &m.notes {
                    println!("[model note] {n}");
                }
                println!("[answer from] {}", m.answer_from);
            }
            println!(
                "[route] {} in {} ms, grounded: {}",
                reply.route.as_str(),
                reply.ms,
                reply.grounded
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
