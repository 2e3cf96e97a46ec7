"""What only the sync SDK has: background output on a thread of its own, and a PTY on one."""

from __future__ import annotations

import threading
import unittest

from paddock import Sandbox


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
