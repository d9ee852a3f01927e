// A body of the wrong type is one error on the body, as without the macro.
#[monitor::profile]
fn count() -> u32 {
    "three"
}

fn main() {
    let _ = count();
}
