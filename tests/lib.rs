//! Integration tests, one module per concern, built as a single test binary.

mod cli;
mod common;
mod config_management;
mod datapath;
mod determinism;
mod drift;
mod errors;
mod kernel;
mod options;
mod properties;
mod render;
