//! `#[traced]` on generic functions and functions returning `impl Trait` or
//! borrowing from their arguments: parameters that are not `Debug` are
//! skipped, the others need no extra bound beyond `Debug`.
#![deny(warnings)]

use std::fmt::{Debug, Display};
use std::future::Future;

#[monitor::traced(skip(u))]
fn pair<T, U>(t: &T, u: U) -> (T, String)
where
    T: Clone + Debug,
    U: Display,
{
    (t.clone(), u.to_string())
}

#[monitor::traced]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[monitor::traced]
fn zeros<const N: usize>() -> [u8; N] {
    [0; N]
}

#[monitor::traced(skip(items), fields(kind = "iterator"))]
fn total(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[monitor::traced(skip_all, fields(shown = %value))]
async fn show<T>(value: T) -> String
where
    T: Display + Send,
{
    value.to_string()
}

#[monitor::traced]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitor::traced]
fn borrowed<'a>(words: &'a [&'a str]) -> impl Iterator<Item = usize> + 'a {
    words.iter().map(|w| w.len())
}

#[monitor::traced(err)]
fn checked(n: i32) -> Result<impl Debug, String> {
    if n < 0 {
        return Err(format!("{n} is negative"));
    }
    Ok(n)
}

#[monitor::traced]
fn later(n: u32) -> impl Future<Output = u32> {
    async move { n + 1 }
}

#[monitor::traced]
async fn async_opaque(n: u32) -> impl Debug {
    n
}

fn main() {
    assert_eq!(pair(&1u8, 'x'), (1, "x".to_owned()));
    assert_eq!(longest("ab", "c"), "ab");
    assert_eq!(zeros::<3>(), [0, 0, 0]);
    assert_eq!(total(vec![1, 2, 3]), 6);
    assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
    assert_eq!(borrowed(&["a", "bcd"]).sum::<usize>(), 4);
    assert_eq!(format!("{:?}", checked(3)), "Ok(3)");
    assert_eq!(checked(-1).unwrap_err(), "-1 is negative");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(show(5)), "5");
    assert_eq!(runtime.block_on(later(1)), 2);
    assert_eq!(format!("{:?}", runtime.block_on(async_opaque(4))), "4");
}
