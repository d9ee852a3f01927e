#[monitor::profile(budget = "1000000000m")]
fn f() {}

fn main() {
    f();
}
