#[monitor::profile(name = "a", level = "info")]
fn f() {}

fn main() {
    f();
}
