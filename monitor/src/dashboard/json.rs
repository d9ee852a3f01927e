//! The JSON bodies of the API: parts of the snapshot, and errors.

use bytes::Bytes;

use crate::snapshot::Snapshot;

/// `GET /api/v1/functions`: an array of `FunctionStats`.
pub(super) fn functions(snapshot: &Snapshot) -> Result<Bytes, serde_json::Error> {
    serde_json::to_vec(&snapshot.functions).map(Bytes::from)
}

/// `GET /api/v1/snapshot`: the whole snapshot.
pub(super) fn snapshot(snapshot: &Snapshot) -> Result<Bytes, serde_json::Error> {
    serde_json::to_vec(snapshot).map(Bytes::from)
}

/// `GET /api/v1/system`: the system and process figures.
pub(super) fn system(snapshot: &Snapshot) -> Result<Bytes, serde_json::Error> {
    serde_json::to_vec(&snapshot.system).map(Bytes::from)
}

/// `{"error": "<message>"}`, with a final line feed for terminals.
pub(super) fn error(message: &str) -> Bytes {
    let mut body = serde_json::json!({ "error": message }).to_string();
    body.push('\n');
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_escaped_json() {
        let body = error("no route for \"/x\"\n");
        let value: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(value["error"], "no route for \"/x\"\n");
    }

    #[test]
    fn the_empty_snapshot_serialises() {
        let value: serde_json::Value =
            serde_json::from_slice(&snapshot(&Snapshot::default()).expect("serialises"))
                .expect("valid JSON");
        assert_eq!(value["tick"], 0);
        assert_eq!(
            functions(&Snapshot::default())
                .expect("serialises")
                .as_ref(),
            b"[]"
        );
    }
}
