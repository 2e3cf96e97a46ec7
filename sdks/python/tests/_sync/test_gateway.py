# Generated from tests/_async/test_gateway.py by scripts/unasync.py; do not edit.
"""The gateway through the SDK: an MCP server (the daemon tests' fixture) in a sandbox, its tools listed, followed and called."""

from __future__ import annotations

import time
import contextlib
import unittest
from pathlib import Path

from paddock import Gateway, Templates, NotFoundError
from tests._helpers import tar_of, unique

FIXTURE = Path(__file__).resolve().parents[4] / "packages" / "daemon" / "src" / "testing" / "fixture-mcp-server.mjs"


class GatewayTest(unittest.TestCase):
    def test_a_server_is_added_its_tools_listed_followed_called_pinned_and_removed(self) -> None:
        template = unique("py-mcp")
        Templates.build(template, paddockfile="FROM base\nCOPY server.mjs /opt/fixture/server.mjs\n", context=tar_of({"server.mjs": FIXTURE.read_bytes()}))
        name = unique("pygw")
        try:
            added = Gateway.add(name, command=["node", "/opt/fixture/server.mjs"], manifest={"template": template, "tier": "container"})
            self.assertEqual(added["name"], name)
            server = Gateway.get(name)
            for _ in range(600):
                if server["state"] == "ready":
                    break
                time.sleep(0.1)
                server = Gateway.get(name)
            self.assertEqual(server["state"], "ready")
            self.assertIn(f"{name}__echo", [t["name"] for t in Gateway.tools()])
            with contextlib.closing(Gateway.follow_tools()) as updates:
                for update in updates:
                    self.assertIn(f"{name}__echo", [t["name"] for t in update["tools"]])
                    break
            result = Gateway.call_tool(f"{name}__echo", {"text": "through the gateway"})
            self.assertEqual(result["content"], [{"type": "text", "text": "through the gateway"}])
            self.assertEqual((Gateway.pin(name))["name"], name)
            self.assertIn(name, [s["name"] for s in Gateway.list()])
            self.assertIsInstance(Gateway.logs(name, lines=10), list)
            self.assertEqual((Gateway.manifest_schema())["type"], "object")
        finally:
            Gateway.remove(name)
            Templates.remove(template)
        with self.assertRaises(NotFoundError):
            Gateway.get(name)
