"""A local port carried to a port in a sandbox: the asyncio side (the sync SDK's, written by hand, runs it on a thread)."""

from __future__ import annotations

from .._forward import ErrorCallback, Forwarder


class AsyncPortForward:
    """Listening on ``host``:``local_port``; each connection is carried to the sandbox's port until ``close()``."""

    def __init__(self, forwarder: Forwarder) -> None:
        self._forwarder = forwarder
        self.host = forwarder.host
        self.local_port = forwarder.local_port

    def __repr__(self) -> str:
        return f"AsyncPortForward(host={self.host!r}, local_port={self.local_port})"

    def connections(self) -> int:
        """Connections carried now."""
        return self._forwarder.connections()

    async def close(self) -> None:
        """Stops listening and ends every connection."""
        await self._forwarder.close()

    async def __aenter__(self) -> AsyncPortForward:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_port_forward(url: str, headers: dict[str, str], host: str, local_port: int, on_error: ErrorCallback | None) -> AsyncPortForward:
    forwarder = Forwarder(url, headers, on_error)
    await forwarder.listen(host, local_port)
    return AsyncPortForward(forwarder)
