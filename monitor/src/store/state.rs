//! Key/value state (e.g. alert state) and the append-only audit trail.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use super::error::{Doing, StoreError};
use super::Store;

/// One audit record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Increasing id.
    pub id: i64,
    /// When it was appended, milliseconds since the Unix epoch.
    pub t_ms: i64,
    /// What happened, e.g. `alert.fired`.
    pub kind: String,
    /// The details.
    pub detail: Value,
}

impl Store {
    /// Sets `namespace`/`key` to `value` (replacing any previous value).
    pub fn put_state(
        &mut self,
        namespace: &str,
        key: &str,
        value: &Value,
        t_ms: i64,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(value).map_err(|source| StoreError::Json {
            doing: "encoding state",
            source,
        })?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO state (namespace, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4)",
                params![namespace, key, text, t_ms],
            )
            .doing("writing state")?;
        Ok(())
    }

    /// The value of `namespace`/`key`, if set.
    pub fn get_state(&self, namespace: &str, key: &str) -> Result<Option<Value>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM state WHERE namespace = ?1 AND key = ?2",
                params![namespace, key],
                |r| r.get(0),
            )
            .optional()
            .doing("reading state")?;
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|source| StoreError::Json {
                doing: "decoding state",
                source,
            })
    }

    /// Appends an audit record and returns its id.
    pub fn append_audit(
        &mut self,
        kind: &str,
        detail: &Value,
        t_ms: i64,
    ) -> Result<i64, StoreError> {
        let text = serde_json::to_string(detail).map_err(|source| StoreError::Json {
            doing: "encoding an audit record",
            source,
        })?;
        self.conn
            .execute(
                "INSERT INTO audit (ts_ms, kind, detail) VALUES (?1, ?2, ?3)",
                params![t_ms, kind, text],
            )
            .doing("appending to the audit trail")?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Audit records with an id above `after`, oldest first, at most `limit`.
    pub fn audit_after(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id, ts_ms, kind, detail FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .doing("reading the audit trail")?;
        let rows = statement
            .query_map(params![after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
            })
            .doing("reading the audit trail")?;
        let mut entries = Vec::new();
        for row in rows {
            let (id, t_ms, kind, detail) = row.doing("reading the audit trail")?;
            // A record that is not JSON any more is shown as a string, not lost.
            let detail = serde_json::from_str(&detail).unwrap_or(Value::String(detail));
            entries.push(AuditEntry {
                id,
                t_ms,
                kind,
                detail,
            });
        }
        Ok(entries)
    }
}
