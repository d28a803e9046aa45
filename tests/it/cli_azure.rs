//! PLACEHOLDER: bad input to `carto-provision azure` (owned by the azure provider work).
