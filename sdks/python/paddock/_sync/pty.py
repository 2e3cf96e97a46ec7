"""The sync PTY, written by hand: a terminal is two-way at once, so its WebSocket runs on an event loop of its own thread.
``on_data`` is called from that thread."""

from __future__ import annotations

import threading
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .._call import call, without_none
from .._output import BytesCallback as DataCallback
from .._types import CommandResult

if TYPE_CHECKING:
    from .._attach import AttachedProcess
from ._client import ApiClient

T = TypeVar("T")


class _LoopThread:
    def __init__(self, name: str = "paddock-pty") -> None:
        import asyncio

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=name)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        import asyncio

        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class PtyHandle:
    """An interactive terminal in the sandbox."""

    def __init__(self, pid: int, attached: AttachedProcess, loop: _LoopThread) -> None:
        self.pid = pid
        self._attached = attached
        self._loop = loop

    def __repr__(self) -> str:
        return f"PtyHandle(pid={self.pid})"

    def send_input(self, data: str | bytes) -> None:
        self._loop.run(self._attached.write(data))

    def resize(self, cols: int, rows: int) -> None:
        self._loop.run(self._attached.resize(cols, rows))

    def kill(self) -> None:
        self._loop.run(self._attached.signal("SIGKILL"))

    def wait(self) -> CommandResult:
        """The terminal program's exit (its output went to on_data)."""
        return cast(CommandResult, self._loop.run(self._attached.wait()))

    def disconnect(self) -> None:
        try:
            self._loop.run(self._attached.disconnect())
        finally:
            self._loop.stop()

    def __enter__(self) -> PtyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()


class Pty:
    def __init__(self, api: ApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    def create(
        self,
        *,
        cols: int,
        rows: int,
        on_data: DataCallback,
        cmd: Sequence[str] = ("/bin/bash", "-l"),
        user: str | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> PtyHandle:
        """Starts ``cmd`` (a login shell by default) on a terminal of cols x rows; its output goes to ``on_data``."""
        body = without_none({"cmd": list(cmd), "pty": {"cols": cols, "rows": rows}, "user": user, "cwd": cwd, "env": env})
        info = self._api.json(call("POST /v1/sandboxes/{id}/processes", {"id": self._sandbox_id}, json=body, timeout=timeout))
        return self.connect(info["pid"], on_data=on_data)

    def connect(self, pid: int, *, on_data: DataCallback) -> PtyHandle:
        """Joins a terminal already running: the output the daemon kept comes first, then what follows."""
        target = call("GET /v1/sandboxes/{id}/processes/{pid}/attach", {"id": self._sandbox_id, "pid": pid})
        url, headers = self._api.socket_target(target.path)
        from .._attach import AttachedProcess

        loop = _LoopThread()
        try:
            attached = loop.run(AttachedProcess.open(url, headers, on_stdout=on_data))
        except BaseException:
            loop.stop()
            raise
        return PtyHandle(pid, attached, loop)
