"""What the tests share: the daemon they were given (tests/run.py's environment) and small makers."""

from __future__ import annotations

import io
import os
import tarfile
import uuid


def agent_token() -> str:
    """A token of role agent, of a tenant of its own: the default policies ask a person before it runs a download."""
    return os.environ["PADDOCK_TEST_AGENT_TOKEN"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def untar(data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                f = tar.extractfile(member)
                out[member.name] = f.read() if f else b""
    return out
