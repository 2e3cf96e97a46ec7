"""A local port carried to a port in a sandbox, for the sync SDK, written by hand: the listening socket and its
connections run on an event loop of their own thread (``paddock-forward``), as a PTY's WebSocket does. ``on_error`` is called from that thread."""

from __future__ import annotations

from .._forward import ErrorCallback, Forwarder
from .pty import _LoopThread


class PortForward:
    """Listening on ``host``:``local_port``; each connection is carried to the sandbox's port until ``close()``."""

    def __init__(self, forwarder: Forwarder, loop: _LoopThread) -> None:
        self._forwarder = forwarder
        self._loop = loop
        self.host = forwarder.host
        self.local_port = forwarder.local_port

    def __repr__(self) -> str:
        return f"PortForward(host={self.host!r}, local_port={self.local_port})"

    def connections(self) -> int:
        """Connections carried now."""
        return self._forwarder.connections()

    def close(self) -> None:
        """Stops listening and ends every connection."""
        try:
            self._loop.run(self._forwarder.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> PortForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_port_forward(url: str, headers: dict[str, str], host: str, local_port: int, on_error: ErrorCallback | None) -> PortForward:
    forwarder = Forwarder(url, headers, on_error)
    loop = _LoopThread("paddock-forward")
    try:
        loop.run(forwarder.listen(host, local_port))
    except BaseException:
        loop.stop()
        raise
    return PortForward(forwarder, loop)
