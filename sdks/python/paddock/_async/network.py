from __future__ import annotations

from typing import cast

from .._call import call, without_none
from .._types import SandboxNetwork, SandboxNetworkConnectionsItem
from ._client import AsyncApiClient


class AsyncNetwork:
    """A sandbox's egress: the hosts it may reach (changeable while it runs) and what it tried to reach."""

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def get(self, *, timeout: float | None = None) -> SandboxNetwork:
        """Rules, secrets (names) and recent connections."""
        return cast(SandboxNetwork, await self._api.json(call("GET /v1/sandboxes/{id}/network", {"id": self._sandbox_id}, timeout=timeout)))

    async def update(self, *, allow: list[str] | None = None, deny: list[str] | None = None, timeout: float | None = None) -> SandboxNetwork:
        """Adds allowed and/or denied hosts; new connections follow at once. Returns the rules now in force."""
        request = call("PATCH /v1/sandboxes/{id}/network", {"id": self._sandbox_id}, json=without_none({"allow": allow, "deny": deny}), timeout=timeout)
        return cast(SandboxNetwork, await self._api.json(request))

    async def connections(self, *, timeout: float | None = None) -> list[SandboxNetworkConnectionsItem]:
        """Recent connections, allowed and refused, oldest first."""
        return (await self.get(timeout=timeout))["connections"]
