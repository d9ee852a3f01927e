#[monitor::traced(skip(conn, pasword))]
fn login(conn: u32, password: &str) -> bool {
    conn == 1 && password.is_empty()
}

fn main() {
    let _ = login(1, "");
}
