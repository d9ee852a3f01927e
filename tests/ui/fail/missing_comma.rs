#[monitor::profile(name = "a" budget = "1ms")]
fn f() {}

fn main() {
    f();
}
