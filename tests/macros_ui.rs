//! Compile-time tests of `#[monitor::profile]` and `#[monitor::traced]`:
//! every supported function shape compiles warning-free and behaves as
//! before (`tests/ui/pass`), and every misuse is one clear error on the
//! offending token (`tests/ui/fail`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
