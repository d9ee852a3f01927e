//! `async fn` and async methods: values, `?`, `return`, borrowed results, and
//! futures that stay `Send`.
#![deny(warnings)]

use std::num::ParseIntError;

#[monitor::profile]
async fn double(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x * 2
}

#[monitor::profile]
async fn parse(s: &str) -> Result<u32, ParseIntError> {
    let n: u32 = s.trim().parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[monitor::profile]
async fn nothing(log: &mut Vec<&'static str>) {
    log.push("ran");
}

struct Store {
    items: Vec<String>,
}

impl Store {
    #[monitor::profile]
    async fn first(&self) -> &str {
        &self.items[0]
    }

    #[monitor::profile]
    async fn first_mut(&mut self) -> &mut String {
        tokio::task::yield_now().await;
        &mut self.items[0]
    }

    #[monitor::profile]
    async fn into_items(self) -> Vec<String> {
        self.items
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(assert_send(double(21)).await, 42);
    assert_eq!(parse(" 7 ").await, Ok(7));
    assert_eq!(parse("0").await, Ok(1));
    assert!(parse("x").await.is_err());
    let mut log = Vec::new();
    nothing(&mut log).await;
    assert_eq!(log, ["ran"]);

    let mut store = Store {
        items: vec!["a".to_owned()],
    };
    assert_eq!(store.first().await, "a");
    store.first_mut().await.push('b');
    assert_eq!(store.into_items().await, ["ab"]);
}
