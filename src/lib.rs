//! cilium-ipt: a Cilium node's iptables rules as a reviewable, reproducible artefact.
//!
//! Data flows one way: TOML files → `config` (raw, located values) → `spec` (validated node) →
//! `cilium` (the rule set as typed data, `rules`) → `render` (the iptables-restore text).
//! `cli` is the command line over that pipeline; `main.rs` only calls `cli::run`.

pub mod cilium;
pub mod cli;
pub mod config;
pub mod error;
pub mod marks;
pub mod names;
pub mod net;
pub mod output;
pub mod release;
pub mod render;
pub mod rules;
pub mod spec;

use std::path::Path;

pub use error::Error;
pub use net::Family;

/// Loads, merges and validates the config files (none: the embedded default).
pub fn load_spec(paths: &[impl AsRef<Path>]) -> Result<spec::NodeSpec, Error> {
    spec::validate(&config::merge(&config::read(paths)?)?)
}

/// The iptables-restore document for `family` from the given config files.
pub fn render_configs(paths: &[impl AsRef<Path>], family: Family) -> Result<String, Error> {
    render_spec(&load_spec(paths)?, family)
}

/// The iptables-restore document for `family` from config texts already in memory.
pub fn render_sources(sources: &[error::Source], family: Family) -> Result<String, Error> {
    render_spec(&spec::validate(&config::merge(sources)?)?, family)
}

fn render_spec(spec: &spec::NodeSpec, family: Family) -> Result<String, Error> {
    render::restore_document(&cilium::build(spec, family)?)
}
