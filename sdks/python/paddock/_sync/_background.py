"""Work that goes on while the caller does something else: a daemon thread (the async SDK uses a task)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    def __init__(self, work: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True, name="paddock-follow")
        self._thread.start()

    @staticmethod
    def _run(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            # Its error is the follow's to report; callbacks alone have no way to hear of it.
            pass

    def join(self) -> None:
        self._thread.join()


def start_background(work: Callable[[], None]) -> Background:
    return Background(work)
