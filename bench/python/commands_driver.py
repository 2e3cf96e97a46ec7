"""The Python half of `make bench`'s python section (bench/src/python-bench.ts).

    python3 commands_driver.py URL TOKEN SANDBOX_ID

Reads one word a line from stdin, `sync` or `async`, runs `commands.run(["true"])`
in the sandbox with that client and prints how long the call took (ms), timed
here as the TypeScript side times its own SDK's call: the async one inside the
running event loop, as an async program awaits it (not the loop's own start and
stop around it, which `run_until_complete` adds to every call here, ~0.1 ms).
Both clients are connected once, before the first line, as a program would
hold them.
"""

from __future__ import annotations

import asyncio
import sys
import time

from paddock import AsyncSandbox, Sandbox


def main() -> None:
    url, token, sandbox_id = sys.argv[1:4]
    sync_sandbox = Sandbox.connect(sandbox_id, url=url, token=token)
    loop = asyncio.new_event_loop()
    async_sandbox = loop.run_until_complete(AsyncSandbox.connect(sandbox_id, url=url, token=token))

    async def timed_async_run() -> float:
        started = time.perf_counter()
        await async_sandbox.commands.run(["true"])
        return time.perf_counter() - started

    print("ready", flush=True)
    for line in sys.stdin:
        way = line.strip()
        if way == "sync":
            started = time.perf_counter()
            sync_sandbox.commands.run(["true"])
            took = time.perf_counter() - started
        elif way == "async":
            took = loop.run_until_complete(timed_async_run())
        else:
            raise SystemExit(f"commands_driver: unknown way {way!r}")
        print(f"{took * 1000:.3f}", flush=True)


if __name__ == "__main__":
    main()
