"""How requests go out for the async SDK: on asyncio's own streams (paddock/_asyncio_transport.py), not httpcore's anyio."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


def transport() -> httpx.AsyncBaseTransport | None:
    from .._asyncio_transport import AsyncioTransport

    return AsyncioTransport()
