//! What can go wrong with the store, each with the reason.

use std::io;
use std::path::PathBuf;

/// A store failure. The monitor shows it as the reason persistence is
/// unavailable and keeps running; the application never sees it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or is not a directory.
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The database was corrupt and could not be moved aside, so it is left
    /// untouched and nothing is written.
    #[error("{path} is corrupt ({reason}) and could not be moved aside: {source}")]
    MoveAside {
        /// The corrupt file.
        path: PathBuf,
        /// Why it is considered corrupt.
        reason: String,
        /// Why the rename failed.
        source: io::Error,
    },
    /// The file was written by a newer monitor with a schema this one does
    /// not know; it is left untouched.
    #[error("the database has schema version {found}, newer than this monitor's {supported}; upgrade the monitor or point MONITOR_DATA_DIR elsewhere")]
    NewerSchema {
        /// The version in the file.
        found: i64,
        /// The latest version this build knows.
        supported: i64,
    },
    /// SQLite would not switch the file to WAL (e.g. a network file system).
    #[error("the database cannot use WAL (journal mode stayed {mode}); point MONITOR_DATA_DIR at a local disk")]
    NoWal {
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// The disk (or the configured size limit) is full.
    #[error("the disk is full while {doing}")]
    Full {
        /// What the store was doing.
        doing: &'static str,
    },
    /// The directory or file cannot be written.
    #[error("the database is read-only while {doing}: {source}")]
    ReadOnly {
        /// What the store was doing.
        doing: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is not a database or is damaged.
    #[error("the database is corrupt while {doing}: {source}")]
    Corrupt {
        /// What the store was doing.
        doing: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Any other SQLite failure.
    #[error("SQLite failed while {doing}: {source}")]
    Sqlite {
        /// What the store was doing.
        doing: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A JSON value could not be stored or read back.
    #[error("invalid JSON while {doing}: {source}")]
    Json {
        /// What the store was doing.
        doing: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Classifies a SQLite error by its code.
    pub(crate) fn sqlite(doing: &'static str, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Code;
        match source.sqlite_error_code() {
            Some(Code::DiskFull) => Self::Full { doing },
            Some(Code::ReadOnly | Code::CannotOpen | Code::PermissionDenied) => {
                Self::ReadOnly { doing, source }
            }
            Some(Code::DatabaseCorrupt | Code::NotADatabase) => Self::Corrupt { doing, source },
            _ => Self::Sqlite { doing, source },
        }
    }

    /// Whether reopening (and moving the file aside) is the way out.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Self::Corrupt { .. })
    }
}

/// Adds what the store was doing to a SQLite result.
pub(crate) trait Doing<T> {
    fn doing(self, what: &'static str) -> Result<T, StoreError>;
}

impl<T> Doing<T> for Result<T, rusqlite::Error> {
    fn doing(self, what: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::sqlite(what, e))
    }
}
