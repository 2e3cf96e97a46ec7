# Generated from tests/_async/test_broken_daemon.py by scripts/unasync.py; do not edit.
"""A daemon that goes away mid-call (a stand-in server on a thread): the error says so, and names the command to join again."""

from __future__ import annotations

import http.server
import json
import threading
import time
import unittest

from paddock import Sandbox, ConnectionLostError, PaddockError

SANDBOX = {"id": "sb-brokenbroken", "tier": "container", "state": "running"}


class BrokenDaemon(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        body = json.dumps(SANDBOX).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # As a daemon does with a connection left idle past its keep-alive time: closed, without a word.
        self.close_connection = self.server.close_after_answer  # type: ignore[attr-defined]

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
        self.server.close_after_answer = False  # type: ignore[attr-defined]
        self.server.connections = 0  # type: ignore[attr-defined]
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

    def test_calls_one_after_another_share_one_connection(self) -> None:
        sbx = Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        for _ in range(5):
            self.assertEqual((sbx.get_info())["id"], "sb-brokenbroken")
        self.assertEqual(self.server.connections, 1)  # type: ignore[attr-defined]
        sbx.close()

    def test_a_connection_the_daemon_closed_while_idle_is_not_used_again(self) -> None:
        self.server.close_after_answer = True  # type: ignore[attr-defined]
        sbx = Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        for _ in range(3):
            # The program is busy meanwhile (the event loop too): the close is seen only when the next call starts.
            time.sleep(0.2)
            self.assertEqual((sbx.get_info())["id"], "sb-brokenbroken")
        self.assertEqual(self.server.connections, 4)  # type: ignore[attr-defined]
        sbx.close()

    def test_a_daemon_not_there_is_connection_failed(self) -> None:
        self.tearDown()
        with self.assertRaises(PaddockError) as caught:
            Sandbox.connect("sb-brokenbroken", url=self.url, token="t")
        self.assertEqual((caught.exception.code, caught.exception.status), ("connection_failed", 503))
        self.setUp()
