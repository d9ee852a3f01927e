#[monitor::traced(fields(user))]
fn load(id: u64) -> u64 {
    id
}

fn main() {
    let _ = load(1);
}
