#[monitor::traced(err)]
fn count(items: &[u32]) -> Option<usize> {
    Some(items.len())
}

fn main() {
    let _ = count(&[]);
}
