"""The gateway through the SDK: an MCP server (the daemon tests' fixture) in a sandbox, its tools listed, followed and called."""

from __future__ import annotations

import asyncio
import contextlib
import unittest
from pathlib import Path

from paddock import AsyncGateway, AsyncTemplates, NotFoundError
from tests._helpers import tar_of, unique

FIXTURE = Path(__file__).resolve().parents[4] / "packages" / "daemon" / "src" / "testing" / "fixture-mcp-server.mjs"


class AsyncGatewayTest(unittest.IsolatedAsyncioTestCase):
    async def test_a_server_is_added_its_tools_listed_followed_called_pinned_and_removed(self) -> None:
        template = unique("py-mcp")
        await AsyncTemplates.build(template, paddockfile="FROM base\nCOPY server.mjs /opt/fixture/server.mjs\n", context=tar_of({"server.mjs": FIXTURE.read_bytes()}))
        name = unique("pygw")
        try:
            added = await AsyncGateway.add(name, command=["node", "/opt/fixture/server.mjs"], manifest={"template": template, "tier": "container"})
            self.assertEqual(added["name"], name)
            server = await AsyncGateway.get(name)
            for _ in range(600):
                if server["state"] == "ready":
                    break
                await asyncio.sleep(0.1)
                server = await AsyncGateway.get(name)
            self.assertEqual(server["state"], "ready")
            self.assertIn(f"{name}__echo", [t["name"] for t in await AsyncGateway.tools()])
            async with contextlib.aclosing(AsyncGateway.follow_tools()) as updates:
                async for update in updates:
                    self.assertIn(f"{name}__echo", [t["name"] for t in update["tools"]])
                    break
            result = await AsyncGateway.call_tool(f"{name}__echo", {"text": "through the gateway"})
            self.assertEqual(result["content"], [{"type": "text", "text": "through the gateway"}])
            self.assertEqual((await AsyncGateway.pin(name))["name"], name)
            self.assertIn(name, [s["name"] for s in await AsyncGateway.list()])
            self.assertIsInstance(await AsyncGateway.logs(name, lines=10), list)
            self.assertEqual((await AsyncGateway.manifest_schema())["type"], "object")
        finally:
            await AsyncGateway.remove(name)
            await AsyncTemplates.remove(template)
        with self.assertRaises(NotFoundError):
            await AsyncGateway.get(name)
