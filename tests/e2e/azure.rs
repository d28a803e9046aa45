//! PLACEHOLDER: end-to-end tests of `carto-provision azure` (owned by the azure provider work).
