"""What only the async SDK has: cancellation by asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import unittest

from paddock import AsyncAudit, AsyncSandbox, PaddockError


class AsyncCancellationTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.sbx = await AsyncSandbox.create()

    async def asyncTearDown(self) -> None:
        with contextlib.suppress(PaddockError):
            await self.sbx.kill()
        await self.sbx.close()

    async def test_a_cancelled_run_ends_with_cancelled_error_and_the_sandbox_goes_on(self) -> None:
        started = asyncio.Event()
        task = asyncio.ensure_future(self.sbx.commands.run("sleep 60", on_start=lambda _: started.set()))
        await started.wait()
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assertEqual((await self.sbx.commands.run("echo still here"))["stdout"], "still here\n")

    async def test_wait_for_bounds_a_call_by_cancelling_it(self) -> None:
        with self.assertRaises(asyncio.TimeoutError):
            await asyncio.wait_for(self.sbx.commands.run("sleep 60"), 0.5)

    async def test_a_follow_ends_when_its_task_is_cancelled(self) -> None:
        seen: list[int] = []

        async def follow() -> None:
            async for record in AsyncAudit.follow(since="1m"):
                seen.append(record["seq"])

        task = asyncio.ensure_future(follow())
        while not seen:
            await asyncio.sleep(0.05)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task


class AsyncLoopsTest(unittest.TestCase):
    def test_a_client_used_from_one_event_loop_after_another_works_in_each(self) -> None:
        sbx = asyncio.run(AsyncSandbox.create())
        try:
            for _ in range(2):
                self.assertEqual(asyncio.run(sbx.commands.run("echo hi"))["stdout"], "hi\n")
        finally:
            asyncio.run(sbx.kill())
            asyncio.run(sbx.close())
