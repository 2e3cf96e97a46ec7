"""Runs the suite and prints one JSON line per test (id, outcome, detail), for packages/sdk/src/python-sdk.test.ts.

    python3 tests/run.py --list            # the test ids
    python3 tests/run.py [--filter TEXT]…  # run (those whose id contains one TEXT); exit 1 if any failed
"""

from __future__ import annotations

import json
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tests(suite: unittest.TestSuite | unittest.TestCase) -> Iterator[unittest.TestCase]:
    if isinstance(suite, unittest.TestCase):
        yield suite
        return
    for item in suite:
        yield from tests(item)


class JsonLines(unittest.TestResult):
    def _emit(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        print(json.dumps({"id": test.id(), "outcome": outcome, "detail": detail}), flush=True)

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._emit(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: object) -> None:
        super().addFailure(test, err)  # type: ignore[arg-type]
        self._emit(test, "failed", self.failures[-1][1])

    def addError(self, test: unittest.TestCase, err: object) -> None:
        super().addError(test, err)  # type: ignore[arg-type]
        self._emit(test, "error", self.errors[-1][1])

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._emit(test, "skipped", reason)


def main() -> int:
    args = sys.argv[1:]
    found = list(tests(unittest.defaultTestLoader.discover(str(ROOT / "tests"), top_level_dir=str(ROOT))))
    if "--list" in args:
        for test in found:
            print(test.id())
        return 0
    wanted = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--filter"] or [""]
    result = JsonLines()
    unittest.TestSuite([t for t in found if any(w in t.id() for w in wanted)]).run(result)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
