#!/usr/bin/env python3
"""A webhook receiver for the tests: a real HTTP server that checks every
request the way an integrator would, with the Standard Webhooks reference
library (an implementation independent of canasta's), and records it.

    webhook-receiver.py [--secret whsec_...]... [--mode ok|fail|gone|hang]

Prints the port it listens on (127.0.0.1), then serves:
  POST /hook      the webhook: answers per the mode (200, 500, 410, or no
                  answer for 30 s), recording method, headers, body and,
                  per secret, whether the reference library verifies it
  GET  /received  what it recorded, as JSON
  POST /mode      {"mode": "...", "secrets": [...]} changes the mode or secrets
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

state = {"mode": "ok", "secrets": [], "received": []}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as real receivers do.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/received":
            return self._reply(404)
        with lock:
            body = json.dumps(state["received"]).encode()
        self._reply(200, body)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if self.path == "/mode":
            change = json.loads(body)
            with lock:
                state["mode"] = change.get("mode", state["mode"])
                state["secrets"] = change.get("secrets", state["secrets"])
            return self._reply(200, b"{}")
        if self.path != "/hook":
            return self._reply(404)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            mode, secrets = state["mode"], list(state["secrets"])
        verified = {}
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified[secret] = True
            except Exception as e:  # noqa: BLE001 - any failure is "not verified"
                verified[secret] = str(e) or type(e).__name__
        record = {
            "received_at": time.time(),
            "method": self.command,
            "content_type": headers.get("content-type"),
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "webhook_signature": headers.get("webhook-signature"),
            "body": body.decode("utf-8", "replace"),
            "verified": verified,
            "mode": mode,
        }
        with lock:
            state["received"].append(record)
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "fail":
            return self._reply(500, b'{"error": "receiver is down"}')
        if mode == "gone":
            return self._reply(410, b"gone")
        self._reply(200, b'{"ok": true}')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--mode", default="ok")
    args = parser.parse_args()
    state["secrets"] = args.secret
    state["mode"] = args.mode
    ThreadingHTTPServer.request_queue_size = 256
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
