//! cilium-ipt: a Cilium node's iptables rules as a reviewable, reproducible artefact.
//!
//! Data flows one way: TOML files → `config` (raw, located values) → `spec` (validated node) →
//! `cilium` (the rule set as typed data, `rules`) → `render` (the iptables-restore text).
//! For drift, `save` reads iptables-save output into the same canonical rule spelling, `diff`
//! compares it with the rendered rule set and plans the repair, and `render` lays the plan out
//! as a `--noflush` document. `cli` is the command line; `main.rs` only calls `cli::run`.

pub mod cilium;
pub mod cli;
pub mod config;
pub mod diff;
pub mod error;
pub mod explain_mark;
pub mod ipset;
pub mod marks;
pub mod names;
pub mod net;
pub mod output;
pub mod release;
pub mod render;
pub mod routes;
pub mod rules;
pub mod save;
pub mod spec;

use std::path::Path;

pub use error::Error;
pub use net::Family;

/// Loads, merges and validates the config files (none: the embedded default).
pub fn load_spec(paths: &[impl AsRef<Path>]) -> Result<spec::NodeSpec, Error> {
    load_spec_with(paths, &[])
}

/// Like `load_spec`, with `--set KEY=VALUE` overrides applied after the files.
pub fn load_spec_with(
    paths: &[impl AsRef<Path>],
    sets: &[String],
) -> Result<spec::NodeSpec, Error> {
    let mut raw = config::merge(&config::read(paths)?)?;
    config::apply_sets(&mut raw, sets)?;
    spec::validate(&raw)
}

/// The iptables-restore document for `family` from the given config files.
pub fn render_configs(paths: &[impl AsRef<Path>], family: Family) -> Result<String, Error> {
    render_spec(&load_spec(paths)?, family)
}

/// The iptables-restore document for `family` from config texts already in memory.
pub fn render_sources(sources: &[error::Source], family: Family) -> Result<String, Error> {
    render_spec(&spec::validate(&config::merge(sources)?)?, family)
}

/// The iptables-restore document for `family` from a validated node.
pub fn render_spec(spec: &spec::NodeSpec, family: Family) -> Result<String, Error> {
    render::restore_document(&cilium::build(spec, family)?)
}

/// Compares the node's rule set with a live iptables-save dump.
pub fn diff_spec(
    spec: &spec::NodeSpec,
    family: Family,
    live_name: &str,
    live: &str,
) -> Result<diff::Report, Error> {
    let desired = cilium::build(spec, family)?;
    let dump = save::parse(live).map_err(|source| Error::Save {
        name: live_name.to_string(),
        source,
    })?;
    Ok(diff::diff(&desired, &dump))
}
