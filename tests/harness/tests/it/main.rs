//! The harness's own tests, one binary: `install_sh` runs the stand-in's install.sh on the
//! host with fake docker binaries; `vm` boots test VMs (root only, `#[ignore]`d in a plain
//! `cargo test`).

mod install_sh;
mod vm;
