//! carto-provision as a library: `main.rs` is a thin edge over this.
//!
//! The tree reads as the flow in DESIGN.md: `cli` turns flags into a validated `spec::Spec`;
//! `pipeline` runs the steps (preflight, infra, dns, bootstrap, install, verify) against a
//! `carto_core::Provider` and records every resource in `state` the moment it exists.

pub mod cloud_init;
pub mod compose;
pub mod domain;
pub mod keys;
pub mod package;
pub mod pipeline;
pub mod remote;
pub mod ssh;
pub mod state;
pub mod verify;
