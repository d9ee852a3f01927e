//! Generic functions: type, lifetime and const parameters, where-clauses,
//! `impl Trait` arguments.
#![deny(warnings)]

use std::fmt::Display;

#[monitor::profile]
fn pair<T, U>(t: &T, u: U) -> (T, String)
where
    T: Clone,
    U: Display,
{
    (t.clone(), u.to_string())
}

#[monitor::profile]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[monitor::profile]
fn zeros<const N: usize>() -> [u8; N] {
    [0; N]
}

#[monitor::profile]
fn total(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[monitor::profile]
async fn show<T>(value: T) -> String
where
    T: Display + Send,
{
    value.to_string()
}

fn main() {
    assert_eq!(pair(&1u8, 'x'), (1, "x".to_owned()));
    assert_eq!(pair(&"s", 2.5), ("s", "2.5".to_owned()));
    assert_eq!(longest("ab", "c"), "ab");
    assert_eq!(zeros::<3>(), [0, 0, 0]);
    assert_eq!(total(vec![1, 2, 3]), 6);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(show(5)), "5");
}
