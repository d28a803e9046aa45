//! Integration tests of the AWS provider against moto (emulated EC2, Route53 and SSM on
//! 127.0.0.1). Each test starts its own moto server, so tests run in parallel.

mod common;
mod faults;
mod lifecycle;
mod metadata;
mod network;
mod preflight;
