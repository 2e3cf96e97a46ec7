"""The package builds into a wheel and installs without a package index, with Debian's setuptools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class PackagingTest(unittest.TestCase):
    def test_a_wheel_is_built_offline_holds_every_module_and_py_typed_and_installs_into_a_venv(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            # A copy: setuptools builds in the tree, and the checkout may not be writable.
            source = Path(tmp) / "src"
            shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns("__pycache__", ".mypy_cache", "build", "dist", "*.egg-info"))
            pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
            subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", f"{tmp}/dist", str(source)], check=True, capture_output=True)
            (wheel,) = Path(tmp, "dist").glob("paddock-*.whl")
            names = set(zipfile.ZipFile(wheel).namelist())
            modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "paddock").rglob("*.py")}
            self.assertEqual(sorted(modules - names), [])
            self.assertIn("paddock/py.typed", names)
            # The installed copy, not the tree the suite runs from.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", f"{tmp}/venv"], check=True, capture_output=True)
            subprocess.run([f"{tmp}/venv/bin/python", "-m", "pip", "install", "--no-index", "--no-deps", str(wheel)], check=True, capture_output=True, env=env)
            where = subprocess.run([f"{tmp}/venv/bin/python", "-c", "import paddock; print(paddock.__file__)"], cwd=tmp, check=True, capture_output=True, text=True, env=env)
            self.assertTrue(where.stdout.startswith(f"{tmp}/venv/"), where.stdout)
