"""How requests go out, for the sync SDK: sockets with TCP_NODELAY.

httpx writes a request's headers and its body apart; on a socket with Nagle's algorithm on (the blocking
default, unlike asyncio's), the body then waits for the daemon's delayed ACK, ~40 ms per call with a body.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

_NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def transport() -> httpx.BaseTransport | None:
    import httpx

    # httpx 0.24 and later take socket options; a dict of them type-checks against both.
    options: dict[str, Any] = {"socket_options": [_NO_DELAY]}
    try:
        return httpx.HTTPTransport(**options)
    except TypeError:
        return _no_delay_transport()


def _no_delay_transport() -> httpx.BaseTransport:
    """httpx 0.23 (Debian 12's): its transport over a connection pool whose sockets are made with TCP_NODELAY."""
    import httpcore
    import httpx
    from httpcore.backends.sync import SyncBackend

    class NoDelayBackend(SyncBackend):
        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            stream = super().connect_tcp(*args, **kwargs)
            stream.get_extra_info("socket").setsockopt(*_NO_DELAY)
            return stream

    http = httpx.HTTPTransport()
    # The pool is the transport's own attribute (httpx 0.18 to 0.23); the rest of the transport stays as it is.
    http._pool = httpcore.ConnectionPool(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0, network_backend=NoDelayBackend())
    return http
