//! `crate = path` for crates that re-export `monitor` under another path.
#![deny(warnings)]

mod sdk {
    pub use monitor;
}

mod deep {
    pub mod inner {
        pub use ::monitor as renamed;
    }
}

#[monitor::profile(crate = sdk::monitor)]
fn via_sdk(x: u32) -> Result<u32, String> {
    Ok(x)
}

#[monitor::profile(crate = crate::deep::inner::renamed, name = "renamed")]
async fn via_renamed() -> u8 {
    1
}

fn main() {
    assert_eq!(via_sdk(3), Ok(3));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(via_renamed()), 1);
}
