"""A WebSocket joined to a process: stdin in, output out, resize and signals. Async; the sync PTY runs it on a thread of its own."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from ._errors import ConnectionLostError, PaddockError
from ._output import BytesCallback as DataCallback

if TYPE_CHECKING:
    from websockets.legacy.client import WebSocketClientProtocol


class AttachedProcess:
    def __init__(self, socket: WebSocketClientProtocol, on_stdout: DataCallback | None, on_stderr: DataCallback | None) -> None:
        self._socket = socket
        self._on_stdout = on_stdout
        self._on_stderr = on_stderr
        self._reader = asyncio.ensure_future(self._read())

    def __repr__(self) -> str:
        # The socket was opened with the token in its headers: show nothing of it.
        return "AttachedProcess()"

    @staticmethod
    async def open(url: str, headers: dict[str, str], on_stdout: DataCallback | None = None, on_stderr: DataCallback | None = None) -> AttachedProcess:
        import websockets
        from websockets.exceptions import InvalidStatusCode

        try:
            socket = await websockets.connect(url, extra_headers=headers, max_size=None)  # type: ignore[attr-defined]
        except InvalidStatusCode as err:
            raise PaddockError("attach_failed", err.status_code, f"attach failed with HTTP {err.status_code}") from err
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as err:
            raise PaddockError("attach_failed", 503, str(err)) from err
        return AttachedProcess(socket, on_stdout, on_stderr)

    async def _read(self) -> dict[str, Any]:
        import websockets

        exit: dict[str, Any] | None = None
        try:
            async for frame in self._socket:
                if isinstance(frame, bytes):
                    callback = self._on_stderr if frame[:1] == b"\x02" else self._on_stdout
                    if callback:
                        callback(frame[1:])
                    continue
                message = json.loads(frame)
                if isinstance(message, dict) and message.get("type") == "exit":
                    exit = message.get("result")
        except websockets.exceptions.ConnectionClosedError:
            pass
        if exit is not None:
            return exit
        # 1006: the daemon went away without closing; the process runs on and can be joined again.
        if self._socket.close_code == 1006:
            raise ConnectionLostError("the connection to Paddock was lost before the process exited")
        raise PaddockError("detached", 499, "connection to the process closed before it exited")

    async def write(self, data: str | bytes) -> None:
        await self._socket.send(data.encode() if isinstance(data, str) else data)

    async def resize(self, cols: int, rows: int) -> None:
        await self._control({"type": "resize", "cols": cols, "rows": rows})

    async def close_stdin(self) -> None:
        await self._control({"type": "eof"})

    async def signal(self, signal: str) -> None:
        await self._control({"type": "signal", "signal": signal})

    async def wait(self) -> dict[str, Any]:
        """The process's exit result, once it exits."""
        return await asyncio.shield(self._reader)

    async def disconnect(self) -> None:
        """Leaves the process running and closes the connection."""
        await self._socket.close()

    async def _control(self, message: dict[str, Any]) -> None:
        if self._socket.open:
            await self._socket.send(json.dumps(message))
