//! Functions returning `!`, sync and async.
#![deny(warnings)]

#[monitor::profile]
fn fail(message: &str) -> ! {
    panic!("{message}")
}

#[monitor::profile]
async fn fail_later() -> ! {
    tokio::task::yield_now().await;
    panic!("later")
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(|| fail("stop"));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<String>().unwrap(),
        "stop"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(fail_later())
    }));
    assert!(caught.is_err());
}
