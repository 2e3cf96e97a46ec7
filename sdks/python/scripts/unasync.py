"""Writes paddock/_sync from paddock/_async: one source for both SDKs, so their surfaces cannot differ.

    python3 scripts/unasync.py          # rewrite paddock/_sync (and tests/_sync)
    python3 scripts/unasync.py --check  # exit 1 if a committed file differs from what it would write

Word-for-word rules: ``async def`` -> ``def``, ``await x`` -> ``x``, ``AsyncSandbox`` -> ``Sandbox``,
``aiter_bytes`` -> ``iter_bytes``, ``__aenter__`` -> ``__enter__`` ... Modules where the two differ in more
than words are written by hand on both sides and listed in HAND_WRITTEN.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [(ROOT / "paddock" / "_async", ROOT / "paddock" / "_sync"), (ROOT / "tests" / "_async", ROOT / "tests" / "_sync")]
HAND_WRITTEN = {"_background.py", "_transport.py", "port_forward.py", "pty.py"}
HEADER = "# Generated from {source} by scripts/unasync.py; do not edit.\n"

WORDS = {
    "aiter_bytes": "iter_bytes",
    "aiter_lines": "iter_lines",
    "aread": "read",
    "aclose": "close",
    "aclosing": "closing",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "IsolatedAsyncioTestCase": "TestCase",
    "asyncSetUp": "setUp",
    "asyncTearDown": "tearDown",
    "asyncio_run": "sync_run",
    "_async": "_sync",
    # Tests only: a pause between polls.
    "import asyncio": "import time",
    "asyncio.sleep": "time.sleep",
}


def unasync(text: str) -> str:
    text = re.sub(r"\basync (def|for|with)\b", r"\1", text)
    text = re.sub(r"\bawait ", "", text)
    text = re.sub(r"\b(?:Async|async_)(?=\w)", "", text)
    return re.sub(r"\b(" + "|".join(map(re.escape, WORDS)) + r")\b", lambda m: WORDS[m.group(1)], text)


def outputs() -> dict[Path, str]:
    out: dict[Path, str] = {}
    for source_dir, target_dir in PAIRS:
        for source in sorted(source_dir.glob("*.py")):
            if source.name in HAND_WRITTEN:
                continue
            relative = source.relative_to(ROOT).as_posix()
            out[target_dir / source.name] = HEADER.format(source=relative) + unasync(source.read_text())
    return out


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for target, text in outputs().items():
        if target.exists() and target.read_text() == text:
            continue
        stale.append(target.relative_to(ROOT).as_posix())
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if check and stale:
        print("out of date with their _async sources (run python3 scripts/unasync.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
