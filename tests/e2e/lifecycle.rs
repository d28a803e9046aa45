//! PLACEHOLDER: resume after a kill, Ctrl-C, destroy without state, gc.
