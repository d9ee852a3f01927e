#[monitor::traced(skip_all, level = "info")]
fn f() {}

fn main() {
    f();
}
