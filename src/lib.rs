//! Signpost: a self-hosted information-and-advice assistant for councils'
//! adult social care. See `docs` in the README for the request path.

pub mod admission;
pub mod api;
pub mod bench;
pub mod channels;
pub mod config;
pub mod derived;
pub mod embed;
pub mod eval;
pub mod fuzz;
pub mod import;
pub mod kb;
pub mod llm;
pub mod metrics;
pub mod models;
pub mod pipeline;
pub mod privacy;
pub mod progress;
pub mod rules;
pub mod search;
pub mod server;
pub mod service;
pub mod shared;
pub mod speakers;
pub mod speech;
pub mod store;
pub mod text;
pub mod triage;
pub mod web;
