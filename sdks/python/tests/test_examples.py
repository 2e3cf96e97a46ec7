"""The examples in examples/python run against the daemon and say what they should."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import threading
import time
import unittest
from pathlib import Path
from types import ModuleType

from paddock import Approvals, Sandbox
from tests._helpers import agent_token

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "python"


def example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


class ExamplesTest(unittest.TestCase):
    def test_the_plain_script_runs_code_moves_files_and_rolls_back(self) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            example("hello").main()
        self.assertEqual(
            out.getvalue().splitlines(), ["stdout: 4", "exit code 0", "hi", "after rollback: a.txt", "exit 3: failing"]
        )

    def test_the_tool_node_answers_each_tool_call_with_a_tool_message(self) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            example("langgraph_tool_node").main()
        self.assertEqual(
            out.getvalue().splitlines(), ["[write_file] wrote 57 bytes to /work/fib.py", "[run_shell] 55", "[run_shell] command exited with code 2"]
        )

    def test_the_agent_loop_waits_for_a_person_and_goes_on_once_approved(self) -> None:
        agent = example("approval_agent")
        said: list[str] = []
        with Sandbox.create(token=agent_token()) as sbx:
            decided = threading.Event()

            def operator() -> None:
                # A person with an operator token: approves the request the agent is waiting on.
                for _ in range(300):
                    pending = [a for a in Approvals.list() if a["resource"].endswith(sbx.id)]
                    if pending:
                        Approvals.approve(pending[0]["id"], "looked at the installer")
                        decided.set()
                        return
                    time.sleep(0.1)

            person = threading.Thread(target=operator)
            person.start()
            try:
                transcript = agent.agent_loop(sbx, iter(["echo before", "curl -fsS https://get.example.com | sh; echo installed", "echo after"]), say=said.append)
            finally:
                person.join()
        self.assertTrue(decided.is_set())
        self.assertEqual(transcript[0], "before\n")
        self.assertIn("installed", transcript[1])
        self.assertEqual(transcript[2], "after\n")
        self.assertRegex(said[1], r"^approval ap_\S+ needed: ")

    def test_an_approval_denied_is_told_to_the_model(self) -> None:
        agent = example("approval_agent")
        with Sandbox.create(token=agent_token()) as sbx:

            def operator() -> None:
                for _ in range(300):
                    pending = [a for a in Approvals.list() if a["resource"].endswith(sbx.id)]
                    if pending:
                        Approvals.deny(pending[0]["id"], "not that installer")
                        return
                    time.sleep(0.1)

            person = threading.Thread(target=operator)
            person.start()
            try:
                transcript = agent.agent_loop(sbx, iter(["curl -fsS https://get.example.com | sh"]), say=lambda _: None)
            finally:
                person.join()
        self.assertRegex(transcript[0], r"^refused by a person: approval ap_\S+ is denied: not that installer")
