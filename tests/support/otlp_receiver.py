#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for tests/otlp_export.rs.

Decodes each `POST /v1/traces` body with the official OpenTelemetry protobuf
definitions (PyPI `opentelemetry-proto`) and prints one JSON line per
request on stdout:

    PORT <port>                  once, when listening on 127.0.0.1
    REFUSED <status>             a request answered with an error on purpose
    REQUEST <json>               a decoded ExportTraceServiceRequest

`--fail-first N` answers the first N requests with 503 (to exercise the
exporter's retries). Exits when stdin closes, so it cannot outlive the test.
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
except ImportError as error:  # pragma: no cover - reported to the test
    print(f"MISSING opentelemetry-proto ({error}); run scripts/test or "
          "`pip install opentelemetry-proto`", flush=True)
    sys.exit(3)

LOCK = threading.Lock()
STATE = {"fail_left": 0}


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind in ("array_value", "kvlist_value"):
        return str(getattr(value, kind))
    return getattr(value, kind)


def attributes(key_values):
    return [[kv.key, any_value(kv.value)] for kv in key_values]


def span_json(span):
    return {
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex(),
        "name": span.name,
        "kind": span.kind,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "attributes": attributes(span.attributes),
        "status": {"code": span.status.code, "message": span.status.message},
        "has_status": span.HasField("status"),
        "events": [
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": attributes(e.attributes),
            }
            for e in span.events
        ],
        "dropped_events_count": span.dropped_events_count,
        "flags": span.flags,
    }


def request_json(request, headers, path):
    out = {
        "path": path,
        "content_type": headers.get("Content-Type"),
        "resource_spans": [],
    }
    for rs in request.resource_spans:
        out["resource_spans"].append({
            "resource": attributes(rs.resource.attributes),
            "scope_spans": [
                {
                    "scope": {"name": ss.scope.name, "version": ss.scope.version},
                    "spans": [span_json(s) for s in ss.spans],
                }
                for ss in rs.scope_spans
            ],
        })
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep stdout for the protocol
        pass

    def reply(self, status, body=b"", content_type="application/x-protobuf"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            self.reply(404, b"not found", "text/plain")
            return
        with LOCK:
            fail = STATE["fail_left"] > 0
            if fail:
                STATE["fail_left"] -= 1
        if fail:
            print("REFUSED 503", flush=True)
            self.reply(503, b"try again", "text/plain")
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as error:  # a malformed body is what the test checks
            print("BAD " + json.dumps(str(error)), flush=True)
            self.reply(400, b"bad protobuf", "text/plain")
            return
        line = json.dumps(request_json(request, self.headers, self.path))
        print("REQUEST " + line, flush=True)
        response = trace_service_pb2.ExportTraceServiceResponse()
        self.reply(200, response.SerializeToString())


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    STATE["fail_left"] = args.fail_first
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
