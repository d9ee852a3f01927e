//! Built-in checks: HTTP GET expecting 2xx, TCP connect, free disk space,
//! and a process alive by name.
//!
//! The network checks are async (register them with
//! [`register_async`](super::register_async)); the disk and process checks
//! read the system and may block briefly (register them with
//! [`register`](super::register), which runs them on a thread of their own).
//!
//! ```no_run
//! use monitor::health::{self, checks};
//!
//! health::register_async("orders-api", checks::http_get("http://127.0.0.1:8080/health"));
//! health::register_async("postgres", checks::tcp_connect("127.0.0.1:5432"));
//! health::register("disk", checks::disk_space("/var/lib/app", checks::MinFree::Percent(10.0)));
//! health::register("worker", checks::process_alive("worker")).critical(false);
//! ```

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The future of a built-in async check.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Where a GET goes.
#[derive(Debug)]
struct Target {
    /// `host:port` to connect to.
    connect: String,
    /// The `Host` header.
    host: String,
    /// Path and query.
    path: String,
}

/// Reads an `http://` URL; anything else is an error saying what to do.
fn parse_url(url: &str) -> Result<Target, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a valid URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "{url:?}: the built-in HTTP check speaks http:// only; check https endpoints with register_async and your own client"
            ))
        }
        _ => return Err(format!("{url:?} is not an http:// URL")),
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("{url:?} has no host"))?;
    let port = authority.port_u16().unwrap_or(80);
    Ok(Target {
        connect: format!("{}:{port}", authority.host()),
        host: authority.as_str().to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| String::from("/"), |p| p.as_str().to_string()),
    })
}

/// The status code of an HTTP/1 status line.
fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    parts.next()?.trim().parse().ok()
}

/// UP when `GET url` answers 2xx (`http://` only; redirects are not
/// followed). The runner's timeout bounds the whole exchange.
pub fn http_get(url: impl Into<String>) -> impl Fn() -> CheckFuture + Send + Sync + 'static {
    let url: Arc<str> = Arc::from(url.into());
    let target = Arc::new(parse_url(&url));
    move || {
        let url = Arc::clone(&url);
        let target = Arc::clone(&target);
        Box::pin(async move {
            let target = target.as_ref().as_ref().map_err(Clone::clone)?;
            let mut stream = TcpStream::connect(&target.connect)
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", target.connect))?;
            let request = format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: monitor-health\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                target.path, target.host
            );
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("cannot send the request to {}: {e}", target.connect))?;
            // The status line is all that is needed.
            let mut head = Vec::with_capacity(256);
            let mut buf = [0u8; 256];
            while !head.contains(&b'\n') && head.len() < 4096 {
                let n = stream
                    .read(&mut buf)
                    .await
                    .map_err(|e| format!("cannot read the response of {url}: {e}"))?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            match status_of(&head) {
                Some(status) if (200..300).contains(&status) => Ok(()),
                Some(status) => Err(format!("GET {url} answered {status}")),
                None => Err(format!(
                    "GET {url} did not answer with an HTTP/1 status line"
                )),
            }
        })
    }
}

/// UP when a TCP connection to `addr` (`host:port`) opens.
pub fn tcp_connect(addr: impl Into<String>) -> impl Fn() -> CheckFuture + Send + Sync + 'static {
    let addr: Arc<str> = Arc::from(addr.into());
    move || {
        let addr = Arc::clone(&addr);
        Box::pin(async move {
            TcpStream::connect(&*addr)
                .await
                .map(drop)
                .map_err(|e| format!("cannot connect to {addr}: {e}"))
        })
    }
}

/// The least free space [`disk_space`] accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MinFree {
    /// Available space as a percentage of the disk's size (0–100).
    Percent(f64),
    /// Available space in bytes.
    Bytes(u64),
}

/// UP while the disk holding `path` has at least `min_free` available.
pub fn disk_space(
    path: impl Into<PathBuf>,
    min_free: MinFree,
) -> impl Fn() -> Result<(), String> + Send + Sync + 'static {
    let path = path.into();
    move || {
        let path = path
            .canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", path.display()))?;
        let disks = sysinfo::Disks::new_with_refreshed_list();
        let disk = disks
            .list()
            .iter()
            .filter(|d| path.starts_with(d.mount_point()))
            .max_by_key(|d| d.mount_point().as_os_str().len())
            .ok_or_else(|| format!("no mounted disk holds {}", path.display()))?;
        check_free(
            &path,
            disk.mount_point(),
            disk.available_space(),
            disk.total_space(),
            min_free,
        )
    }
}

fn check_free(
    path: &Path,
    mount: &Path,
    available: u64,
    total: u64,
    min_free: MinFree,
) -> Result<(), String> {
    let percent = if total == 0 {
        0.0
    } else {
        available as f64 * 100.0 / total as f64
    };
    let enough = match min_free {
        MinFree::Percent(min) => percent >= min,
        MinFree::Bytes(min) => available >= min,
    };
    if enough {
        Ok(())
    } else {
        Err(format!(
            "{} (on {}) has {available} bytes free ({percent:.1}%), below the minimum {min_free:?}",
            path.display(),
            mount.display()
        ))
    }
}

/// UP while a process named `name` runs (the name the system reports: on
/// Linux the first 15 bytes of the executable's name). Reads only the
/// process list, at the check's interval.
pub fn process_alive(
    name: impl Into<String>,
) -> impl Fn() -> Result<(), String> + Send + Sync + 'static {
    let name = OsString::from(name.into());
    let system = Mutex::new(sysinfo::System::new());
    move || {
        let mut system = system.lock().unwrap_or_else(PoisonError::into_inner);
        system.refresh_processes_specifics(
            sysinfo::ProcessesToUpdate::All,
            true,
            sysinfo::ProcessRefreshKind::nothing(),
        );
        if system.processes_by_exact_name(&name).next().is_some() {
            Ok(())
        } else {
            Err(format!("no process named {name:?} is running"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_bad_ones_explained() {
        let t = parse_url("http://127.0.0.1:8080/ready?x=1").unwrap();
        assert_eq!(t.connect, "127.0.0.1:8080");
        assert_eq!(t.path, "/ready?x=1");
        assert_eq!(
            parse_url("http://localhost").unwrap().connect,
            "localhost:80"
        );
        assert!(parse_url("https://x/")
            .unwrap_err()
            .contains("http:// only"));
        assert!(parse_url("ftp://x/")
            .unwrap_err()
            .contains("not an http:// URL"));
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn status_lines_are_parsed() {
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(status_of(b"HTTP/1.0 503 x\r\n"), Some(503));
        assert_eq!(status_of(b"SSH-2.0-OpenSSH\r\n"), None);
    }

    #[test]
    fn free_space_thresholds() {
        let (p, m) = (Path::new("/data"), Path::new("/"));
        assert!(check_free(p, m, 50, 100, MinFree::Percent(10.0)).is_ok());
        let e = check_free(p, m, 5, 100, MinFree::Percent(10.0)).unwrap_err();
        assert!(e.contains("5.0%"), "{e}");
        assert!(check_free(p, m, 5, 100, MinFree::Bytes(6)).is_err());
        assert!(check_free(p, m, 0, 0, MinFree::Percent(1.0)).is_err());
    }

    #[test]
    fn this_process_is_alive_and_a_made_up_one_is_not() {
        let own = sysinfo::System::new_with_specifics(
            sysinfo::RefreshKind::nothing().with_processes(sysinfo::ProcessRefreshKind::nothing()),
        );
        let pid = sysinfo::get_current_pid().unwrap();
        let name = own
            .process(pid)
            .unwrap()
            .name()
            .to_string_lossy()
            .to_string();
        assert!(process_alive(name)().is_ok());
        assert!(process_alive("no-such-process-xyz")().is_err());
        assert!(disk_space(".", MinFree::Bytes(0))().is_ok());
        assert!(disk_space("/no/such/path", MinFree::Bytes(0))()
            .unwrap_err()
            .contains("cannot resolve"));
    }
}
