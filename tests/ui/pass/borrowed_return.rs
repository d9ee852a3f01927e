//! Results borrowed from the arguments: `&self` -> `&T`, `&mut self` -> `&mut T`,
//! and from plain reference arguments.
#![deny(warnings)]

struct Slot<T> {
    value: T,
}

impl<T> Slot<T> {
    #[monitor::profile]
    fn get(&self) -> &T {
        &self.value
    }

    #[monitor::profile]
    fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[monitor::profile]
fn first_mut(v: &mut [u32]) -> Option<&mut u32> {
    v.first_mut()
}

#[monitor::profile]
fn split(s: &str) -> (&str, &str) {
    s.split_at(s.len() / 2)
}

fn main() {
    let mut slot = Slot { value: 1 };
    *slot.get_mut() += 41;
    assert_eq!(*slot.get(), 42);

    let mut v = [1, 2];
    if let Some(first) = first_mut(&mut v) {
        *first = 10;
    }
    assert_eq!(v, [10, 2]);
    assert_eq!(split("abcd"), ("ab", "cd"));
}
