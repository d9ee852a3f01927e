//! Other processes named in `system.watch`, by name or pid: CPU, memory,
//! descriptors and storage I/O from their `/proc/<pid>` files.

use std::collections::HashMap;

use super::process::{self, Previous};
use super::procfs::ProcRoot;
use super::stats::{Unavailable, WatchedProcess};
use crate::config::Watch;

/// The kernel keeps at most this many bytes of a process name.
const COMM_LEN: usize = 15;

/// Keeps each watched process's last reading for the next delta.
#[derive(Default)]
pub(crate) struct WatchedReader {
    previous: HashMap<u32, Previous>,
}

impl WatchedReader {
    pub(crate) fn read(
        &mut self,
        root: &ProcRoot,
        buf: &mut String,
        watch: &[Watch],
        unavailable: &mut Vec<Unavailable>,
    ) -> Vec<WatchedProcess> {
        let mut found = Vec::new();
        let mut current = HashMap::new();
        // The process list is read once, and only when a name is watched.
        let mut pids: Option<Result<Vec<u32>, String>> = None;
        for entry in watch {
            let reading = format!("watch:{entry}");
            let matched = match entry {
                Watch::Pid(pid) => {
                    if root.path(&pid.to_string()).is_dir() {
                        vec![*pid]
                    } else {
                        unavailable.push(Unavailable::new(
                            &reading,
                            format!("no process with pid {pid} under {}", root.root().display()),
                        ));
                        continue;
                    }
                }
                Watch::Name(name) => {
                    let all = pids.get_or_insert_with(|| root.numeric_entries(""));
                    let all = match all {
                        Ok(all) => all,
                        Err(reason) => {
                            unavailable.push(Unavailable::new(&reading, reason.clone()));
                            continue;
                        }
                    };
                    let matched = by_name(root, buf, all, name);
                    if matched.is_empty() {
                        unavailable.push(Unavailable::new(
                            &reading,
                            format!("no process named {name:?} is running"),
                        ));
                    }
                    matched
                }
            };
            for pid in matched {
                let sample = process::sample(root, &pid.to_string(), buf);
                let f = process::figures(sample, self.previous.get(&pid), &reading, unavailable);
                if let Some(next) = f.next {
                    current.insert(pid, next);
                }
                let name = root
                    .read_into(&format!("{pid}/comm"), buf)
                    .map(|()| buf.trim_end().to_string())
                    .unwrap_or_default();
                found.push(WatchedProcess {
                    watch: entry.to_string(),
                    pid,
                    name,
                    cpu_pct_of_core: f.cpu_pct_of_core,
                    cpu_seconds_total: f.cpu_seconds_total,
                    rss_bytes: f.rss_bytes,
                    virtual_bytes: f.virtual_bytes,
                    threads: f.threads,
                    open_fds: f.open_fds,
                    read_bytes_total: f.io.map(|io| io.read_bytes),
                    write_bytes_total: f.io.map(|io| io.write_bytes),
                    read_bytes_per_sec: f.read_bytes_per_sec,
                    write_bytes_per_sec: f.write_bytes_per_sec,
                });
            }
        }
        self.previous = current;
        found
    }
}

/// The pids among `pids` whose `comm` is `name` (or its first 15 bytes,
/// which is all the kernel keeps).
fn by_name(root: &ProcRoot, buf: &mut String, pids: &[u32], name: &str) -> Vec<u32> {
    let wanted = truncated(name);
    pids.iter()
        .copied()
        .filter(|pid| {
            root.read_into(&format!("{pid}/comm"), buf).is_ok() && buf.trim_end() == wanted
        })
        .collect()
}

fn truncated(name: &str) -> &str {
    if name.len() <= COMM_LEN {
        return name;
    }
    let mut end = COMM_LEN;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_compare_as_the_kernel_keeps_them() {
        assert_eq!(truncated("postgres"), "postgres");
        assert_eq!(truncated("a-very-long-process-name"), "a-very-long-pro");
        assert_eq!(truncated("ééééééééé"), "ééééééé");
    }
}
