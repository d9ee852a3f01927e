//! `name` and `budget` in any order, with every unit, and a trailing comma.
#![deny(warnings)]

#[monitor::profile(name = "checkout", budget = "50ms")]
fn checkout() -> u32 {
    1
}

#[monitor::profile(budget = "1.5s", name = "slow")]
fn slow() -> u32 {
    2
}

#[monitor::profile(budget = "250ns")]
fn nanos() {}

#[monitor::profile(budget = "10us")]
fn micros() {}

#[monitor::profile(budget = "2m")]
async fn minutes() -> u32 {
    3
}

#[monitor::profile(name = "with spaces and ::colons", budget = "1_000 ms")]
fn odd_name() {}

fn main() {
    assert_eq!(checkout(), 1);
    assert_eq!(slow(), 2);
    nanos();
    micros();
    odd_name();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(minutes()), 3);
}
