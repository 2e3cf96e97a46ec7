from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from .._call import call, without_none
from .._output import BytesCallback as DataCallback
from .._types import CommandResult

if TYPE_CHECKING:
    from .._attach import AttachedProcess
from ._client import AsyncApiClient


class AsyncPtyHandle:
    """An interactive terminal in the sandbox."""

    def __init__(self, pid: int, attached: AttachedProcess) -> None:
        self.pid = pid
        self._attached = attached

    def __repr__(self) -> str:
        return f"AsyncPtyHandle(pid={self.pid})"

    async def send_input(self, data: str | bytes) -> None:
        await self._attached.write(data)

    async def resize(self, cols: int, rows: int) -> None:
        await self._attached.resize(cols, rows)

    async def kill(self) -> None:
        await self._attached.signal("SIGKILL")

    async def wait(self) -> CommandResult:
        """The terminal program's exit (its output went to on_data)."""
        return cast(CommandResult, await self._attached.wait())

    async def disconnect(self) -> None:
        await self._attached.disconnect()

    async def __aenter__(self) -> AsyncPtyHandle:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()


class AsyncPty:
    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def create(
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
    ) -> AsyncPtyHandle:
        """Starts ``cmd`` (a login shell by default) on a terminal of cols x rows; its output goes to ``on_data``."""
        body = without_none({"cmd": list(cmd), "pty": {"cols": cols, "rows": rows}, "user": user, "cwd": cwd, "env": env})
        info = await self._api.json(call("POST /v1/sandboxes/{id}/processes", {"id": self._sandbox_id}, json=body, timeout=timeout))
        return await self.connect(info["pid"], on_data=on_data)

    async def connect(self, pid: int, *, on_data: DataCallback) -> AsyncPtyHandle:
        """Joins a terminal already running: the output the daemon kept comes first, then what follows."""
        target = call("GET /v1/sandboxes/{id}/processes/{pid}/attach", {"id": self._sandbox_id, "pid": pid})
        url, headers = self._api.socket_target(target.path)
        from .._attach import AttachedProcess

        return AsyncPtyHandle(pid, await AttachedProcess.open(url, headers, on_stdout=on_data))
