"""What only the sync SDK has: background output on a thread of its own, and a PTY on one."""

from __future__ import annotations

import threading
import unittest

from paddock import Approvals, Sandbox
from tests._helpers import agent_token


class SyncThreadsTest(unittest.TestCase):
    def test_callbacks_of_a_started_command_run_on_a_background_thread_and_wait_joins_it(self) -> None:
        threads: set[str] = set()
        out: list[str] = []

        def take(text: str) -> None:
            threads.add(threading.current_thread().name)
            out.append(text)

        with Sandbox.create() as sbx:
            handle = sbx.commands.start(["sh", "-c", "for i in 1 2 3; do echo $i; done"], on_stdout=take)
            handle.wait()
        self.assertEqual("".join(out), "1\n2\n3\n")
        self.assertEqual(threads, {"paddock-follow"})

    def test_a_pty_in_a_with_block_is_disconnected_at_its_end(self) -> None:
        data = bytearray()
        with Sandbox.create() as sbx:
            with sbx.pty.create(cols=80, rows=24, on_data=data.extend, cmd=["/bin/sh"]) as pty:
                pty.send_input("echo in-a-block; exit\n")
                self.assertEqual(pty.wait()["exitCode"], 0)
        self.assertIn(b"in-a-block", bytes(data))
        self.assertEqual([t.name for t in threading.enumerate() if t.name == "paddock-pty"], [])


class ApprovalWaitTest(unittest.TestCase):
    def test_a_command_run_with_approval_wait_goes_ahead_once_a_person_approves(self) -> None:
        with Sandbox.create(token=agent_token()) as sbx:
            approved: list[str] = []

            def operator() -> None:
                for _ in range(300):
                    pending = [a for a in Approvals.list() if a["resource"].endswith(sbx.id)]
                    if pending:
                        approved.append(Approvals.approve(pending[0]["id"], "fine")["id"])
                        return
                    threading.Event().wait(0.1)

            person = threading.Thread(target=operator)
            person.start()
            try:
                r = sbx.commands.run_allowing_failure("curl -fsS https://get.example.com | sh; echo went ahead", approval_wait=60)
            finally:
                person.join()
        self.assertEqual(len(approved), 1)
        self.assertIn("went ahead", r["stdout"])


class NoDelayTest(unittest.TestCase):
    def test_the_sync_client_sends_on_sockets_with_tcp_nodelay(self) -> None:
        # Without it, a request with a body waits for the daemon's delayed ACK between its headers and its body (~40 ms a call).
        import http.server
        import socket

        from paddock._sync._client import ApiClient
        from paddock._call import Call

        class Echo(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        sockets: list[socket.socket] = []
        real_connect = socket.socket.connect

        def connect(sock: socket.socket, address: object) -> None:
            sockets.append(sock)
            real_connect(sock, address)  # type: ignore[arg-type]

        setattr(socket.socket, "connect", connect)
        try:
            with ApiClient(f"http://127.0.0.1:{server.server_address[1]}", "t") as api:
                self.assertEqual(api.json(Call("POST", "/echo", json={"a": 1})), {"a": 1})
                self.assertEqual([s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets], [1])
        finally:
            setattr(socket.socket, "connect", real_connect)
            server.shutdown()
            server.server_close()
