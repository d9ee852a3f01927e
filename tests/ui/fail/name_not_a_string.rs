#[monitor::profile(name = checkout)]
fn f() {}

fn main() {
    f();
}
