//! A free function: the value, `return` and the default name.
#![deny(warnings)]

/// Doc comments and other attributes stay on the function.
#[must_use]
#[monitor::profile]
fn add(a: u32, b: u32) -> u32 {
    if a == 0 {
        return b;
    }
    a + b
}

#[monitor::profile]
fn push(v: &mut Vec<u32>, x: u32) {
    if x == 0 {
        return;
    }
    v.push(x);
}

#[monitor::profile]
pub fn clear(v: &mut Vec<u32>) {
    v.clear();
    // Inferred from the `()` return type, as in the plain function.
    Default::default()
}

#[monitor::profile]
fn r#type() -> &'static str {
    "raw identifiers work"
}

fn main() {
    assert_eq!(add(0, 2), 2);
    assert_eq!(add(1, 2), 3);
    let mut v = Vec::new();
    push(&mut v, 0);
    push(&mut v, 5);
    assert_eq!(v, [5]);
    clear(&mut v);
    assert!(v.is_empty());
    assert_eq!(r#type(), "raw identifiers work");
}
