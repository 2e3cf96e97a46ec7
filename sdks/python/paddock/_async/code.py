from __future__ import annotations

import builtins
from typing import Literal, cast

from .._call import call, ms, without_none
from .._types import CodeContext, CodeRunResult
from ._client import AsyncApiClient

# A cell's request outlives the cell, and a kernel starting for it.
REQUEST_SLACK = 120.0


class AsyncCode:
    """Code contexts: stateful kernels (Python) that run cells and return rich results (charts as PNG, DataFrames as tables).

        r = await sbx.code.run("x = 41\\nx + 1")          # r["results"][0]["text"] == "42"
        ctx = await sbx.code.create_context(cwd="/tmp")
        await sbx.code.run("import os; os.getcwd()", context=ctx)
    """

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def run(
        self,
        code: str,
        *,
        context: CodeContext | str | None = None,
        language: Literal["python"] | None = None,
        timeout: float | None = None,
    ) -> CodeRunResult:
        """Runs a cell and waits for it; ``timeout`` (seconds) interrupts the cell, the kernel keeping its state (``timedOut``)."""
        body = without_none({"code": code, "contextId": _id_of(context) if context is not None else None, "language": language, "timeoutMs": ms(timeout)})
        request = call("POST /v1/sandboxes/{id}/code/run", {"id": self._sandbox_id}, json=body, timeout=(timeout or 300.0) + REQUEST_SLACK)
        return cast(CodeRunResult, await self._api.json(request))

    async def create_context(
        self, *, language: Literal["python"] | None = None, cwd: str | None = None, env: dict[str, str] | None = None, timeout: float | None = None
    ) -> CodeContext:
        """A context of its own (separate variables), with its own working directory and environment."""
        body = without_none({"language": language, "cwd": cwd, "env": env})
        request = call("POST /v1/sandboxes/{id}/code/contexts", {"id": self._sandbox_id}, json=body, timeout=timeout or REQUEST_SLACK)
        return cast(CodeContext, await self._api.json(request))

    async def list_contexts(self, *, timeout: float | None = None) -> builtins.list[CodeContext]:
        body = await self._api.json(call("GET /v1/sandboxes/{id}/code/contexts", {"id": self._sandbox_id}, timeout=timeout))
        return cast("builtins.list[CodeContext]", body["contexts"])

    async def restart_context(self, context: CodeContext | str, *, timeout: float | None = None) -> CodeContext:
        """A fresh kernel (its state is lost); brings back a context whose kernel died."""
        params = {"id": self._sandbox_id, "contextId": _id_of(context)}
        request = call("POST /v1/sandboxes/{id}/code/contexts/{contextId}/restart", params, timeout=timeout or REQUEST_SLACK)
        return cast(CodeContext, await self._api.json(request))

    async def interrupt_context(self, context: CodeContext | str, *, timeout: float | None = None) -> CodeContext:
        """Interrupts the running cell; the kernel keeps its state."""
        params = {"id": self._sandbox_id, "contextId": _id_of(context)}
        return cast(CodeContext, await self._api.json(call("POST /v1/sandboxes/{id}/code/contexts/{contextId}/interrupt", params, timeout=timeout)))

    async def delete_context(self, context: CodeContext | str, *, timeout: float | None = None) -> None:
        params = {"id": self._sandbox_id, "contextId": _id_of(context)}
        await self._api.json(call("DELETE /v1/sandboxes/{id}/code/contexts/{contextId}", params, timeout=timeout))


def _id_of(context: CodeContext | str) -> str:
    return context if isinstance(context, str) else context["id"]
