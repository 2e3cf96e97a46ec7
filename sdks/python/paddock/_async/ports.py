from __future__ import annotations

import builtins
from typing import Literal, cast

from .._call import call, ms
from .._forward import ErrorCallback
from .._types import PortLink, PortLinkCreated, PortList
from ._client import AsyncApiClient
from .port_forward import AsyncPortForward, open_port_forward


class AsyncPorts:
    """Servers inside a sandbox, reached through the daemon: by a token that may read the sandbox (as the SDK sends it), or by a public link.

        ports = (await sbx.ports.list())["ports"]            # what listens, with URLs
        link = await sbx.ports.expose(8000, public=True, ttl=3600)
        await sbx.ports.revoke(link["id"])
    """

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def list(self, *, timeout: float | None = None) -> PortList:
        """Ports something listens on inside the sandbox now (with their URLs), and the public links that still work."""
        return cast(PortList, await self._api.json(call("GET /v1/sandboxes/{id}/ports", {"id": self._sandbox_id}, timeout=timeout)))

    async def expose(self, port: int, *, public: Literal[True], ttl: float | None = None, timeout: float | None = None) -> PortLinkCreated:
        """A public link to a port for ``ttl`` seconds (default 1 h, at most 30 days): anyone holding its URLs opens the port, shown this once."""
        # ``public`` must be said: a port is private otherwise, and a link opens it to whoever holds it.
        body: dict[str, object] = {"port": port}
        if ttl is not None:
            body["ttlMs"] = ms(ttl)
        request = call("POST /v1/sandboxes/{id}/port-links", {"id": self._sandbox_id}, json=body, timeout=timeout)
        return cast(PortLinkCreated, await self._api.json(request))

    async def links(self, *, timeout: float | None = None) -> builtins.list[PortLink]:
        """The public links that still work (without their secrets)."""
        body = await self._api.json(call("GET /v1/sandboxes/{id}/port-links", {"id": self._sandbox_id}, timeout=timeout))
        return cast("builtins.list[PortLink]", body["links"])

    async def revoke(self, link: PortLinkCreated | str, *, timeout: float | None = None) -> None:
        """Revokes a public link: it opens nothing from now on."""
        link_id = link if isinstance(link, str) else link["id"]
        await self._api.json(call("DELETE /v1/sandboxes/{id}/port-links/{link}", {"id": self._sandbox_id, "link": link_id}, timeout=timeout))

    async def urls(self, port: int, *, timeout: float | None = None) -> dict[str, str]:
        """Both URLs of a port (``hostUrl``, ``pathUrl``), whether or not anything listens on it yet."""
        patterns = (await self.list(timeout=timeout))["urlPatterns"]
        return {"hostUrl": patterns["host"].replace("<port>", str(port)), "pathUrl": patterns["path"].replace("<port>", str(port))}

    async def get_host(self, port: int, *, timeout: float | None = None) -> str:
        """``<port>-<sandbox>.<domain>:<daemon port>``: the host a port is reached at (its URL is http://<host>/)."""
        return (await self.list(timeout=timeout))["hostPattern"].replace("<port>", str(port))

    async def forward(
        self,
        remote_port: int,
        *,
        local_port: int = 0,
        host: str = "127.0.0.1",
        on_error: ErrorCallback | None = None,
        timeout: float | None = None,
    ) -> AsyncPortForward:
        """Raw TCP, like kubectl port-forward: a local port (a free one unless ``local_port``) whose every connection is carried to
        ``remote_port`` on the sandbox's loopback. ``on_error`` hears of a connection that could not be carried; ``close()`` stops it.

            async with await sbx.ports.forward(5432, local_port=15432) as fwd:
                ...  # psql -h 127.0.0.1 -p 15432
        """
        # The sandbox and the token are checked once up front: each connection would otherwise fail alone, later.
        await self.list(timeout=timeout)
        target = call("GET /v1/sandboxes/{id}/port-forward/{port}", {"id": self._sandbox_id, "port": remote_port})
        url, headers = self._api.socket_target(target.path)
        return await open_port_forward(url, headers, host, local_port, on_error)
