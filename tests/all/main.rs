//! Every integration test, in one binary (one link instead of fourteen).
//! Each module tests one part of Signpost end to end: the real binary, a
//! real index, real models, real audio, a real browser, real protocol
//! clients.

mod common;

mod architecture;
mod browser;
mod cli;
mod councils;
mod eval;
mod faults;
mod fuzz_corpus;
mod http;
mod import;
mod index;
mod kb_check;
mod llm;
mod llm_server;
mod models;
mod pages;
mod privacy;
mod prose;
mod reliability;
mod replicas;
mod semantic;
mod speakers;
mod speech;
mod storage;
mod web;
