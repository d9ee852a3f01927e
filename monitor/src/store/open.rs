//! Opening the database: WAL, checks, and moving a corrupt file aside.
//!
//! `synchronous = NORMAL` in WAL mode makes each commit durable against a
//! crash of the process (kill -9): the WAL is in the OS page cache. A power
//! loss may lose the last commits (never corrupt the file); that is the
//! trade-off for not calling fsync on every tick.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags};

use super::error::{Doing, StoreError};
use super::schema;

/// The file under the data directory.
pub const FILE_NAME: &str = "history.db";

/// How long a statement waits for another process holding the database.
const BUSY_TIMEOUT: Duration = Duration::from_millis(200);

/// A usable connection, and where a corrupt file went if one was found.
pub(crate) struct Opened {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) moved_aside: Option<PathBuf>,
}

/// Opens (or creates) `<dir>/history.db`; a file that is not a database or
/// fails `PRAGMA quick_check` is renamed `history.db.corrupt-<unix secs>`
/// (never deleted) and a fresh one is created. The check reads the whole
/// file once (time proportional to its size), on the store thread.
pub(crate) fn open(dir: &Path) -> Result<Opened, StoreError> {
    let data_dir = |source| StoreError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(data_dir)?;
    if !dir.is_dir() {
        return Err(data_dir(std::io::Error::other("not a directory")));
    }
    let path = dir.join(FILE_NAME);
    match connect(&path) {
        Ok(conn) => Ok(Opened {
            conn,
            path,
            moved_aside: None,
        }),
        Err(error) if error.is_corrupt() => {
            let moved = move_aside(&path, &error.to_string())?;
            let conn = connect(&path)?;
            Ok(Opened {
                conn,
                path,
                moved_aside: Some(moved),
            })
        }
        Err(error) => Err(error),
    }
}

/// Opens, configures, checks and migrates one file.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).doing("opening the database")?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .doing("setting the busy timeout")?;
    // The first read of the file: garbage fails here as "not a database".
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .doing("switching to WAL")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal { mode });
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .doing("setting synchronous = NORMAL")?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .doing("checking the database")?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            doing: "checking the database",
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            ),
        });
    }
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// Renames the file (and its WAL and shared-memory files) to
/// `<name>.corrupt-<unix secs>[-n]`, returning the new path.
fn move_aside(path: &Path, reason: &str) -> Result<PathBuf, StoreError> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = path
        .file_name()
        .map_or_else(|| FILE_NAME.into(), |n| n.to_string_lossy().into_owned());
    let mut target = path.with_file_name(format!("{name}.corrupt-{secs}"));
    for n in 1..100 {
        if !target.exists() {
            break;
        }
        target = path.with_file_name(format!("{name}.corrupt-{secs}-{n}"));
    }
    std::fs::rename(path, &target).map_err(|source| StoreError::MoveAside {
        path: path.to_path_buf(),
        reason: reason.to_string(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            // Kept next to the moved file for whoever investigates.
            let _ = std::fs::rename(&side, format!("{}{suffix}", target.display()));
        }
    }
    Ok(target)
}
