//! `#[traced]` on free functions: every return shape (`()`, values, `Result`
//! with `?` and `return`, `!`), `unsafe fn`, parameters recorded or not, and
//! functions written by `macro_rules!`.
#![deny(warnings)]

use std::num::ParseIntError;

#[monitor::traced]
fn parse(input: &str) -> Result<u32, ParseIntError> {
    let n: u32 = input.trim().parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[monitor::traced]
fn log(log: &mut Vec<String>, line: String) {
    log.push(line);
}

#[monitor::traced]
fn defaulted() -> u8 {
    Default::default()
}

#[monitor::traced]
unsafe fn read(pointer: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *pointer }
}

#[monitor::traced]
fn fail(message: &str) -> ! {
    panic!("{message}")
}

// Destructuring patterns have no name and are not recorded; `_` neither.
#[monitor::traced]
fn sum((a, b): (u32, u32), [first, ..]: [u32; 2], _: String, mut r#type: u32) -> u32 {
    r#type += 1;
    a + b + first + r#type
}

macro_rules! defaulted {
    ($name:ident($arg:ident: $arg_ty:ty) -> $t:ty) => {
        #[monitor::traced]
        fn $name($arg: $arg_ty) -> $t {
            let _ = $arg;
            Default::default()
        }
    };
}

defaulted!(unit(x: u8) -> ());
defaulted!(option(x: u8) -> Option<u8>);

fn main() {
    assert_eq!(parse(" 7 "), Ok(7));
    assert_eq!(parse("0"), Ok(1));
    assert!(parse("x").is_err());
    let mut lines = Vec::new();
    log(&mut lines, "a".to_owned());
    assert_eq!(lines, ["a"]);
    assert_eq!(defaulted(), 0);
    let value = 5;
    // SAFETY: `value` outlives the call.
    assert_eq!(unsafe { read(&value) }, 5);
    assert_eq!(sum((1, 2), [3, 4], String::new(), 0), 7);
    unit(1);
    assert_eq!(option(2), None);
    assert_eq!(checked_number(3), Ok(3));

    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(|| fail("stop"));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<String>().unwrap(),
        "stop"
    );
}

// Parameters, fields and `err` written by `macro_rules!` resolve like the
// rest of the expansion.
macro_rules! checked {
    ($name:ident($arg:ident: $arg_ty:ty) $($field:ident)*) => {
        #[monitor::traced(fields($($field = %$arg,)*), err)]
        fn $name($arg: $arg_ty) -> Result<$arg_ty, String> {
            Ok($arg)
        }
    };
}

checked!(checked_number(n: u32) shown);
