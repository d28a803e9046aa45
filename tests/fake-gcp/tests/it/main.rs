//! The fake's HTTP-level tests, one binary with a module per topic (compute, DNS, requests,
//! failed operations, lists, refusals of what Google refuses); `common` starts the fake, builds
//! request bodies and runs tables of requests (`check`).

mod common;
mod compute;
mod dns;
mod failures;
mod lists;
mod metadata;
mod networks;
mod requests;
mod strict;
