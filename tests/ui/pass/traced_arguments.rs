//! Every `#[traced]` argument and their combinations: `name`, `budget`,
//! `crate`, `skip`, `skip_all`, `fields` (`%`, `?`, bare, dotted keys, a
//! field replacing a parameter of the same name), `err` on `Result` aliases.
#![deny(warnings)]

use std::io;

mod sdk {
    pub use monitor;
}

struct Secret;

#[derive(Debug)]
struct Conn;

#[monitor::traced(name = "db.query", budget = "50ms", skip(conn, password), fields(user.id = %id, table = ?"users", len = password.len()), err)]
fn query(conn: &Conn, id: u64, password: &str) -> io::Result<String> {
    let _ = conn;
    if id == 0 {
        return Err(io::Error::other("no user 0"));
    }
    Ok(format!("user {id}"))
}

#[monitor::traced(skip_all, fields(secret = "hidden"))]
fn keep(secret: Secret, n: u32) -> u32 {
    let Secret = secret;
    n
}

// A field named like a parameter replaces it: `id` is recorded once.
#[monitor::traced(fields(id = %id))]
fn shown(id: u64) -> u64 {
    id
}

// An error that is not `Display` is recorded without a message.
#[monitor::traced]
fn opaque_error(fail: bool) -> Result<(), Secret> {
    if fail {
        Err(Secret)
    } else {
        Ok(())
    }
}

mod app {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
}

#[monitor::traced(crate = sdk::monitor, err, fields(input.len = input.len()))]
fn boxed(input: &str) -> app::Result<u8> {
    Ok(input.parse()?)
}

#[monitor::traced(crate = sdk::monitor, skip(delay), name = "async.wait")]
async fn wait(delay: std::time::Duration, label: &str) -> usize {
    tokio::time::sleep(delay).await;
    label.len()
}

fn main() {
    assert_eq!(query(&Conn, 1, "pw").unwrap(), "user 1");
    assert!(query(&Conn, 0, "pw").is_err());
    assert_eq!(keep(Secret, 4), 4);
    assert_eq!(shown(9), 9);
    assert!(opaque_error(true).is_err());
    assert!(opaque_error(false).is_ok());
    assert_eq!(boxed("7").unwrap(), 7);
    assert!(boxed("x").is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    assert_eq!(
        runtime.block_on(wait(std::time::Duration::from_millis(1), "abc")),
        3
    );
}
