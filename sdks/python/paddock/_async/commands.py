from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from .._call import REQUEST_SLACK, approval_headers, argv, call, ms, without_none
from .._errors import CommandExitError, CommandTimeoutError, ConnectionLostError, PaddockError, error_from_event
from .._output import BytesCallback, OutputCallbacks, OutputCollector, TextCallback
from .._types import CommandResult, Process
from ._background import AsyncBackground, start_background
from ._client import AsyncApiClient



class AsyncCommands:
    """Commands in a sandbox: run and wait, or start in the background."""

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def run(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        user: str | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
        on_start: Callable[[int], object] | None = None,
        approval_wait: float | None = None,
        approval_id: str | None = None,
    ) -> CommandResult:
        """Runs a command and waits: a non-zero exit raises CommandExitError, one killed at ``timeout`` CommandTimeoutError; both carry its output."""
        result = await self.run_allowing_failure(
            cmd,
            shell=shell,
            env=env,
            cwd=cwd,
            user=user,
            stdin=stdin,
            timeout=timeout,
            on_stdout=on_stdout,
            on_stderr=on_stderr,
            on_stdout_bytes=on_stdout_bytes,
            on_stderr_bytes=on_stderr_bytes,
            on_start=on_start,
            approval_wait=approval_wait,
            approval_id=approval_id,
        )
        return checked(result, timeout)

    async def run_allowing_failure(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        user: str | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
        on_start: Callable[[int], object] | None = None,
        approval_wait: float | None = None,
        approval_id: str | None = None,
    ) -> CommandResult:
        """Like run(), but returns non-zero exits and timeouts (``timedOut``) instead of raising."""
        request = call(
            "POST /v1/sandboxes/{id}/exec",
            {"id": self._sandbox_id},
            json=without_none({"cmd": argv(cmd, shell), "env": env, "cwd": cwd, "user": user, "stdin": stdin, "timeoutMs": ms(timeout)}),
            headers=approval_headers(approval_id, approval_wait),
            timeout=timeout + (approval_wait or 0) + REQUEST_SLACK if timeout else 0,
        )
        callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        if not callbacks.any() and not on_start:
            return cast(CommandResult, await self._api.json(request))
        collector = OutputCollector(callbacks)
        exit: dict[str, Any] | None = None
        pid = -1
        try:
            async for event in self._api.ndjson(request):
                kind = event.get("type")
                if kind == "start":
                    pid = event["pid"]
                    if on_start:
                        on_start(pid)
                elif kind == "exit":
                    exit = event["result"]
                elif kind == "error":
                    raise error_from_event(event.get("error"), 500)
                elif kind in ("stdout", "stderr"):
                    collector.take(kind, event["data"])
        except PaddockError as err:
            raise naming(err, self._sandbox_id, pid) from None
        if exit is None:
            # The stream ended without the exit: the daemon went away while the command kept running.
            raise naming(ConnectionLostError("the connection to Paddock closed before the command ended"), self._sandbox_id, pid)
        return cast(CommandResult, {**exit, "pid": exit.get("pid", pid), "stdout": collector.stdout, "stderr": collector.stderr})

    async def start(
        self,
        cmd: str | Sequence[str],
        *,
        shell: bool | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        user: str | None = None,
        stdin: str | None = None,
        timeout: float | None = None,
        open_stdin: bool = False,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
        approval_wait: float | None = None,
        approval_id: str | None = None,
    ) -> AsyncCommandHandle:
        """Starts a command in the background; output callbacks are fed from the background until it exits."""
        body = {"cmd": argv(cmd, shell), "env": env, "cwd": cwd, "user": user, "stdin": stdin, "timeoutMs": ms(timeout), "openStdin": open_stdin or None}
        request = call(
            "POST /v1/sandboxes/{id}/processes",
            {"id": self._sandbox_id},
            json=without_none(body),
            headers=approval_headers(approval_id, approval_wait),
            timeout=approval_wait + REQUEST_SLACK if approval_wait else None,
        )
        info = await self._api.json(request)
        handle = AsyncCommandHandle(self._api, self._sandbox_id, info["pid"])
        callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        if callbacks.any():
            handle._follow_in_background(callbacks)
        return handle

    async def connect(
        self,
        pid: int,
        *,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
        timeout: float | None = None,
    ) -> AsyncCommandHandle:
        """Joins a running (or finished) process, e.g. one started by another client."""
        await self._api.json(call("GET /v1/sandboxes/{id}/processes/{pid}", {"id": self._sandbox_id, "pid": pid}, timeout=timeout))
        handle = AsyncCommandHandle(self._api, self._sandbox_id, pid)
        callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        if callbacks.any():
            handle._follow_in_background(callbacks)
        return handle

    async def list(self, *, timeout: float | None = None) -> list[Process]:
        body = await self._api.json(call("GET /v1/sandboxes/{id}/processes", {"id": self._sandbox_id}, timeout=timeout))
        return cast("list[Process]", body["processes"])

    async def kill(self, pid: int, signal: str = "SIGKILL", *, timeout: float | None = None) -> None:
        await self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/signal", {"id": self._sandbox_id, "pid": pid}, json={"signal": signal}, timeout=timeout))


class AsyncCommandHandle:
    """A background command."""

    def __init__(self, api: AsyncApiClient, sandbox_id: str, pid: int) -> None:
        self._api = api
        self._sandbox_id = sandbox_id
        self.pid = pid
        self._collector = OutputCollector(OutputCallbacks())
        self._following: AsyncBackground | None = None

    def __repr__(self) -> str:
        return f"AsyncCommandHandle(pid={self.pid})"

    @property
    def stdout(self) -> str:
        """Output received so far through follow()."""
        return self._collector.stdout

    @property
    def stderr(self) -> str:
        return self._collector.stderr

    async def follow(
        self,
        *,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
    ) -> None:
        """Streams output (from the start, as far as the daemon kept it) to the callbacks until the command exits."""
        self._collector.callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        await self._stream()

    def _follow_in_background(self, callbacks: OutputCallbacks) -> None:
        self._collector.callbacks = callbacks
        self._following = start_background(self._stream)

    async def _stream(self) -> None:
        request = call("GET /v1/sandboxes/{id}/processes/{pid}/output", {"id": self._sandbox_id, "pid": self.pid}, query={"follow": True}, timeout=0)
        try:
            async for event in self._api.ndjson(request):
                if event.get("type") in ("stdout", "stderr"):
                    self._collector.take(event["type"], event["data"])
        except PaddockError as err:
            raise naming(err, self._sandbox_id, self.pid) from None

    async def wait(self, *, timeout: float | None = None) -> CommandResult:
        """Waits for the exit: CommandExitError, CommandTimeoutError as run(); with ``timeout``, a TimeoutError (wait_timeout) while it goes on."""
        params: dict[str, str | int] = {"id": self._sandbox_id, "pid": self.pid}
        if timeout:
            request = call("GET /v1/sandboxes/{id}/processes/{pid}/wait", params, query={"timeoutMs": ms(timeout)}, timeout=timeout + REQUEST_SLACK)
        else:
            request = call("GET /v1/sandboxes/{id}/processes/{pid}/wait", params, timeout=0)
        try:
            result = await self._api.json(request)
        except PaddockError as err:
            raise naming(err, self._sandbox_id, self.pid) from None
        if self._following:
            # Output still on its way to the callbacks; its own errors are follow()'s to report.
            await self._following.join()
        return checked(cast(CommandResult, result))

    async def kill(self, signal: str = "SIGKILL", *, timeout: float | None = None) -> None:
        await self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/signal", {"id": self._sandbox_id, "pid": self.pid}, json={"signal": signal}, timeout=timeout))

    async def send_stdin(self, data: str, *, timeout: float | None = None) -> None:
        await self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/stdin", {"id": self._sandbox_id, "pid": self.pid}, json={"data": data}, timeout=timeout))

    async def close_stdin(self, *, timeout: float | None = None) -> None:
        await self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/stdin", {"id": self._sandbox_id, "pid": self.pid}, json={"eof": True}, timeout=timeout))


def checked(result: CommandResult, timeout: float | None = None) -> CommandResult:
    if result.get("timedOut"):
        raise CommandTimeoutError(dict(result), timeout)
    if result.get("exitCode") != 0:
        raise CommandExitError(dict(result))
    return result


def naming(err: PaddockError, sandbox_id: str, pid: int) -> PaddockError:
    """A lost connection names the command, so the caller can join it again by pid."""
    if err.code != "connection_lost" or pid < 0:
        return err
    return ConnectionLostError(err.message, {**err.details, "sandboxId": sandbox_id, "pid": pid})


__all__ = ["AsyncCommands", "AsyncCommandHandle"]
