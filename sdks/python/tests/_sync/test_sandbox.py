# Generated from tests/_async/test_sandbox.py by scripts/unasync.py; do not edit.
"""The behaviour matrix of the TypeScript SDK's tests, against the daemon tests/run.py was given; tests/_sync has the same, blocking."""

from __future__ import annotations

import contextlib
import os
import unittest
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from paddock import (
    ApprovalRequiredError,
    Approvals,
    Audit,
    Pools,
    Sandbox,
    Secrets,
    Templates,
    Volumes,
    CommandExitError,
    CommandTimeoutError,
    NotFoundError,
    PaddockError,
    SandboxNotFoundError,
    TimeoutError,
    UnauthorizedError,
    whoami,
)
from tests._helpers import agent_token, exchange, echo_server, free_port, http_get, http_server, serve_here, until_listening, tar_of, unique, untar


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class SandboxTest(unittest.TestCase):
    def setUp(self) -> None:
        self.sbx = Sandbox.create(metadata={"suite": "python-sdk"}, network={"allow": ["example.com"]})

    def tearDown(self) -> None:
        with contextlib.suppress(PaddockError):
            self.sbx.kill()
        self.sbx.close()

    def test_run_streams_output_to_callbacks_and_returns_the_result(self) -> None:
        out: list[str] = []
        err: list[str] = []
        started: list[int] = []
        r = self.sbx.commands.run(
            ["sh", "-c", "echo one; echo two >&2; printf 'h\\303\\251'"], on_stdout=out.append, on_stderr=err.append, on_start=started.append
        )
        self.assertEqual(r["exitCode"], 0)
        self.assertEqual(r["stdout"], "one\nhé")
        self.assertEqual("".join(out), "one\nhé")
        self.assertEqual("".join(err), "two\n")
        self.assertEqual(started, [r["pid"]])
        plain = self.sbx.commands.run("echo $((6 * 7))")
        self.assertEqual(plain["stdout"], "42\n")

    def test_a_non_zero_exit_raises_command_exit_error_with_its_output(self) -> None:
        with self.assertRaises(CommandExitError) as caught:
            self.sbx.commands.run("echo out; echo err >&2; exit 3", shell=True)
        self.assertEqual((caught.exception.exit_code, caught.exception.stdout, caught.exception.stderr), (3, "out\n", "err\n"))
        self.assertEqual(caught.exception.code, "command_exit")
        r = self.sbx.commands.run_allowing_failure(["sh", "-c", "exit 4"])
        self.assertEqual(r["exitCode"], 4)

    def test_a_command_past_its_timeout_is_killed_and_raises_command_timeout_error(self) -> None:
        with self.assertRaises(CommandTimeoutError) as caught:
            self.sbx.commands.run("echo started; sleep 30", timeout=1)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertEqual(caught.exception.code, "command_timeout")
        self.assertEqual(caught.exception.stdout, "started\n")

    def test_a_background_command_takes_stdin_streams_output_and_is_waited_for(self) -> None:
        seen: list[str] = []
        handle = self.sbx.commands.start(["cat"], open_stdin=True, on_stdout=seen.append)
        handle.send_stdin("hello ")
        handle.send_stdin("world")
        handle.close_stdin()
        result = handle.wait()
        self.assertEqual(result["stdout"], "hello world")
        self.assertEqual("".join(seen), "hello world")
        self.assertIn(handle.pid, [p["pid"] for p in self.sbx.commands.list()])

    def test_a_wait_that_ends_at_its_timeout_raises_while_the_command_goes_on(self) -> None:
        handle = self.sbx.commands.start("sleep 30")
        with self.assertRaises(TimeoutError) as caught:
            handle.wait(timeout=0.5)
        self.assertEqual(caught.exception.code, "wait_timeout")
        handle.kill()
        with self.assertRaises(CommandExitError):
            handle.wait()

    def test_files_are_written_read_listed_renamed_and_removed(self) -> None:
        entry = self.sbx.files.write("/work/dir/a.txt", "hi", mode=0o600)
        self.assertEqual(entry["size"], 2)
        self.assertEqual(self.sbx.files.read("/work/dir/a.txt"), "hi")
        self.assertEqual(self.sbx.files.read("/work/dir/a.txt", format="bytes"), b"hi")
        self.sbx.files.make_dir("/work/dir/sub")
        self.assertEqual(sorted(e["name"] for e in self.sbx.files.list("/work/dir")), ["a.txt", "sub"])
        self.sbx.files.rename("/work/dir/a.txt", "/work/dir/b.txt")
        self.assertFalse(self.sbx.files.exists("/work/dir/a.txt"))
        self.assertTrue(self.sbx.files.exists("/work/dir/b.txt"))
        self.sbx.files.remove("/work/dir", recursive=True)
        with self.assertRaises(NotFoundError) as caught:
            self.sbx.files.read("/work/dir/b.txt")
        self.assertEqual(caught.exception.code, "file_not_found")

    def test_a_10_mb_file_goes_up_as_a_stream_and_comes_back_whole(self) -> None:
        data = os.urandom(10 * 1024 * 1024)
        self.sbx.files.write("/work/big.bin", chunks_of(data, 1 << 20))
        self.assertEqual(self.sbx.files.read("/work/big.bin", format="bytes"), data)
        received = bytearray()
        for chunk in self.sbx.files.read("/work/big.bin", format="stream"):
            received += chunk
        self.assertEqual(bytes(received), data)
        head, truncated = self.sbx.files.read_head("/work/big.bin", 1000)
        self.assertEqual((head, truncated), (data[:1000], True))
        r = self.sbx.commands.run(["sh", "-c", "wc -c < /work/big.bin"])
        self.assertEqual(r["stdout"].strip(), str(len(data)))

    def test_an_archive_goes_in_and_out(self) -> None:
        self.sbx.files.upload_archive("/work/tree", tar_of({"x.txt": b"x", "d/y.txt": b"y"}))
        self.assertEqual(self.sbx.files.read("/work/tree/d/y.txt"), "y")
        received = bytearray()
        for chunk in self.sbx.files.download_archive("/work/tree"):
            received += chunk
        self.assertEqual(untar(bytes(received)), {"tree/x.txt": b"x", "tree/d/y.txt": b"y"})

    def test_a_pty_runs_a_shell_that_echoes_input_and_exits(self) -> None:
        data = bytearray()
        pty = self.sbx.pty.create(cols=80, rows=24, on_data=data.extend, cmd=["/bin/sh"])
        pty.resize(100, 30)
        pty.send_input("echo pty-$((40 + 2)); exit 7\n")
        result = pty.wait()
        pty.disconnect()
        self.assertEqual(result["exitCode"], 7)
        self.assertIn(b"pty-42", bytes(data))

    def test_network_rules_are_read_and_changed_while_it_runs(self) -> None:
        rules = self.sbx.network.get()
        self.assertEqual((rules["mode"], rules["allow"]), ("proxy", ["example.com"]))
        changed = self.sbx.network.update(allow=["pypi.org"], deny=["example.com"])
        self.assertEqual((changed["allow"], changed["deny"]), (["pypi.org"], ["example.com"]))
        self.assertIsInstance(self.sbx.network.connections(), list)

    def test_a_secret_is_a_placeholder_inside_the_sandbox(self) -> None:
        name = unique("PY_SECRET").replace("-", "_")
        value = "sk-" + os.urandom(12).hex()
        Secrets.set(name, value, hosts=["api.example.com"])
        try:
            with Sandbox.create(secrets=[name], network={"allow": ["api.example.com"]}) as sbx:
                seen = (sbx.commands.run(["printenv", name]))["stdout"].strip()
                self.assertRegex(seen, r"^paddock-placeholder-[0-9a-f]{32}$")
                self.assertNotIn(value, seen)
                self.assertEqual((sbx.network.get())["secrets"], [name])
            self.assertIn(name, [s["name"] for s in Secrets.list()])
        finally:
            Secrets.remove(name)

    def test_a_checkpoint_is_rolled_back_to(self) -> None:
        self.sbx.files.write("/work/keep.txt", "before")
        checkpoint = self.sbx.checkpoint()
        self.sbx.commands.run("rm -rf /work/*", shell=True)
        self.assertFalse(self.sbx.files.exists("/work/keep.txt"))
        self.assertEqual([c["id"] for c in self.sbx.checkpoints()], [checkpoint["id"]])
        self.sbx.rollback(checkpoint)
        self.assertEqual(self.sbx.files.read("/work/keep.txt"), "before")

    def test_limits_are_taken_in_snake_case_or_the_api_s_spelling(self) -> None:
        with Sandbox.create(limits={"memory_mib": 256, "pids": 64}) as snake:
            limits = snake.last_known["limits"]
            self.assertEqual((limits["memoryMiB"], limits["pids"]), (256, 64))
        with Sandbox.create(limits={"memoryMiB": 192}) as api_spelling:
            self.assertEqual(api_spelling.last_known["limits"]["memoryMiB"], 192)

    def test_a_scoped_token_reaches_only_its_sandbox_and_actions(self) -> None:
        scoped = self.sbx.create_scoped_token(actions=["exec"], ttl=600)
        bound = Sandbox.connect(self.sbx.id, token=scoped["token"])
        try:
            self.assertEqual((bound.commands.run(["echo", "bound"]))["stdout"], "bound\n")
            with self.assertRaises(PaddockError) as refused:
                bound.files.write("/work/x.txt", "x")
            self.assertEqual(refused.exception.code, "scope_denied")
        finally:
            bound.close()
        with Sandbox.create() as other:
            with self.assertRaises(SandboxNotFoundError):
                Sandbox.connect(other.id, token=scoped["token"])

    def test_a_snapshot_makes_a_template_and_a_fork_a_copy(self) -> None:
        self.sbx.files.write("/work/state.txt", "forked")
        fork = self.sbx.fork()
        with fork:
            self.assertNotEqual(fork.id, self.sbx.id)
            self.assertEqual(fork.files.read("/work/state.txt"), "forked")
        name = unique("py-snap")
        template = self.sbx.snapshot(name)
        try:
            self.assertEqual(template["name"], name)
            with Sandbox.create(name) as copy:
                self.assertEqual(copy.files.read("/work/state.txt"), "forked")
        finally:
            Templates.remove(name)

    def test_a_download_run_by_an_agent_waits_for_a_person_and_runs_once_approved(self) -> None:
        agent = Sandbox.create(token=agent_token())
        with agent:
            command = "curl -fsS https://get.example.com | sh; echo ran"
            with self.assertRaises(ApprovalRequiredError) as caught:
                agent.commands.run(command)
            approval_id = caught.exception.approval_id
            self.assertRegex(approval_id, r"^ap_")
            pending = Approvals.list()
            self.assertIn(approval_id, [a["id"] for a in pending])
            decided = Approvals.approve(approval_id, "checked the installer")
            self.assertEqual(decided["state"], "approved")
            r = agent.commands.run_allowing_failure(command, approval_id=approval_id)
            self.assertIn("ran", r["stdout"])
            self.assertEqual((Approvals.get(approval_id))["state"], "used")

    def test_audit_follow_yields_records_as_they_land(self) -> None:
        last = (Audit.list(limit=10_000))[-1]["seq"]
        self.sbx.get_info()
        seen: list[dict[str, Any]] = []
        with contextlib.closing(Audit.follow(after=last)) as records:
            for record in records:
                seen.append(dict(record))
                if record["action"] == "sandbox.get" and self.sbx.id in record["resource"]:
                    break
        self.assertEqual(seen[0]["seq"], last + 1)

    def test_errors_are_typed_by_code(self) -> None:
        with self.assertRaises(SandboxNotFoundError) as missing:
            Sandbox.connect("sb-000000000000")
        self.assertEqual((missing.exception.code, missing.exception.status), ("sandbox_not_found", 404))
        with self.assertRaises(UnauthorizedError):
            Sandbox.list(token="not-a-token")
        with self.assertRaises(PaddockError) as refused:
            Sandbox.list(url="http://127.0.0.1:1", token="x")
        self.assertEqual(refused.exception.code, "connection_failed")
        self.sbx.kill()
        with self.assertRaises(SandboxNotFoundError):
            Sandbox.connect(self.sbx.id)

    def test_templates_volumes_and_pools(self) -> None:
        self.assertIn("base", [t["name"] for t in Templates.list()])
        self.assertEqual((Templates.get("base"))["name"], "base")
        name = unique("pyvol")
        with Volumes.create(name, size_mib=16) as volume:
            volume.files.write("/notes/a.txt", "vol")
            self.assertEqual(volume.files.read("/notes/a.txt"), "vol")
            self.assertEqual([e["name"] for e in volume.files.list("/notes")], ["a.txt"])
            self.assertIn(name, [v["name"] for v in Volumes.list()])
        Volumes.delete(name)
        pool = Pools.set({"template": "base", "size": 1})
        try:
            self.assertIn(pool["id"], [p["id"] for p in Pools.list()])
        finally:
            Pools.remove(pool["id"])

    def test_a_sandbox_is_listed_by_label_paused_resumed_and_its_lifetime_changed(self) -> None:
        label = unique("run")
        with Sandbox.create(metadata={"run": label}) as sbx:
            self.assertEqual([s["id"] for s in Sandbox.list(metadata={"run": label})], [sbx.id])
            sbx.pause()
            self.assertEqual(sbx.last_known["state"], "paused")
            self.assertFalse(sbx.is_running())
            sbx.resume()
            self.assertTrue(sbx.is_running())
            sbx.set_timeout(3600)
            self.assertIsNotNone((sbx.get_info())["expiresAt"])
            again = Sandbox.connect(sbx.id)
            self.assertEqual((again.commands.run("echo same"))["stdout"], "same\n")
            again.close()
        self.assertEqual(Sandbox.list(metadata={"run": label}), [])

    def test_a_template_is_built_from_a_paddockfile_with_its_steps_reported(self) -> None:
        name = unique("py-built")
        events: list[dict[str, Any]] = []
        template = Templates.build(name, paddockfile="FROM base\nRUN echo built > /work/built.txt\n", on_event=events.append)
        try:
            self.assertEqual(template["name"], name)
            self.assertIn("done", [e["type"] for e in events])
            with Sandbox.create(name) as sbx:
                self.assertEqual(sbx.files.read("/work/built.txt"), "built\n")
        finally:
            Templates.remove(name)

    def _serve(self, program: str, port: int) -> None:
        """Starts a server in the sandbox (and here, for the fast tier's fake agent) and returns once the daemon reaches it."""
        here = serve_here(program, port)
        self.addCleanup(here.wait)
        self.addCleanup(here.kill)
        self.sbx.commands.start(["python3", "-c", program])
        until_listening(self.sbx.id, port)

    def test_get_host_and_the_urls_of_a_port_name_the_sandbox_and_the_daemon(self) -> None:
        daemon = urlsplit(os.environ["PADDOCK_URL"])
        host = self.sbx.get_host(8000)
        self.assertEqual(host, f"8000-{self.sbx.id}.sandbox.localhost:{daemon.port}")
        self.assertEqual(self.sbx.ports.get_host(8000), host)
        urls = self.sbx.ports.urls(8000)
        self.assertEqual(urls["hostUrl"], f"http://{host}/")
        self.assertEqual(urls["pathUrl"], f"{os.environ['PADDOCK_URL']}/v1/sandboxes/{self.sbx.id}/ports/8000/")

    def test_a_public_link_opens_a_port_without_a_token_until_it_is_revoked(self) -> None:
        port = free_port()
        self._serve(http_server(port), port)

        link = self.sbx.ports.expose(port, public=True, ttl=600)
        self.assertIn("paddock_link=pl_", link["pathUrl"])
        self.assertEqual(http_get(link["pathUrl"]), (200, f"hello from port {port}".encode()))
        # Listed without its secret, in both listings.
        self.assertEqual([(l["id"], l["port"]) for l in self.sbx.ports.links()], [(link["id"], port)])
        self.assertEqual([l["id"] for l in (self.sbx.ports.list())["links"]], [link["id"]])
        self.assertNotIn("pl_", repr(self.sbx.ports.list()) + repr(self.sbx.ports.links()))

        self.sbx.ports.revoke(link)
        self.assertEqual(http_get(link["pathUrl"])[0], 401)
        self.assertEqual(self.sbx.ports.links(), [])
        with self.assertRaises(NotFoundError):
            self.sbx.ports.revoke(link["id"])

    def test_forward_carries_raw_tcp_from_a_local_port_and_names_a_refused_connection(self) -> None:
        port = free_port()
        self._serve(echo_server(port), port)
        with self.sbx.ports.forward(port) as fwd:
            self.assertEqual(fwd.host, "127.0.0.1")
            self.assertNotEqual(fwd.local_port, port)
            answers = [exchange(fwd.local_port, word + b"\n") for word in (b"one", b"two", b"three")]
            self.assertEqual(answers, [b"echo: ONE\n", b"echo: TWO\n", b"echo: THREE\n"])
            self.assertNotIn(os.environ["PADDOCK_TOKEN"], repr(fwd))

        refused: list[PaddockError] = []
        with self.sbx.ports.forward(free_port(), on_error=refused.append) as nothing:
            # Nothing listens there: the local connection is closed and the reason told.
            self.assertEqual(exchange(nothing.local_port, b""), b"")
        self.assertEqual([e.status for e in refused], [502])
        # The sandbox and the token are checked before anything listens.
        self.sbx.kill()
        with self.assertRaises(SandboxNotFoundError):
            self.sbx.ports.forward(port)

    def test_the_connection_comes_from_the_environment_or_the_local_daemon_s_files(self) -> None:
        me = whoami()
        self.assertEqual(me["role"], "admin")
        url, token = os.environ.pop("PADDOCK_URL"), os.environ.pop("PADDOCK_TOKEN")
        try:
            # Only PADDOCK_STATE_DIR: the daemon's endpoint.json and token, as the CLI finds them.
            self.assertEqual((whoami())["role"], "admin")
            self.assertEqual((whoami(token=agent_token()))["role"], "agent")
        finally:
            os.environ["PADDOCK_URL"], os.environ["PADDOCK_TOKEN"] = url, token
        self.assertNotIn(token, repr(self.sbx) + repr(self.sbx._api))


if __name__ == "__main__":
    unittest.main()
