#[monitor::profile(budget = "0ms")]
fn f() {}

fn main() {
    f();
}
