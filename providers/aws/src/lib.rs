//! AWS provider (filled in below).
