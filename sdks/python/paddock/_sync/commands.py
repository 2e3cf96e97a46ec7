# Generated from paddock/_async/commands.py by scripts/unasync.py; do not edit.
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from .._call import REQUEST_SLACK, approval_headers, argv, call, ms, without_none
from .._errors import CommandExitError, CommandTimeoutError, ConnectionLostError, PaddockError, error_from_event
from .._output import BytesCallback, OutputCallbacks, OutputCollector, TextCallback
from .._types import CommandResult, Process
from ._background import Background, start_background
from ._client import ApiClient



class Commands:
    """Commands in a sandbox: run and wait, or start in the background."""

    def __init__(self, api: ApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    def run(
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
        result = self.run_allowing_failure(
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

    def run_allowing_failure(
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
            return cast(CommandResult, self._api.json(request))
        collector = OutputCollector(callbacks)
        exit: dict[str, Any] | None = None
        pid = -1
        try:
            for event in self._api.ndjson(request):
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

    def start(
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
    ) -> CommandHandle:
        """Starts a command in the background; output callbacks are fed from the background until it exits."""
        body = {"cmd": argv(cmd, shell), "env": env, "cwd": cwd, "user": user, "stdin": stdin, "timeoutMs": ms(timeout), "openStdin": open_stdin or None}
        request = call(
            "POST /v1/sandboxes/{id}/processes",
            {"id": self._sandbox_id},
            json=without_none(body),
            headers=approval_headers(approval_id, approval_wait),
            timeout=approval_wait + REQUEST_SLACK if approval_wait else None,
        )
        info = self._api.json(request)
        handle = CommandHandle(self._api, self._sandbox_id, info["pid"])
        callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        if callbacks.any():
            handle._follow_in_background(callbacks)
        return handle

    def connect(
        self,
        pid: int,
        *,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
        timeout: float | None = None,
    ) -> CommandHandle:
        """Joins a running (or finished) process, e.g. one started by another client."""
        self._api.json(call("GET /v1/sandboxes/{id}/processes/{pid}", {"id": self._sandbox_id, "pid": pid}, timeout=timeout))
        handle = CommandHandle(self._api, self._sandbox_id, pid)
        callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        if callbacks.any():
            handle._follow_in_background(callbacks)
        return handle

    def list(self, *, timeout: float | None = None) -> list[Process]:
        body = self._api.json(call("GET /v1/sandboxes/{id}/processes", {"id": self._sandbox_id}, timeout=timeout))
        return cast("list[Process]", body["processes"])

    def kill(self, pid: int, signal: str = "SIGKILL", *, timeout: float | None = None) -> None:
        self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/signal", {"id": self._sandbox_id, "pid": pid}, json={"signal": signal}, timeout=timeout))


class CommandHandle:
    """A background command."""

    def __init__(self, api: ApiClient, sandbox_id: str, pid: int) -> None:
        self._api = api
        self._sandbox_id = sandbox_id
        self.pid = pid
        self._collector = OutputCollector(OutputCallbacks())
        self._following: Background | None = None

    def __repr__(self) -> str:
        return f"CommandHandle(pid={self.pid})"

    @property
    def stdout(self) -> str:
        """Output received so far through follow()."""
        return self._collector.stdout

    @property
    def stderr(self) -> str:
        return self._collector.stderr

    def follow(
        self,
        *,
        on_stdout: TextCallback | None = None,
        on_stderr: TextCallback | None = None,
        on_stdout_bytes: BytesCallback | None = None,
        on_stderr_bytes: BytesCallback | None = None,
    ) -> None:
        """Streams output (from the start, as far as the daemon kept it) to the callbacks until the command exits."""
        self._collector.callbacks = OutputCallbacks(on_stdout, on_stderr, on_stdout_bytes, on_stderr_bytes)
        self._stream()

    def _follow_in_background(self, callbacks: OutputCallbacks) -> None:
        self._collector.callbacks = callbacks
        self._following = start_background(self._stream)

    def _stream(self) -> None:
        request = call("GET /v1/sandboxes/{id}/processes/{pid}/output", {"id": self._sandbox_id, "pid": self.pid}, query={"follow": True}, timeout=0)
        try:
            for event in self._api.ndjson(request):
                if event.get("type") in ("stdout", "stderr"):
                    self._collector.take(event["type"], event["data"])
        except PaddockError as err:
            raise naming(err, self._sandbox_id, self.pid) from None

    def wait(self, *, timeout: float | None = None) -> CommandResult:
        """Waits for the exit: CommandExitError, CommandTimeoutError as run(); with ``timeout``, a TimeoutError (wait_timeout) while it goes on."""
        params: dict[str, str | int] = {"id": self._sandbox_id, "pid": self.pid}
        if timeout:
            request = call("GET /v1/sandboxes/{id}/processes/{pid}/wait", params, query={"timeoutMs": ms(timeout)}, timeout=timeout + REQUEST_SLACK)
        else:
            request = call("GET /v1/sandboxes/{id}/processes/{pid}/wait", params, timeout=0)
        try:
            result = self._api.json(request)
        except PaddockError as err:
            raise naming(err, self._sandbox_id, self.pid) from None
        if self._following:
            # Output still on its way to the callbacks; its own errors are follow()'s to report.
            self._following.join()
        return checked(cast(CommandResult, result))

    def kill(self, signal: str = "SIGKILL", *, timeout: float | None = None) -> None:
        self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/signal", {"id": self._sandbox_id, "pid": self.pid}, json={"signal": signal}, timeout=timeout))

    def send_stdin(self, data: str, *, timeout: float | None = None) -> None:
        self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/stdin", {"id": self._sandbox_id, "pid": self.pid}, json={"data": data}, timeout=timeout))

    def close_stdin(self, *, timeout: float | None = None) -> None:
        self._api.json(call("POST /v1/sandboxes/{id}/processes/{pid}/stdin", {"id": self._sandbox_id, "pid": self.pid}, json={"eof": True}, timeout=timeout))


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


__all__ = ["Commands", "CommandHandle"]
