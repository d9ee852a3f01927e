#[monitor::profile(budget = "2h")]
fn f() {}

fn main() {
    f();
}
