#[monitor::profile("checkout")]
fn f() {}

fn main() {
    f();
}
