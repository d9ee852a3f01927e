//! `Result` returns: `Err` values, `?` with `From` conversions and early
//! `return` all come back unchanged; non-`Result` types (including references
//! to results and types with an `is_err` method) work too.
#![deny(warnings)]

use std::num::ParseIntError;

// What the expansion does with a returned value to decide whether the call
// failed (only `Result::Err` counts).
macro_rules! counts_as_error {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use monitor::__private::{OtherOutcome as _, ResultOutcome as _};
        let value = $value;
        (&value).__monitor_is_err()
    }};
}

#[derive(Debug, PartialEq)]
enum AppError {
    Parse,
    Zero,
}

impl From<ParseIntError> for AppError {
    fn from(_: ParseIntError) -> Self {
        AppError::Parse
    }
}

#[monitor::profile]
fn parse_nonzero(s: &str) -> Result<u32, AppError> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Err(AppError::Zero);
    }
    Ok(n)
}

#[monitor::profile]
fn boxed(s: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    Ok(s.parse::<u8>()?)
}

type Alias<T> = Result<T, String>;

#[monitor::profile]
fn aliased(ok: bool) -> Alias<()> {
    if ok {
        Ok(())
    } else {
        Err("no".into())
    }
}

#[monitor::profile]
fn by_ref(r: &Result<u8, u8>) -> &Result<u8, u8> {
    r
}

struct LooksLikeResult;

impl LooksLikeResult {
    fn is_err(&self) -> bool {
        true
    }
}

#[monitor::profile]
fn looks() -> LooksLikeResult {
    LooksLikeResult
}

#[monitor::profile]
fn option(x: Option<u8>) -> Option<u8> {
    let v = x?;
    Some(v + 1)
}

#[monitor::profile]
fn panics() -> Result<(), String> {
    panic!("recorded as a panic, then re-raised")
}

fn main() {
    // Quiet the expected panic below.
    std::panic::set_hook(Box::new(|_| {}));

    assert!(counts_as_error!(parse_nonzero("0")));
    assert!(!counts_as_error!(parse_nonzero("4")));
    assert!(counts_as_error!(aliased(false)));
    assert!(!counts_as_error!(by_ref(&Err(1))));
    assert!(!counts_as_error!(looks()));
    assert!(!counts_as_error!(option(None)));

    assert_eq!(parse_nonzero("4"), Ok(4));
    assert_eq!(parse_nonzero("0"), Err(AppError::Zero));
    assert_eq!(parse_nonzero("x"), Err(AppError::Parse));
    assert!(boxed("300").is_err());
    assert_eq!(boxed("3").unwrap(), 3);
    assert_eq!(aliased(true), Ok(()));
    assert_eq!(aliased(false), Err("no".to_owned()));
    assert_eq!(by_ref(&Err(1)), &Err(1));
    assert!(looks().is_err());
    assert_eq!(option(Some(1)), Some(2));
    assert_eq!(option(None), None);
    let caught = std::panic::catch_unwind(panics);
    assert!(caught.is_err());
}
