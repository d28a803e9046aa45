//! Integration tests of the fake ARM server.
