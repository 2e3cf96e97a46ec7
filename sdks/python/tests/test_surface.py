"""What needs no daemon: the error table, the two surfaces side by side, what printing shows."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import unittest

import paddock
from paddock import ERROR_CODES, CommandExitError, PaddockError
from paddock._errors import error_from_body

PAIRS = [
    ("Sandbox", "AsyncSandbox"),
    ("Commands", "AsyncCommands"),
    ("CommandHandle", "AsyncCommandHandle"),
    ("Files", "AsyncFiles"),
    ("Network", "AsyncNetwork"),
    ("Pty", "AsyncPty"),
    ("PtyHandle", "AsyncPtyHandle"),
    ("Approvals", "AsyncApprovals"),
    ("Audit", "AsyncAudit"),
    ("Secrets", "AsyncSecrets"),
    ("Pools", "AsyncPools"),
    ("Templates", "AsyncTemplates"),
    ("Volumes", "AsyncVolumes"),
    ("Volume", "AsyncVolume"),
    ("VolumeFiles", "AsyncVolumeFiles"),
    ("Gateway", "AsyncGateway"),
    ("Policies", "AsyncPolicies"),
    ("Registries", "AsyncRegistries"),
    ("Tenants", "AsyncTenants"),
    ("Tokens", "AsyncTokens"),
]


def public(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(cls).items() if callable(getattr(cls, name)) and not name.startswith("_")}


class SurfaceTest(unittest.TestCase):
    def test_every_class_of_the_error_table_is_exported_and_rebuilt_from_its_code(self) -> None:
        for code, (status, name) in ERROR_CODES.items():
            cls = getattr(paddock, name)
            self.assertTrue(issubclass(cls, PaddockError), name)
            err = error_from_body(status, {"error": {"code": code, "message": "m", "details": {"exitCode": 2}}})
            self.assertIs(type(err), cls, code)
            self.assertEqual((err.code, err.status, str(err)), (code, status, "m"))

    def test_a_command_exit_keeps_its_output_and_an_unknown_code_keeps_its_status(self) -> None:
        err = error_from_body(422, {"error": {"code": "command_exit", "message": "x", "details": {"exitCode": 3, "stdout": "o", "stderr": "e"}}})
        assert isinstance(err, CommandExitError)
        self.assertEqual((err.exit_code, err.stdout, err.stderr), (3, "o", "e"))
        newer = error_from_body(404, {"error": {"code": "from_a_newer_daemon", "message": "?"}})
        self.assertIsInstance(newer, paddock.NotFoundError)
        self.assertEqual(newer.code, "from_a_newer_daemon")
        self.assertEqual(error_from_body(502, "<html>bad gateway</html>").code, "http_502")

    def test_the_sync_and_async_classes_have_the_same_methods_with_the_same_parameters(self) -> None:
        for sync_name, async_name in PAIRS:
            sync, async_ = public(getattr(paddock, sync_name)), public(getattr(paddock, async_name))
            self.assertEqual(sorted(sync), sorted(async_), sync_name)
            for name in sync:
                self.assertEqual(list(sync[name].parameters), list(async_[name].parameters), f"{sync_name}.{name}")
        for name in ("whoami", "collect_garbage", "health"):
            self.assertEqual(list(inspect.signature(getattr(paddock, name)).parameters), list(inspect.signature(getattr(paddock, f"async_{name}")).parameters))

    def test_the_readme_s_parity_table_names_every_public_method(self) -> None:
        import re
        from pathlib import Path

        readme = Path(__file__).resolve().parent.parent / "README.md"
        table = readme.read_text().split("## Parity with `@paddock/sdk`", 1)[1]
        named = set(re.findall(r"\b[a-z_]+\b", table))
        missing = [f"{cls}.{name}" for cls, _ in PAIRS for name in public(getattr(paddock, cls)) if name not in named]
        self.assertEqual(missing, [])

    def test_printing_a_sandbox_client_or_connection_shows_no_token(self) -> None:
        conn = paddock.resolve_connection("http://127.0.0.1:9", "secret-token-value")
        from paddock._sync._client import ApiClient

        client = ApiClient("http://127.0.0.1:9", "secret-token-value")
        sbx = paddock.Sandbox(client, {"id": "sb-x", "tier": "container", "state": "running"})  # type: ignore[typeddict-item]
        for shown in (repr(conn), str(conn), repr(client), repr(sbx), str(sbx), repr(vars(sbx))):
            self.assertNotIn("secret-token-value", shown)
        client.close()

    def test_the_local_daemon_s_token_goes_to_the_local_daemon_only(self) -> None:
        import json
        import tempfile

        with tempfile.TemporaryDirectory() as state:
            with open(f"{state}/endpoint.json", "w") as f:
                json.dump({"url": "http://127.0.0.1:7423"}, f)
            with open(f"{state}/token", "w") as f:
                f.write("local-token\n")
            env = {"PADDOCK_STATE_DIR": state}
            self.assertEqual(paddock.resolve_connection(env=env), ("http://127.0.0.1:7423", "local-token"))
            self.assertEqual(paddock.resolve_connection("http://127.0.0.1:7423/", env=env).token, "local-token")
            self.assertEqual(paddock.resolve_connection("https://elsewhere.example", env=env), ("https://elsewhere.example", None))
            self.assertEqual(paddock.resolve_connection(env={**env, "PADDOCK_URL": "https://elsewhere.example"}).token, None)
            self.assertEqual(paddock.resolve_connection(env={**env, "PADDOCK_TOKEN": "mine"}), ("http://127.0.0.1:7423", "mine"))
        self.assertEqual(paddock.resolve_connection(env={"PADDOCK_STATE_DIR": "/nonexistent"}), ("http://127.0.0.1:7423", None))

    def test_importing_paddock_loads_no_http_library(self) -> None:
        code = "import sys, paddock; print(sorted(m for m in ('httpx', 'websockets', 'ssl') if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
        self.assertEqual(out.stdout.strip(), "[]")
