#[monitor::profile(budget = "fast")]
fn f() {}

fn main() {
    f();
}
