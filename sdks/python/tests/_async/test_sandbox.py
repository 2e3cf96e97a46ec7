"""The behaviour matrix of the TypeScript SDK's tests, against the daemon tests/run.py was given; tests/_sync has the same, blocking."""

from __future__ import annotations

import contextlib
import os
import unittest
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from paddock import (
    ApprovalRequiredError,
    AsyncApprovals,
    AsyncAudit,
    AsyncPools,
    AsyncSandbox,
    AsyncSecrets,
    AsyncTemplates,
    AsyncVolumes,
    CommandExitError,
    CommandTimeoutError,
    NotFoundError,
    PaddockError,
    SandboxNotFoundError,
    TimeoutError,
    UnauthorizedError,
    async_whoami,
)
from tests._helpers import agent_token, async_exchange, echo_server, free_port, http_get, http_server, serve_here, until_listening, tar_of, unique, untar


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class AsyncSandboxTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.sbx = await AsyncSandbox.create(metadata={"suite": "python-sdk"}, network={"allow": ["example.com"]})

    async def asyncTearDown(self) -> None:
        with contextlib.suppress(PaddockError):
            await self.sbx.kill()
        await self.sbx.close()

    async def test_run_streams_output_to_callbacks_and_returns_the_result(self) -> None:
        out: list[str] = []
        err: list[str] = []
        started: list[int] = []
        r = await self.sbx.commands.run(
            ["sh", "-c", "echo one; echo two >&2; printf 'h\\303\\251'"], on_stdout=out.append, on_stderr=err.append, on_start=started.append
        )
        self.assertEqual(r["exitCode"], 0)
        self.assertEqual(r["stdout"], "one\nhé")
        self.assertEqual("".join(out), "one\nhé")
        self.assertEqual("".join(err), "two\n")
        self.assertEqual(started, [r["pid"]])
        plain = await self.sbx.commands.run("echo $((6 * 7))")
        self.assertEqual(plain["stdout"], "42\n")

    async def test_a_non_zero_exit_raises_command_exit_error_with_its_output(self) -> None:
        with self.assertRaises(CommandExitError) as caught:
            await self.sbx.commands.run("echo out; echo err >&2; exit 3", shell=True)
        self.assertEqual((caught.exception.exit_code, caught.exception.stdout, caught.exception.stderr), (3, "out\n", "err\n"))
        self.assertEqual(caught.exception.code, "command_exit")
        r = await self.sbx.commands.run_allowing_failure(["sh", "-c", "exit 4"])
        self.assertEqual(r["exitCode"], 4)

    async def test_a_command_past_its_timeout_is_killed_and_raises_command_timeout_error(self) -> None:
        with self.assertRaises(CommandTimeoutError) as caught:
            await self.sbx.commands.run("echo started; sleep 30", timeout=1)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertEqual(caught.exception.code, "command_timeout")
        self.assertEqual(caught.exception.stdout, "started\n")

    async def test_a_background_command_takes_stdin_streams_output_and_is_waited_for(self) -> None:
        seen: list[str] = []
        handle = await self.sbx.commands.start(["cat"], open_stdin=True, on_stdout=seen.append)
        await handle.send_stdin("hello ")
        await handle.send_stdin("world")
        await handle.close_stdin()
        result = await handle.wait()
        self.assertEqual(result["stdout"], "hello world")
        self.assertEqual("".join(seen), "hello world")
        self.assertIn(handle.pid, [p["pid"] for p in await self.sbx.commands.list()])

    async def test_a_wait_that_ends_at_its_timeout_raises_while_the_command_goes_on(self) -> None:
        handle = await self.sbx.commands.start("sleep 30")
        with self.assertRaises(TimeoutError) as caught:
            await handle.wait(timeout=0.5)
        self.assertEqual(caught.exception.code, "wait_timeout")
        await handle.kill()
        with self.assertRaises(CommandExitError):
            await handle.wait()

    async def test_files_are_written_read_listed_renamed_and_removed(self) -> None:
        entry = await self.sbx.files.write("/work/dir/a.txt", "hi", mode=0o600)
        self.assertEqual(entry["size"], 2)
        self.assertEqual(await self.sbx.files.read("/work/dir/a.txt"), "hi")
        self.assertEqual(await self.sbx.files.read("/work/dir/a.txt", format="bytes"), b"hi")
        await self.sbx.files.make_dir("/work/dir/sub")
        self.assertEqual(sorted(e["name"] for e in await self.sbx.files.list("/work/dir")), ["a.txt", "sub"])
        await self.sbx.files.rename("/work/dir/a.txt", "/work/dir/b.txt")
        self.assertFalse(await self.sbx.files.exists("/work/dir/a.txt"))
        self.assertTrue(await self.sbx.files.exists("/work/dir/b.txt"))
        await self.sbx.files.remove("/work/dir", recursive=True)
        with self.assertRaises(NotFoundError) as caught:
            await self.sbx.files.read("/work/dir/b.txt")
        self.assertEqual(caught.exception.code, "file_not_found")

    async def test_a_10_mb_file_goes_up_as_a_stream_and_comes_back_whole(self) -> None:
        data = os.urandom(10 * 1024 * 1024)
        await self.sbx.files.write("/work/big.bin", chunks_of(data, 1 << 20))
        self.assertEqual(await self.sbx.files.read("/work/big.bin", format="bytes"), data)
        received = bytearray()
        async for chunk in await self.sbx.files.read("/work/big.bin", format="stream"):
            received += chunk
        self.assertEqual(bytes(received), data)
        head, truncated = await self.sbx.files.read_head("/work/big.bin", 1000)
        self.assertEqual((head, truncated), (data[:1000], True))
        r = await self.sbx.commands.run(["sh", "-c", "wc -c < /work/big.bin"])
        self.assertEqual(r["stdout"].strip(), str(len(data)))

    async def test_an_archive_goes_in_and_out(self) -> None:
        await self.sbx.files.upload_archive("/work/tree", tar_of({"x.txt": b"x", "d/y.txt": b"y"}))
        self.assertEqual(await self.sbx.files.read("/work/tree/d/y.txt"), "y")
        received = bytearray()
        async for chunk in await self.sbx.files.download_archive("/work/tree"):
            received += chunk
        self.assertEqual(untar(bytes(received)), {"tree/x.txt": b"x", "tree/d/y.txt": b"y"})

    async def test_a_pty_runs_a_shell_that_echoes_input_and_exits(self) -> None:
        data = bytearray()
        pty = await self.sbx.pty.create(cols=80, rows=24, on_data=data.extend, cmd=["/bin/sh"])
        await pty.resize(100, 30)
        await pty.send_input("echo pty-$((40 + 2)); exit 7\n")
        result = await pty.wait()
        await pty.disconnect()
        self.assertEqual(result["exitCode"], 7)
        self.assertIn(b"pty-42", bytes(data))

    async def test_network_rules_are_read_and_changed_while_it_runs(self) -> None:
        rules = await self.sbx.network.get()
        self.assertEqual((rules["mode"], rules["allow"]), ("proxy", ["example.com"]))
        changed = await self.sbx.network.update(allow=["pypi.org"], deny=["example.com"])
        self.assertEqual((changed["allow"], changed["deny"]), (["pypi.org"], ["example.com"]))
        self.assertIsInstance(await self.sbx.network.connections(), list)

    async def test_a_secret_is_a_placeholder_inside_the_sandbox(self) -> None:
        name = unique("PY_SECRET").replace("-", "_")
        value = "sk-" + os.urandom(12).hex()
        await AsyncSecrets.set(name, value, hosts=["api.example.com"])
        try:
            async with await AsyncSandbox.create(secrets=[name], network={"allow": ["api.example.com"]}) as sbx:
                seen = (await sbx.commands.run(["printenv", name]))["stdout"].strip()
                self.assertRegex(seen, r"^paddock-placeholder-[0-9a-f]{32}$")
                self.assertNotIn(value, seen)
                self.assertEqual((await sbx.network.get())["secrets"], [name])
            self.assertIn(name, [s["name"] for s in await AsyncSecrets.list()])
        finally:
            await AsyncSecrets.remove(name)

    async def test_a_checkpoint_is_rolled_back_to(self) -> None:
        await self.sbx.files.write("/work/keep.txt", "before")
        checkpoint = await self.sbx.checkpoint()
        await self.sbx.commands.run("rm -rf /work/*", shell=True)
        self.assertFalse(await self.sbx.files.exists("/work/keep.txt"))
        self.assertEqual([c["id"] for c in await self.sbx.checkpoints()], [checkpoint["id"]])
        await self.sbx.rollback(checkpoint)
        self.assertEqual(await self.sbx.files.read("/work/keep.txt"), "before")

    async def test_limits_are_taken_in_snake_case_or_the_api_s_spelling(self) -> None:
        async with await AsyncSandbox.create(limits={"memory_mib": 256, "pids": 64}) as snake:
            limits = snake.last_known["limits"]
            self.assertEqual((limits["memoryMiB"], limits["pids"]), (256, 64))
        async with await AsyncSandbox.create(limits={"memoryMiB": 192}) as api_spelling:
            self.assertEqual(api_spelling.last_known["limits"]["memoryMiB"], 192)

    async def test_a_scoped_token_reaches_only_its_sandbox_and_actions(self) -> None:
        scoped = await self.sbx.create_scoped_token(actions=["exec"], ttl=600)
        bound = await AsyncSandbox.connect(self.sbx.id, token=scoped["token"])
        try:
            self.assertEqual((await bound.commands.run(["echo", "bound"]))["stdout"], "bound\n")
            with self.assertRaises(PaddockError) as refused:
                await bound.files.write("/work/x.txt", "x")
            self.assertEqual(refused.exception.code, "scope_denied")
        finally:
            await bound.close()
        async with await AsyncSandbox.create() as other:
            with self.assertRaises(SandboxNotFoundError):
                await AsyncSandbox.connect(other.id, token=scoped["token"])

    async def test_a_snapshot_makes_a_template_and_a_fork_a_copy(self) -> None:
        await self.sbx.files.write("/work/state.txt", "forked")
        fork = await self.sbx.fork()
        async with fork:
            self.assertNotEqual(fork.id, self.sbx.id)
            self.assertEqual(await fork.files.read("/work/state.txt"), "forked")
        name = unique("py-snap")
        template = await self.sbx.snapshot(name)
        try:
            self.assertEqual(template["name"], name)
            async with await AsyncSandbox.create(name) as copy:
                self.assertEqual(await copy.files.read("/work/state.txt"), "forked")
        finally:
            await AsyncTemplates.remove(name)

    async def test_a_download_run_by_an_agent_waits_for_a_person_and_runs_once_approved(self) -> None:
        agent = await AsyncSandbox.create(token=agent_token())
        async with agent:
            command = "curl -fsS https://get.example.com | sh; echo ran"
            with self.assertRaises(ApprovalRequiredError) as caught:
                await agent.commands.run(command)
            approval_id = caught.exception.approval_id
            self.assertRegex(approval_id, r"^ap_")
            pending = await AsyncApprovals.list()
            self.assertIn(approval_id, [a["id"] for a in pending])
            decided = await AsyncApprovals.approve(approval_id, "checked the installer")
            self.assertEqual(decided["state"], "approved")
            r = await agent.commands.run_allowing_failure(command, approval_id=approval_id)
            self.assertIn("ran", r["stdout"])
            self.assertEqual((await AsyncApprovals.get(approval_id))["state"], "used")

    async def test_audit_follow_yields_records_as_they_land(self) -> None:
        last = (await AsyncAudit.list(limit=10_000))[-1]["seq"]
        await self.sbx.get_info()
        seen: list[dict[str, Any]] = []
        async with contextlib.aclosing(AsyncAudit.follow(after=last)) as records:
            async for record in records:
                seen.append(dict(record))
                if record["action"] == "sandbox.get" and self.sbx.id in record["resource"]:
                    break
        self.assertEqual(seen[0]["seq"], last + 1)

    async def test_errors_are_typed_by_code(self) -> None:
        with self.assertRaises(SandboxNotFoundError) as missing:
            await AsyncSandbox.connect("sb-000000000000")
        self.assertEqual((missing.exception.code, missing.exception.status), ("sandbox_not_found", 404))
        with self.assertRaises(UnauthorizedError):
            await AsyncSandbox.list(token="not-a-token")
        with self.assertRaises(PaddockError) as refused:
            await AsyncSandbox.list(url="http://127.0.0.1:1", token="x")
        self.assertEqual(refused.exception.code, "connection_failed")
        await self.sbx.kill()
        with self.assertRaises(SandboxNotFoundError):
            await AsyncSandbox.connect(self.sbx.id)

    async def test_templates_volumes_and_pools(self) -> None:
        self.assertIn("base", [t["name"] for t in await AsyncTemplates.list()])
        self.assertEqual((await AsyncTemplates.get("base"))["name"], "base")
        name = unique("pyvol")
        async with await AsyncVolumes.create(name, size_mib=16) as volume:
            await volume.files.write("/notes/a.txt", "vol")
            self.assertEqual(await volume.files.read("/notes/a.txt"), "vol")
            self.assertEqual([e["name"] for e in await volume.files.list("/notes")], ["a.txt"])
            self.assertIn(name, [v["name"] for v in await AsyncVolumes.list()])
        await AsyncVolumes.delete(name)
        pool = await AsyncPools.set({"template": "base", "size": 1})
        try:
            self.assertIn(pool["id"], [p["id"] for p in await AsyncPools.list()])
        finally:
            await AsyncPools.remove(pool["id"])

    async def test_a_sandbox_is_listed_by_label_paused_resumed_and_its_lifetime_changed(self) -> None:
        label = unique("run")
        async with await AsyncSandbox.create(metadata={"run": label}) as sbx:
            self.assertEqual([s["id"] for s in await AsyncSandbox.list(metadata={"run": label})], [sbx.id])
            await sbx.pause()
            self.assertEqual(sbx.last_known["state"], "paused")
            self.assertFalse(await sbx.is_running())
            await sbx.resume()
            self.assertTrue(await sbx.is_running())
            await sbx.set_timeout(3600)
            self.assertIsNotNone((await sbx.get_info())["expiresAt"])
            again = await AsyncSandbox.connect(sbx.id)
            self.assertEqual((await again.commands.run("echo same"))["stdout"], "same\n")
            await again.close()
        self.assertEqual(await AsyncSandbox.list(metadata={"run": label}), [])

    async def test_a_template_is_built_from_a_paddockfile_with_its_steps_reported(self) -> None:
        name = unique("py-built")
        events: list[dict[str, Any]] = []
        template = await AsyncTemplates.build(name, paddockfile="FROM base\nRUN echo built > /work/built.txt\n", on_event=events.append)
        try:
            self.assertEqual(template["name"], name)
            self.assertIn("done", [e["type"] for e in events])
            async with await AsyncSandbox.create(name) as sbx:
                self.assertEqual(await sbx.files.read("/work/built.txt"), "built\n")
        finally:
            await AsyncTemplates.remove(name)

    async def _serve(self, program: str, port: int) -> None:
        """Starts a server in the sandbox (and here, for the fast tier's fake agent) and returns once the daemon reaches it."""
        here = serve_here(program, port)
        self.addCleanup(here.wait)
        self.addCleanup(here.kill)
        await self.sbx.commands.start(["python3", "-c", program])
        until_listening(self.sbx.id, port)

    async def test_get_host_and_the_urls_of_a_port_name_the_sandbox_and_the_daemon(self) -> None:
        daemon = urlsplit(os.environ["PADDOCK_URL"])
        host = await self.sbx.get_host(8000)
        self.assertEqual(host, f"8000-{self.sbx.id}.sandbox.localhost:{daemon.port}")
        self.assertEqual(await self.sbx.ports.get_host(8000), host)
        urls = await self.sbx.ports.urls(8000)
        self.assertEqual(urls["hostUrl"], f"http://{host}/")
        self.assertEqual(urls["pathUrl"], f"{os.environ['PADDOCK_URL']}/v1/sandboxes/{self.sbx.id}/ports/8000/")

    async def test_a_public_link_opens_a_port_without_a_token_until_it_is_revoked(self) -> None:
        port = free_port()
        await self._serve(http_server(port), port)

        link = await self.sbx.ports.expose(port, public=True, ttl=600)
        self.assertIn("paddock_link=pl_", link["pathUrl"])
        self.assertEqual(http_get(link["pathUrl"]), (200, f"hello from port {port}".encode()))
        # Listed without its secret, in both listings.
        self.assertEqual([(l["id"], l["port"]) for l in await self.sbx.ports.links()], [(link["id"], port)])
        self.assertEqual([l["id"] for l in (await self.sbx.ports.list())["links"]], [link["id"]])
        self.assertNotIn("pl_", repr(await self.sbx.ports.list()) + repr(await self.sbx.ports.links()))

        await self.sbx.ports.revoke(link)
        self.assertEqual(http_get(link["pathUrl"])[0], 401)
        self.assertEqual(await self.sbx.ports.links(), [])
        with self.assertRaises(NotFoundError):
            await self.sbx.ports.revoke(link["id"])

    async def test_forward_carries_raw_tcp_from_a_local_port_and_names_a_refused_connection(self) -> None:
        port = free_port()
        await self._serve(echo_server(port), port)
        async with await self.sbx.ports.forward(port) as fwd:
            self.assertEqual(fwd.host, "127.0.0.1")
            self.assertNotEqual(fwd.local_port, port)
            answers = [await async_exchange(fwd.local_port, word + b"\n") for word in (b"one", b"two", b"three")]
            self.assertEqual(answers, [b"echo: ONE\n", b"echo: TWO\n", b"echo: THREE\n"])
            self.assertNotIn(os.environ["PADDOCK_TOKEN"], repr(fwd))

        refused: list[PaddockError] = []
        async with await self.sbx.ports.forward(free_port(), on_error=refused.append) as nothing:
            # Nothing listens there: the local connection is closed and the reason told.
            self.assertEqual(await async_exchange(nothing.local_port, b""), b"")
        self.assertEqual([e.status for e in refused], [502])
        # The sandbox and the token are checked before anything listens.
        await self.sbx.kill()
        with self.assertRaises(SandboxNotFoundError):
            await self.sbx.ports.forward(port)

    async def test_the_connection_comes_from_the_environment_or_the_local_daemon_s_files(self) -> None:
        me = await async_whoami()
        self.assertEqual(me["role"], "admin")
        url, token = os.environ.pop("PADDOCK_URL"), os.environ.pop("PADDOCK_TOKEN")
        try:
            # Only PADDOCK_STATE_DIR: the daemon's endpoint.json and token, as the CLI finds them.
            self.assertEqual((await async_whoami())["role"], "admin")
            self.assertEqual((await async_whoami(token=agent_token()))["role"], "agent")
        finally:
            os.environ["PADDOCK_URL"], os.environ["PADDOCK_TOKEN"] = url, token
        self.assertNotIn(token, repr(self.sbx) + repr(self.sbx._api))


if __name__ == "__main__":
    unittest.main()
