//! Test harness shared by every test binary: the moto server (emulated AWS) and the booted
//! test VM, each started on loopback and stopped by PID when dropped.

pub mod deployment;
pub mod local_aws;
pub mod moto;
pub mod package;
pub mod selfhosted;
pub mod vm;
