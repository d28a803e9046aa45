//! Integration tests of the carto-provision binary and library (one test binary, modules below).
mod cli;
mod common;
mod ssh;
