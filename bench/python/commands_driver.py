"""The Python half of `make bench`'s python section (bench/src/python-bench.ts).

    python3 commands_driver.py URL TOKEN SANDBOX_ID

Reads one word a line from stdin, `sync` or `async`, runs `commands.run(["true"])`
in the sandbox with that client and prints how long the call took (ms), timed
here as the TypeScript side times its own SDK's call. Both clients are
connected once, before the first line, as a program would hold them.
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
    print("ready", flush=True)
    for line in sys.stdin:
        way = line.strip()
        started = time.perf_counter()
        if way == "sync":
            sync_sandbox.commands.run(["true"])
        elif way == "async":
            loop.run_until_complete(async_sandbox.commands.run(["true"]))
        else:
            raise SystemExit(f"commands_driver: unknown way {way!r}")
        print(f"{(time.perf_counter() - started) * 1000:.3f}", flush=True)


if __name__ == "__main__":
    main()
