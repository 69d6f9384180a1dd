//! Integration tests, one module per concern, built as a single test binary.

mod cli;
mod common;
mod errors;
mod kernel;
mod render;
