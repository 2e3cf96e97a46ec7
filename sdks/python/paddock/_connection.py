"""Where the daemon is and which token to show it, found as the CLI finds them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import NamedTuple

DEFAULT_URL = "http://127.0.0.1:7423"
DEFAULT_STATE_DIR = "/var/lib/paddock"


class Connection(NamedTuple):
    url: str
    token: str | None

    def __repr__(self) -> str:
        # Printed, a connection shows where it goes, never its token.
        return f"Connection(url={self.url!r})"


def resolve_connection(url: str | None = None, token: str | None = None, env: Mapping[str, str] | None = None) -> Connection:
    """What was given, then PADDOCK_URL/PADDOCK_TOKEN, then the local daemon's endpoint.json and token in PADDOCK_STATE_DIR (or /var/lib/paddock)."""
    env = os.environ if env is None else env
    url = url if url is not None else env.get("PADDOCK_URL") or None
    token = token if token is not None else env.get("PADDOCK_TOKEN") or None
    if url and token:
        return Connection(url, token)
    state_dir = env.get("PADDOCK_STATE_DIR") or DEFAULT_STATE_DIR
    local_url = _read_endpoint_url(state_dir)
    # The local daemon's token goes to the local daemon only, never to a server named elsewhere.
    local = url is None or (local_url is not None and url.rstrip("/") == local_url.rstrip("/"))
    if token is None and local:
        token = _read_token(state_dir)
    return Connection(url or local_url or DEFAULT_URL, token)


def _read_endpoint_url(state_dir: str) -> str | None:
    try:
        with open(os.path.join(state_dir, "endpoint.json"), encoding="utf-8") as f:
            value = json.load(f).get("url")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _read_token(state_dir: str) -> str | None:
    try:
        with open(os.path.join(state_dir, "token"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None
