//! carto-provision as a library: `main.rs` is a thin edge over this.
//!
//! The tree reads as the flow in DESIGN.md: `cli` holds the flags, `spec` turns them into a
//! validated `Spec`, `commands` dispatches, and `pipeline` runs the steps (preflight, infra,
//! dns, bootstrap, install, healthy, verify) against a `carto_core::Provider`, recording every
//! resource in `state` the moment it exists. `remote` holds the steps as data, `ssh` only
//! carries them; `package` and `domain` check the user's input.

pub mod cli;
pub mod cloud_init;
pub mod commands;
pub mod compose;
pub mod domain;
pub mod event;
pub mod exit;
pub mod https_probe;
pub mod input;
pub mod interrupt;
pub mod keys;
pub mod logging;
pub mod mask;
pub mod package;
pub mod pipeline;
pub mod progress;
pub mod providers;
pub mod remote;
pub mod smoke;
pub mod spec;
pub mod ssh;
pub mod state;
pub mod timeline;
pub mod tls_roots;
