"""Requests as data: the route, its path filled in, and what goes with it."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable, Generator, Iterable, Mapping, Sequence
from typing import Any, TypeVar, Union
from urllib.parse import quote

from ._api_routes import Route

# What a query value may be; None leaves the parameter out.
QueryValue = Union[str, int, float, bool, Sequence[str], None]
Body = Union[bytes, Iterable[bytes], AsyncIterable[bytes]]

APPROVAL_ID_HEADER = "paddock-approval"
APPROVAL_WAIT_HEADER = "paddock-approval-wait"

# A command's request must outlive the command itself, and the wait for a person before it.
REQUEST_SLACK = 30.0


class Call:
    """One request. ``timeout``: seconds without an answer before the call fails; None: the client's default; 0: no limit."""

    def __init__(
        self,
        method: str,
        path: str,
        query: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        content: Body | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query or {}
        self.json = json
        self.content = content
        self.headers = headers or {}
        self.timeout = timeout


def call(route: Route, params: Mapping[str, str | int] | None = None, **spec: Any) -> Call:
    """A call of a route of the table, its path parameters filled in (each URL-encoded)."""
    method, template = route.split(" ", 1)
    values = params or {}
    path = re.sub(r"\{(\w+)\}", lambda m: quote(str(values[m.group(1)]), safe=""), template)
    return Call(method, path, **spec)


def query_params(query: Mapping[str, QueryValue]) -> list[tuple[str, str | int | float | bool | None]]:
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in query.items():
        if value is None:
            continue
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            out.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return out


def approval_headers(approval_id: str | None, approval_wait: float | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if approval_id:
        headers[APPROVAL_ID_HEADER] = approval_id
    if approval_wait:
        headers[APPROVAL_WAIT_HEADER] = str(int(approval_wait))
    return headers


def argv(cmd: str | Sequence[str], shell: bool | None) -> list[str]:
    """A string runs under /bin/sh -c (shell=False splits it instead); a list is the argv (shell=True runs it under sh)."""
    import shlex

    if isinstance(cmd, str):
        return shlex.split(cmd) if shell is False else ["/bin/sh", "-c", cmd]
    return ["/bin/sh", "-c", shlex.join(cmd)] if shell else list(cmd)


def ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def without_none(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


T = TypeVar("T")
# A follow or a download: iterate it; break out, or close it (contextlib.aclosing / closing), to stop it.
AsyncStream = AsyncGenerator[T, None]
Stream = Generator[T, None, None]
