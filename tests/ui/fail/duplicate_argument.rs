#[monitor::profile(name = "a", budget = "1ms", name = "b")]
fn f() {}

fn main() {
    f();
}
