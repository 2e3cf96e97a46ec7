# Generated from tests/_async/test_broken_daemon.py by scripts/unasync.py; do not edit.
"""A daemon that goes away mid-call (a stand-in server on a thread): the error says so, and names the command to join again."""

from __future__ import annotations

import http.server
import json
import threading
import unittest

from paddock import Sandbox, ConnectionLostError, PaddockError

SANDBOX = {"id": "sb-brokenbroken", "tier": "container", "state": "running"}


class BrokenDaemon(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps(SANDBOX).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        start = b'{"type":"start","pid":7}\n'
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        # Promises more than it sends, then closes: the connection breaks mid-body.
        self.send_header("content-length", str(len(start) + 1000) if self.server.cut else str(len(start)))  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(start)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


class BrokenDaemonTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BrokenDaemon)
        self.server.cut = False  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def test_a_command_stream_that_ends_without_the_exit_is_a_lost_connection_naming_the_command(self) -> None:
        sbx = Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        with self.assertRaises(ConnectionLostError) as caught:
            sbx.commands.run("sleep 60", on_stdout=lambda _: None)
        self.assertEqual((caught.exception.details["pid"], caught.exception.details["sandboxId"]), (7, "sb-brokenbroken"))
        self.assertTrue(caught.exception.details["retryable"])
        sbx.close()

    def test_a_connection_cut_mid_stream_is_a_lost_connection_naming_the_command(self) -> None:
        self.server.cut = True  # type: ignore[attr-defined]
        sbx = Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        with self.assertRaises(ConnectionLostError) as caught:
            sbx.commands.run("sleep 60", on_stdout=lambda _: None)
        self.assertEqual(caught.exception.details["pid"], 7)
        sbx.close()

    def test_a_daemon_not_there_is_connection_failed(self) -> None:
        self.tearDown()
        with self.assertRaises(PaddockError) as caught:
            Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        self.assertEqual((caught.exception.code, caught.exception.status), ("connection_failed", 503))
        self.setUp()
