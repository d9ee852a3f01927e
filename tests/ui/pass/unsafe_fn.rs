//! `unsafe fn` and `async unsafe fn` (the body keeps its unsafe context), and
//! `extern "C" fn`.
#![deny(warnings)]

#[monitor::profile]
unsafe fn read(p: *const u32) -> u32 {
    *p
}

#[monitor::profile]
async unsafe fn read_later(p: *const u32) -> u32 {
    *p
}

#[monitor::profile]
extern "C" fn twice(x: u32) -> u32 {
    x * 2
}

fn main() {
    let value = 7;
    // SAFETY: `value` outlives both calls.
    assert_eq!(unsafe { read(&value) }, 7);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // SAFETY: as above; the future is awaited before `value` goes away.
    assert_eq!(runtime.block_on(unsafe { read_later(&value) }), 7);
    assert_eq!(twice(4), 8);
}
