#[monitor::profile(crate = nowhere::monitor)]
fn f() -> u32 {
    1
}

fn main() {
    let _ = f();
}
