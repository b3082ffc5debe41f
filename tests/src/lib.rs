//! Integration and compile-fail tests live in `tests/`; the harness they share lives here.

pub mod harness;
