// A mistake in the body is reported once, where it is, as without the macro.
#[monitor::profile]
fn parse(s: &str) -> Result<u32, String> {
    let n: u32 = s.parse()?;
    Ok(n)
}

fn main() {
    let _ = parse("1");
}
