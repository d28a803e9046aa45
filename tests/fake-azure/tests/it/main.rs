//! Integration tests of the fake ARM server: a real HTTP client against `FakeServer` on
//! 127.0.0.1, one module per concern.

mod client;
mod crud;
mod lro;
mod security;
mod strict;
mod validation;
