//! The Azure provider against the contract-checked fake Resource Manager (no VM, no network
//! beyond 127.0.0.1): preflight rejections, the whole environment created twice (once),
//! its properties, throttling, tag listing (paged), and destroy.

mod common;
mod drift;
mod lifecycle;
mod paging;
mod preflight;
