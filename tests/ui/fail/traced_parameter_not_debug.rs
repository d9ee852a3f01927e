// A parameter that is not `Debug` is one error on the parameter: skip it.
struct Conn;

#[monitor::traced]
fn query(conn: &Conn, id: u64) -> u64 {
    let _ = conn;
    id
}

fn main() {
    let _ = query(&Conn, 1);
}
