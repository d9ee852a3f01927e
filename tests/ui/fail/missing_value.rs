#[monitor::profile(name)]
fn f() {}

fn main() {
    f();
}
