//! carto-provision as a library: the CLI in `main.rs` is a thin edge over this.
