//! A profiled function inside another, recursion, inner attributes, and items
//! in the body.
#![deny(warnings)]

#[monitor::profile]
fn outer(n: u32) -> u32 {
    #![allow(clippy::let_and_return)]

    const OFFSET: u32 = 1;

    #[monitor::profile]
    fn inner(n: u32) -> u32 {
        n + OFFSET
    }

    let result = inner(n) * 2;
    result
}

#[monitor::profile]
fn factorial(n: u64) -> u64 {
    if n == 0 {
        1
    } else {
        n * factorial(n - 1)
    }
}

fn main() {
    assert_eq!(outer(1), 4);
    assert_eq!(factorial(10), 3_628_800);
}
