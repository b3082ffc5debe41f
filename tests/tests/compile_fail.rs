//! Compile-fail UI suite: every misuse of the macros listed in DESIGN.md "Compile-time errors"
//! must fail with one error pointing at the user's own token. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p tests --test compile_fail`.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
