//! Test harness shared by every test binary: the emulated clouds (moto for AWS, our fake GCP
//! and Azure servers) behind one [`cloud::LocalCloud`] trait, and the booted test VM, each
//! started on loopback and stopped by PID (or task) when dropped.

pub mod cli;
pub mod cloud;
pub mod deployment;
pub mod local_aws;
pub mod local_azure;
pub mod local_gcp;
pub mod moto;
pub mod package;
pub mod proxy;
pub mod selfhosted;
pub mod smoke;
pub mod timeline;
pub mod vm;
