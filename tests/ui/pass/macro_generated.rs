//! Functions written by `macro_rules!`, whose types arrive as `$t:ty` (an
//! invisible group), including `()` whose body needs the return type to infer.
#![deny(warnings)]

macro_rules! defaulted {
    ($name:ident -> $t:ty) => {
        #[monitor::profile]
        fn $name() -> $t {
            Default::default()
        }
    };
}

defaulted!(unit -> ());
defaulted!(number -> u8);
defaulted!(option -> Option<u8>);
defaulted!(text -> String);

fn main() {
    unit();
    assert_eq!(number(), 0);
    assert_eq!(option(), None);
    assert_eq!(text(), "");
}
