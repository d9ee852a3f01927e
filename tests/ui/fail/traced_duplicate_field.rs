#[monitor::traced(fields(user = %id, kind = "a", user = ?id))]
fn load(id: u64) -> u64 {
    id
}

fn main() {
    let _ = load(1);
}
