#[monitor::profile(crate = "monitor")]
fn f() {}

fn main() {
    f();
}
