//! End-to-end tests: the real `carto-provision` binary against moto (emulated AWS) and a booted
//! test VM (Debian in systemd-nspawn in its own network namespace) running our stand-in
//! carto-selfhosted.
//! The VM boots from the user-data the CLI actually sent, read back from moto, so the
//! authorized key and the pinned host key come from the real flow.
//!
//! They need root, debootstrap and systemd-nspawn (`.ci/install`), so they are `#[ignore]`d in
//! a plain `cargo test` and run by `cargo test -- --include-ignored` (the README's test
//! command, which `.ci/run` runs on every check).

mod common;
mod deploy;
mod failures;
mod hostkey;
mod lifecycle;
mod smoke;
mod throttling;
mod upgrade;
