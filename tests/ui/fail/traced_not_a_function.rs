#[monitor::traced]
struct Point {
    x: i32,
}

fn main() {
    let _ = Point { x: 1 };
}
