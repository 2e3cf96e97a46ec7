"""Work that goes on while the caller does something else: an asyncio task here, a thread in the sync SDK (written by hand, not generated)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Loaded when first used: asyncio costs an import of paddock ~70 ms, and a program that never starts a command in the background never needs it here.
    import asyncio


class AsyncBackground:
    def __init__(self, task: asyncio.Task[None]) -> None:
        self._task = task
        # Its error is for whoever joins it; nobody may: never "exception was never retrieved".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def join(self) -> None:
        """Waits for it to end; its error, if any, is not raised here (the follow that failed reports it)."""
        import asyncio

        await asyncio.gather(self._task, return_exceptions=True)


def start_background(work: Callable[[], Awaitable[None]]) -> AsyncBackground:
    import asyncio

    async def run() -> None:
        await work()

    return AsyncBackground(asyncio.ensure_future(run()))
