//! Integration tests of the GCP provider against our fake Compute Engine + Cloud DNS server
//! (`carto-fake-gcp`, on 127.0.0.1, checking every request against Google's discovery
//! documents). Each test starts its own fake, so tests run in parallel. The provider signs in
//! through the real credential flow: `authorized_user` credentials whose token endpoint is
//! the fake's.

mod common;
mod drift;
mod faults;
mod lifecycle;
mod metadata;
mod network;
mod paging;
mod preflight;
