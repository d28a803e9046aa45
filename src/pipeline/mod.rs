//! (stub: the step table is being written)
pub mod bootstrap;
pub mod install;
