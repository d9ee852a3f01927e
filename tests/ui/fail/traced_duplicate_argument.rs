#[monitor::traced(skip(a), err, skip(b))]
fn f(a: u32, b: u32) -> Result<u32, String> {
    Ok(a + b)
}

fn main() {
    let _ = f(1, 2);
}
