//! `mut` arguments, pattern arguments, ignored arguments, and arguments the
//! body moves out of piece by piece.
#![deny(warnings)]

struct Point {
    x: i32,
    y: i32,
}

#[monitor::profile]
fn bump(mut n: u32, mut list: Vec<u32>) -> (u32, Vec<u32>) {
    n += 1;
    list.push(n);
    (n, list)
}

#[monitor::profile]
fn sum((a, b): (i32, i32), Point { x, y }: Point, [first, ..]: [i32; 3]) -> i32 {
    a + b + x + y + first
}

#[monitor::profile]
fn ignore(_: String, _unused: u8, &copied: &u32) -> u32 {
    copied
}

#[monitor::profile]
fn take_apart(pair: (String, String)) -> String {
    let left = pair.0;
    left + &pair.1
}

fn main() {
    assert_eq!(bump(1, vec![0]), (2, vec![0, 2]));
    assert_eq!(sum((1, 2), Point { x: 3, y: 4 }, [5, 6, 7]), 15);
    assert_eq!(ignore(String::new(), 0, &9), 9);
    assert_eq!(take_apart(("a".to_owned(), "b".to_owned())), "ab");
}
