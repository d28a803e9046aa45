//! Integration tests of the carto-provision binary and library (one test binary, modules below).
mod bad_input;
mod cli;
mod cli_gcp;
mod common;
mod lifecycle;
mod lifecycle_clouds;
mod plan;
mod ssh;
