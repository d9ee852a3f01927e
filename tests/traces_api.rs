//! Spans reach the trace store and `/api/v1/traces`, as trees.

use monitor::__private::Callsite;
use monitor::trace::{self, SpanGuard, TraceQuery};
use monitor_workspace::http_get;
use serde_json::Value;

static HANDLE: Callsite = Callsite::new("api::handle", "api", 0, false);
static QUERY: Callsite = Callsite::new("db::query", "db", 0, false);

/// A request: a root span with two children, the second failing.
fn request(fail: bool) -> trace::TraceId {
    let root = SpanGuard::enter(&HANDLE);
    let id = root.context().expect("recording").trace_id;
    for i in 0..2 {
        let mut child = SpanGuard::enter(&QUERY);
        child.record_display("table", &"users");
        let parent = trace::current().expect("the child is current");
        assert_eq!(parent.trace_id, id);
        if fail && i == 1 {
            child.exit(Some(&"connection reset"));
        } else {
            child.exit(None);
        }
    }
    root.exit(None);
    assert_eq!(
        trace::current(),
        None,
        "the root restored the empty context"
    );
    id
}

#[test]
fn traces_are_stored_listed_and_served_as_trees() {
    let monitor = monitor::builder()
        .dashboard_addr("127.0.0.1:0")
        .install_recorder(false)
        .start()
        .expect("starts");
    let addr = monitor.dashboard_addr().expect("listening");
    let ok = request(false);
    let failed = request(true);
    monitor.collect_now();

    let listed = monitor.find_traces(&TraceQuery {
        limit: 10,
        ..TraceQuery::default()
    });
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|t| t.error).count(), 1);
    assert!(listed
        .iter()
        .all(|t| t.spans == 3 && t.root == "api::handle"));

    let (status, body) = http_get(addr, "/api/v1/traces?error=true&limit=5").expect("GET traces");
    assert_eq!(status, 200, "{body}");
    let traces: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(traces.as_array().map(Vec::len), Some(1), "{traces}");
    assert_eq!(traces[0]["trace_id"], failed.to_string());

    let (status, body) = http_get(addr, &format!("/api/v1/traces/{ok}")).expect("GET one trace");
    assert_eq!(status, 200, "{body}");
    let tree: Value = serde_json::from_str(&body).expect("JSON");
    let root = &tree["roots"][0];
    assert_eq!(root["name"], "api::handle");
    assert_eq!(root["parent_span_id"], Value::Null);
    let children = root["children"].as_array().expect("children");
    assert_eq!(children.len(), 2);
    for child in children {
        assert_eq!(child["name"], "db::query");
        assert_eq!(child["parent_span_id"], root["span_id"]);
        assert_eq!(child["attributes"][0]["key"], "table");
        assert_eq!(child["attributes"][0]["value"], "users");
    }

    let (status, body) =
        http_get(addr, &format!("/api/v1/traces/{failed}")).expect("GET failed trace");
    assert_eq!(status, 200);
    assert!(body.contains("connection reset"), "{body}");

    // Bad input gets a clear error, never a panic.
    let (status, body) = http_get(addr, "/api/v1/traces/not-a-trace-id").expect("GET bad id");
    assert_eq!(status, 400, "{body}");
    let (status, _) =
        http_get(addr, &format!("/api/v1/traces/{}", "1".repeat(32))).expect("GET unknown id");
    assert_eq!(status, 404);
    let (status, body) = http_get(addr, "/api/v1/traces?limit=0").expect("GET bad limit");
    assert_eq!(status, 400);
    assert!(body.contains("limit"), "{body}");
    assert_eq!(monitor.snapshot().traces.spans, 6);
}
