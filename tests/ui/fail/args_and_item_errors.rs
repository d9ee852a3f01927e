// A bad argument and a bad item are both reported, in one build.
#[monitor::profile(budget = "soon")]
enum Mode {
    On,
}

fn main() {
    let _ = Mode::On;
}
