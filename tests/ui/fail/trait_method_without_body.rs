trait Store {
    #[monitor::profile]
    fn get(&self) -> u32;
}

fn main() {}
