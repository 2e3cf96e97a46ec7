"""Raw TCP to a port in a sandbox: a local listening socket whose every connection gets its own WebSocket to the
daemon's port-forward route, binary messages carrying the bytes both ways. Async; the sync SDK runs it on a thread of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import PaddockError, error_from_body

if TYPE_CHECKING:
    # Loaded when first used, as _background does: asyncio costs an import of paddock its ssl.
    import asyncio

    from websockets.legacy.client import WebSocketClientProtocol

ErrorCallback = Callable[[PaddockError], None]
_CHUNK = 64 * 1024


class Forwarder:
    def __init__(self, url: str, headers: dict[str, str], on_error: ErrorCallback | None) -> None:
        self._url = url
        self._headers = headers
        self._on_error = on_error
        self._server: asyncio.AbstractServer | None = None
        self._carrying: set[asyncio.Task[None]] = set()
        self.host = ""
        self.local_port = 0

    def __repr__(self) -> str:
        # Its headers hold the token: show where it listens, nothing else.
        return f"Forwarder(host={self.host!r}, local_port={self.local_port})"

    async def listen(self, host: str, port: int) -> None:
        import asyncio

        self._server = await asyncio.start_server(self._accept, host, port)
        self.host = host
        self.local_port = self._server.sockets[0].getsockname()[1]

    def connections(self) -> int:
        return len(self._carrying)

    async def close(self) -> None:
        """Stops listening and ends every connection."""
        import asyncio

        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._carrying):
            task.cancel()
        await asyncio.gather(*self._carrying, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import asyncio

        task = asyncio.current_task()
        assert task is not None
        self._carrying.add(task)
        try:
            socket = await self._open()
            if socket is not None:
                await self._relay(reader, writer, socket)
        finally:
            self._carrying.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _open(self) -> WebSocketClientProtocol | None:
        import asyncio
        import websockets
        from websockets.exceptions import InvalidStatusCode

        try:
            return await websockets.connect(self._url, extra_headers=self._headers, max_size=None)  # type: ignore[attr-defined, no-any-return]
        except InvalidStatusCode as err:
            # websockets keeps no body of a refused handshake: the error is the status's.
            self._report(error_from_body(err.status_code, None))
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as err:
            self._report(PaddockError("connection_failed", 503, str(err)))
        return None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, socket: WebSocketClientProtocol) -> None:
        import asyncio

        async def up() -> None:
            while chunk := await reader.read(_CHUNK):
                await socket.send(chunk)

        async def down() -> None:
            async for message in socket:
                # Text is not the stream's: the route sends its bytes as binary messages only.
                if isinstance(message, bytes):
                    writer.write(message)
                    await writer.drain()

        directions = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
        try:
            # Either side ending ends the connection, as the TypeScript SDK's pipelines do.
            await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for direction in directions:
                direction.cancel()
            await asyncio.gather(*directions, return_exceptions=True)
            await socket.close()

    def _report(self, err: PaddockError) -> None:
        if self._on_error is not None:
            self._on_error(err)
