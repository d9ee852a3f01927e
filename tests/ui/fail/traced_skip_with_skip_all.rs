#[monitor::traced(skip_all, skip(password))]
fn login(password: &str) -> bool {
    password.is_empty()
}

fn main() {
    let _ = login("");
}
