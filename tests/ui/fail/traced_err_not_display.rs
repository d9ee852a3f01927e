// `err` records the error's `Display` text: one error on `err` when it has none.
#[derive(Debug)]
struct Failure;

#[monitor::traced(err)]
fn run(fail: bool) -> Result<(), Failure> {
    if fail {
        Err(Failure)
    } else {
        Ok(())
    }
}

fn main() {
    let _ = run(false);
}
