//! Functions returning `impl Trait`, alone or inside another type, and
//! borrowing from their arguments.
#![deny(warnings)]

use std::fmt::Debug;
use std::future::Future;

#[monitor::profile]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitor::profile]
fn borrowed<'a>(words: &'a [&'a str]) -> impl Iterator<Item = usize> + 'a {
    words.iter().map(|w| w.len())
}

#[monitor::profile]
fn checked(n: i32) -> Result<impl Debug, String> {
    if n < 0 {
        return Err(format!("{n} is negative"));
    }
    Ok(n)
}

#[monitor::profile]
fn later(n: u32) -> impl Future<Output = u32> {
    async move { n + 1 }
}

#[monitor::profile]
async fn async_opaque(n: u32) -> impl Debug {
    n
}

fn main() {
    assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
    assert_eq!(borrowed(&["a", "bcd"]).sum::<usize>(), 4);
    assert_eq!(format!("{:?}", checked(3)), "Ok(3)");
    assert_eq!(checked(-1).unwrap_err(), "-1 is negative");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(later(1)), 2);
    assert_eq!(format!("{:?}", runtime.block_on(async_opaque(4))), "4");
}
