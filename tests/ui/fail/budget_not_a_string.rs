#[monitor::profile(budget = 50)]
fn f() {}

fn main() {
    f();
}
