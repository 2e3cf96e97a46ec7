"""How requests go out: httpx's default here (asyncio already sets TCP_NODELAY); the sync SDK's is written by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


def transport() -> httpx.AsyncBaseTransport | None:
    return None
