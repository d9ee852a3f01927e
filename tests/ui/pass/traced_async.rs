//! `#[traced]` on `async fn` and async methods: values, `?`, `return`,
//! borrowed results, `!`, and futures that stay `Send`.
#![deny(warnings)]

use std::num::ParseIntError;

#[monitor::traced]
async fn double(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x * 2
}

#[monitor::traced(err)]
async fn parse(s: &str) -> Result<u32, ParseIntError> {
    let n: u32 = s.trim().parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[monitor::traced]
async fn nothing(log: &mut Vec<&'static str>) {
    tokio::task::yield_now().await;
    log.push("ran");
}

#[monitor::traced]
async fn fail_later() -> ! {
    tokio::task::yield_now().await;
    panic!("later")
}

struct Store {
    items: Vec<String>,
}

impl Store {
    #[monitor::traced]
    async fn first(&self) -> &str {
        &self.items[0]
    }

    #[monitor::traced(fields(len = self.items.len()))]
    async fn first_mut(&mut self) -> &mut String {
        tokio::task::yield_now().await;
        &mut self.items[0]
    }

    #[monitor::traced(skip_all, err)]
    async fn take(self, index: usize) -> Result<String, String> {
        self.items
            .into_iter()
            .nth(index)
            .ok_or_else(|| format!("no item {index}"))
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(assert_send(double(21)).await, 42);
    assert_eq!(assert_send(parse(" 7 ")).await, Ok(7));
    assert_eq!(parse("0").await, Ok(1));
    assert!(parse("x").await.is_err());
    let mut log = Vec::new();
    assert_send(nothing(&mut log)).await;
    assert_eq!(log, ["ran"]);

    let mut store = Store {
        items: vec!["a".to_owned()],
    };
    assert_eq!(store.first().await, "a");
    assert_send(store.first_mut()).await.push('b');
    assert_eq!(
        assert_send(Store { items: vec![] }.take(0)).await,
        Err("no item 0".to_owned())
    );
    assert_eq!(store.take(0).await, Ok("ab".to_owned()));

    let _: fn() -> _ = || assert_send(fail_later());
}
