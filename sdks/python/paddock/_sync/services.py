# Generated from paddock/_async/services.py by scripts/unasync.py; do not edit.
"""What is not one sandbox's: approvals, audit, secrets, pools, templates, volumes, the gateway, policies,
registries, tenants and tokens. Each call takes ``url``/``token`` (else PADDOCK_URL/PADDOCK_TOKEN or the
local daemon's) and ``timeout`` in seconds."""

from __future__ import annotations

import base64
import builtins
from collections.abc import Iterable, Iterator, Callable
from typing import Any, Literal, cast, overload

from .._call import REQUEST_SLACK, Stream, Call, approval_headers, call, without_none
from .._errors import PaddockError, error_from_event
from .._types import (
    Approval,
    AuditRecord,
    FileEntry,
    GatewayManifestInput,
    GatewayServer,
    GatewayTool,
    GatewayToolResult,
    Pool,
    PoolSet,
    PolicyTestRequest,
    RegistryLogin,
    Secret,
    Template,
    Tenant,
    TenantCreate,
    TenantUpdate,
    Token,
    TokenCreate,
    Volume as VolumeInfo,
)
from ._client import ApiClient
from .files import _chunks, read_body, read_head

ApprovalState = Literal["pending", "approved", "denied", "expired", "used", "cancelled", "all"]


def _json(request: Call, url: str | None, token: str | None) -> Any:
    with ApiClient(url, token) as api:
        return api.json(request)


def _follow(request: Call, url: str | None, token: str | None) -> Stream[Any]:
    with ApiClient(url, token) as api:
        for item in api.ndjson(request):
            yield item


class Approvals:
    """Requests a policy asked a person about. Agents meet them as ApprovalRequiredError (``approval_id``);
    an operator of the tenant approves or denies."""

    @staticmethod
    def list(*, state: ApprovalState | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Approval]:
        """Newest first (operator tokens and up); pending ones unless ``state`` says otherwise."""
        return cast("builtins.list[Approval]", (_json(call("GET /v1/approvals", query={"state": state}, timeout=timeout), url, token))["approvals"])

    @staticmethod
    def get(id: str, *, wait: float | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Approval:
        """One approval; with ``wait``, up to that many seconds (at most 600) for a decision."""
        seconds = timeout if timeout is not None else (wait + REQUEST_SLACK if wait else None)
        query = {"wait": int(wait) if wait else None}
        return cast(Approval, _json(call("GET /v1/approvals/{id}", {"id": id}, query=query, timeout=seconds), url, token))

    @staticmethod
    def approve(id: str, reason: str, *, self: bool = False, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Approval:
        """Lets the request run once; ConflictError (approval_decided) if no longer pending. ``self=True`` approves a request
        of your own owner, where the daemon allows self-approval."""
        body: dict[str, Any] = {"reason": reason, "self": True} if self else {"reason": reason}
        return cast(Approval, _json(call("POST /v1/approvals/{id}/approve", {"id": id}, json=body, timeout=timeout), url, token))

    @staticmethod
    def deny(id: str, reason: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Approval:
        return cast(Approval, _json(call("POST /v1/approvals/{id}/deny", {"id": id}, json={"reason": reason}, timeout=timeout), url, token))

    @staticmethod
    def cancel(id: str, *, reason: str | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Approval:
        """Withdraws a pending request of this token's; a request waiting on it ends with ApprovalDeniedError."""
        body = {"reason": reason} if reason else {}
        return cast(Approval, _json(call("POST /v1/approvals/{id}/cancel", {"id": id}, json=body, timeout=timeout), url, token))

    @staticmethod
    def follow(*, state: ApprovalState | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Stream[Approval]:
        """The matching approvals, then each new or changed one, until the loop stops (break out of it, or close it).
        No timeout unless given: the stream is meant to stay open."""
        return _follow(call("GET /v1/approvals", query={"state": state, "follow": True}, timeout=timeout or 0), url, token)


class Audit:
    """The tamper-evident audit log: every API call, who made it and how it ended, chained by hashes."""

    @staticmethod
    def list(
        *, after: int | None = None, since: str | None = None, limit: int | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> builtins.list[AuditRecord]:
        """Records in seq order; page with ``after=last["seq"]``. ``since``: ISO time or 30s, 15m, 1h, 7d."""
        request = call("GET /v1/audit", query={"after": after, "since": since, "limit": limit}, timeout=timeout)
        return cast("builtins.list[AuditRecord]", (_json(request, url, token))["records"])

    @staticmethod
    def follow(
        *, after: int | None = None, since: str | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> Stream[AuditRecord]:
        """The matching records, then each new one as it lands, until the loop stops (break out of it, or close it)."""
        return _follow(call("GET /v1/audit", query={"after": after, "since": since, "follow": True}, timeout=timeout or 0), url, token)

    @staticmethod
    def verify(*, anchors: str | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Checks the hash chain against the signed heads and anchor log (admin), and ``anchors`` (JSON lines) if given."""
        if anchors is None:
            return cast("dict[str, Any]", _json(call("GET /v1/audit/verify", timeout=timeout), url, token))
        return cast("dict[str, Any]", _json(call("POST /v1/audit/verify", json={"anchors": anchors}, timeout=timeout), url, token))


class Events:
    """The daemon's live events (server-sent events): sandbox, metrics, approval, audit and stats, each as the API
    would show them to this token. The first event, ``ready``, names the topics granted and refused."""

    @staticmethod
    def subscribe(
        *, topics: builtins.list[str] | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> Stream[dict[str, Any]]:
        """Each event as ``{"event": name, "data": ...}`` until the loop stops; ends when the daemon ends the stream
        (it stops, or dropped a client that read too slowly): subscribe again. No timeout unless given."""
        request = call("GET /v1/events", query={"topics": ",".join(topics) if topics else None}, timeout=timeout or 0)
        with ApiClient(url, token) as api:
            for event in api.sse(request):
                yield event


class Stats:
    """The daemon's statistics: one sample per 10 s over the last 30 minutes, of the caller's tenant (all of them for an admin)."""

    @staticmethod
    def history(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[dict[str, Any]]:
        return cast("builtins.list[dict[str, Any]]", (_json(call("GET /v1/stats", timeout=timeout), url, token))["history"])


class Secrets:
    """Secrets a sandbox uses without seeing them: it holds a placeholder; the egress proxy puts the value into requests to the secret's hosts only."""

    @staticmethod
    def set(name: str, value: str, *, hosts: builtins.list[str], url: str | None = None, token: str | None = None, timeout: float | None = None) -> Secret:
        return cast(Secret, _json(call("PUT /v1/secrets/{name}", {"name": name}, json={"value": value, "hosts": hosts}, timeout=timeout), url, token))

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Secret]:
        return cast("builtins.list[Secret]", (_json(call("GET /v1/secrets", timeout=timeout), url, token))["secrets"])

    @staticmethod
    def remove(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        _json(call("DELETE /v1/secrets/{name}", {"name": name}, timeout=timeout), url, token)


class Pools:
    """Warm pools (operator tokens and up): sandboxes made in advance, so a matching create starts in milliseconds."""

    @staticmethod
    def set(pool: PoolSet, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Pool:
        return cast(Pool, _json(call("POST /v1/pools", json=pool, timeout=timeout), url, token))

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Pool]:
        return cast("builtins.list[Pool]", (_json(call("GET /v1/pools", timeout=timeout), url, token))["pools"])

    @staticmethod
    def remove(id: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        _json(call("DELETE /v1/pools/{id}", {"id": id}, timeout=timeout or 0), url, token)




def _until_done(events: Iterator[Any], on_event: Callable[[dict[str, Any]], object] | None) -> Template:
    for event in events:
        if on_event:
            on_event(event)
        if event.get("type") == "done":
            return cast(Template, event["template"])
        if event.get("type") == "error":
            raise error_from_event(event.get("error"), 400)
    raise PaddockError("build_interrupted", 502, "the build stream ended without a result")


class Templates:
    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Template]:
        return cast("builtins.list[Template]", (_json(call("GET /v1/templates", timeout=timeout), url, token))["templates"])

    @staticmethod
    def get(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Template:
        return cast(Template, _json(call("GET /v1/templates/{name}", {"name": name}, timeout=timeout), url, token))

    @staticmethod
    def remove(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        _json(call("DELETE /v1/templates/{name}", {"name": name}, timeout=timeout), url, token)

    @staticmethod
    def build(
        name: str,
        *,
        paddockfile: str | None = None,
        dockerfile: str | None = None,
        from_image: str | None = None,
        parent: str | None = None,
        context: bytes | None = None,
        build_args: dict[str, str] | None = None,
        allow: builtins.list[str] | None = None,
        secrets: builtins.list[str] | None = None,
        no_cache: bool = False,
        on_event: Callable[[dict[str, Any]], object] | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Template:
        """Builds a template from a Paddockfile, a Dockerfile (``context``: a tar for COPY/ADD) or an OCI image
        reference (``from_image``), reporting each step and log line through ``on_event``. ``parent``: the template
        a file without FROM builds on (default base)."""
        if from_image is not None:
            request = call("POST /v1/templates/pull", json={"name": name, "image": from_image}, timeout=timeout or 0)
        else:
            body = {
                "name": name,
                "from": parent,
                "paddockfile": paddockfile,
                "dockerfile": dockerfile,
                "context": base64.b64encode(context).decode() if context is not None else None,
                "buildArgs": build_args,
                "allow": allow,
                "secrets": secrets,
                "noCache": no_cache or None,
            }
            request = call("POST /v1/templates", json=without_none(body), timeout=timeout or 0)
        with ApiClient(url, token) as api:
            return _until_done(api.ndjson(request), on_event)

    @staticmethod
    def prepare(
        name: str,
        *,
        on_event: Callable[[dict[str, Any]], object] | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Template:
        """Makes a template ready: one the daemon carries (code-interpreter, desktop) is built now if it is not yet,
        its steps reported through ``on_event`` as a build's."""
        request = call("POST /v1/templates/{name}/prepare", {"name": name}, timeout=timeout or 0)
        with ApiClient(url, token) as api:
            return _until_done(api.ndjson(request), on_event)

    @staticmethod
    def import_archive(
        name: str,
        archive: bytes | Iterable[bytes],
        *,
        on_event: Callable[[dict[str, Any]], object] | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Template:
        """Makes a template from a ``docker save`` or OCI layout archive, uploaded as a stream (TypeScript: ``import``)."""
        request = call("POST /v1/templates/import", query={"name": name}, content=archive, headers={"content-type": "application/x-tar"}, timeout=timeout or 0)
        with ApiClient(url, token) as api:
            return _until_done(api.ndjson(request), on_event)


class VolumeFiles:
    """A volume's files, reached without a sandbox. Symlinks in a path are refused, never followed."""

    def __init__(self, api: ApiClient, name: str) -> None:
        self._api = api
        self._name = name

    @overload
    def read(self, path: str, *, format: Literal["text"] = "text", timeout: float | None = None) -> str: ...
    @overload
    def read(self, path: str, *, format: Literal["bytes"], timeout: float | None = None) -> bytes: ...
    @overload
    def read(self, path: str, *, format: Literal["stream"], timeout: float | None = None) -> Stream[bytes]: ...
    def read(self, path: str, *, format: str = "text", timeout: float | None = None) -> str | bytes | Stream[bytes]:
        request = call("GET /v1/volumes/{name}/files", {"name": self._name}, query={"path": path}, timeout=timeout if timeout is not None or format != "stream" else 0)
        return read_body(self._api, request, format)

    def read_head(self, path: str, max_bytes: int, *, timeout: float | None = None) -> tuple[bytes, bool]:
        return read_head(self.read(path, format="stream", timeout=timeout), max_bytes)

    def write(self, path: str, data: str | bytes | Iterable[bytes], *, mode: int | None = None, timeout: float | None = None) -> FileEntry:
        """Writes a file (parents are created); it appears only once complete."""
        request = call(
            "PUT /v1/volumes/{name}/files",
            {"name": self._name},
            query={"path": path, "mode": None if mode is None else format(mode, "o")},
            content=data.encode() if isinstance(data, str) else data,
            headers={"content-type": "application/octet-stream"},
            timeout=timeout,
        )
        return cast(FileEntry, self._api.json(request))

    def list(self, path: str, *, timeout: float | None = None) -> builtins.list[FileEntry]:
        body = self._api.json(call("GET /v1/volumes/{name}/files/list", {"name": self._name}, query={"path": path}, timeout=timeout))
        return cast("builtins.list[FileEntry]", body["entries"])

    def get_info(self, path: str, *, timeout: float | None = None) -> FileEntry:
        return cast(FileEntry, self._api.json(call("GET /v1/volumes/{name}/files/stat", {"name": self._name}, query={"path": path}, timeout=timeout)))

    def exists(self, path: str, *, timeout: float | None = None) -> bool:
        from .._errors import NotFoundError

        try:
            self.get_info(path, timeout=timeout)
        except NotFoundError:
            return False
        return True

    def make_dir(self, path: str, *, timeout: float | None = None) -> FileEntry:
        return cast(FileEntry, self._api.json(call("POST /v1/volumes/{name}/files/mkdir", {"name": self._name}, json={"path": path}, timeout=timeout)))

    def remove(self, path: str, *, recursive: bool = False, timeout: float | None = None) -> None:
        query = {"path": path, "recursive": "true" if recursive else None}
        self._api.json(call("DELETE /v1/volumes/{name}/files", {"name": self._name}, query=query, timeout=timeout))

    def download_archive(self, *, timeout: float | None = None) -> Stream[bytes]:
        """The whole volume as a tar stream; a sandbox made what is in it: unpack it with tarfile's ``filter="data"``."""
        return _chunks(self._api, call("GET /v1/volumes/{name}/export", {"name": self._name}, timeout=timeout or 0))

    def upload_archive(self, tar: bytes | Iterable[bytes], *, timeout: float | None = None) -> dict[str, Any]:
        """Extracts a tar stream into the volume: files and folders only; what was left out is named in ``skipped``."""
        request = call("PUT /v1/volumes/{name}/import", {"name": self._name}, content=tar, headers={"content-type": "application/x-tar"}, timeout=timeout or 0)
        return cast("dict[str, Any]", self._api.json(request))


class Volume:
    """A volume: what it is (``info``), and its files. ``with`` closes its connection."""

    def __init__(self, api: ApiClient, info: VolumeInfo) -> None:
        self._api = api
        self.info = info
        self.files = VolumeFiles(api, info["name"])

    def __repr__(self) -> str:
        return f"Volume(name={self.info['name']!r})"

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Volume:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Volumes:
    """A tenant's volumes: file systems with a hard size limit that outlive sandboxes."""

    @staticmethod
    def create(
        name: str,
        *,
        size_mib: int,
        from_template: tuple[str, str] | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Volume:
        """Makes a volume, empty or (``from_template=("py-ds", "/work")``) with a copy of a template's folder."""
        body: dict[str, Any] = {"name": name, "sizeMiB": size_mib}
        if from_template is not None:
            body["from"] = {"template": from_template[0], "path": from_template[1]}
        api = ApiClient(url, token)
        try:
            return Volume(api, api.json(call("POST /v1/volumes", json=body, timeout=timeout)))
        except BaseException:
            api.close()
            raise

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[VolumeInfo]:
        return cast("builtins.list[VolumeInfo]", (_json(call("GET /v1/volumes", timeout=timeout), url, token))["volumes"])

    @staticmethod
    def get(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Volume:
        api = ApiClient(url, token)
        try:
            return Volume(api, api.json(call("GET /v1/volumes/{name}", {"name": name}, timeout=timeout)))
        except BaseException:
            api.close()
            raise

    @staticmethod
    def delete(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        """Removes a volume and its files; refused (volume_in_use) while a live sandbox mounts it."""
        _json(call("DELETE /v1/volumes/{name}", {"name": name}, timeout=timeout), url, token)


class Gateway:
    """Third-party MCP servers run in sandboxes under their manifests; their tools called through policy, approvals and audit."""

    @staticmethod
    def add(
        name: str, *, command: builtins.list[str], manifest: GatewayManifestInput, pin: bool = False, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> GatewayServer:
        """Adds a server (ConflictError if the name is taken); it starts in the background."""
        body = {"name": name, "command": command, "manifest": manifest, "pin": pin or None}
        return cast(GatewayServer, _json(call("POST /v1/gateway/servers", json=without_none(body), timeout=timeout), url, token))

    @staticmethod
    def set(
        name: str, *, command: builtins.list[str], manifest: GatewayManifestInput, pin: bool = False, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> GatewayServer:
        """Adds a server or replaces its command and manifest (it starts again; pins stay)."""
        body = {"command": command, "manifest": manifest, "pin": pin or None}
        return cast(GatewayServer, _json(call("PUT /v1/gateway/servers/{name}", {"name": name}, json=without_none(body), timeout=timeout), url, token))

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[GatewayServer]:
        return cast("builtins.list[GatewayServer]", (_json(call("GET /v1/gateway/servers", timeout=timeout), url, token))["servers"])

    @staticmethod
    def get(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> GatewayServer:
        return cast(GatewayServer, _json(call("GET /v1/gateway/servers/{name}", {"name": name}, timeout=timeout), url, token))

    @staticmethod
    def remove(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        _json(call("DELETE /v1/gateway/servers/{name}", {"name": name}, timeout=timeout), url, token)

    @staticmethod
    def restart(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> GatewayServer:
        return cast(GatewayServer, _json(call("POST /v1/gateway/servers/{name}/restart", {"name": name}, timeout=timeout), url, token))

    @staticmethod
    def pin(name: str, *, digests: dict[str, str] | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> GatewayServer:
        """Pins the tool descriptions as listed now; with ``digests`` (tool: digest you reviewed), refused if the listing changed since."""
        body = {"digests": digests} if digests else {}
        return cast(GatewayServer, _json(call("POST /v1/gateway/servers/{name}/pin", {"name": name}, json=body, timeout=timeout), url, token))

    @staticmethod
    def logs(name: str, *, lines: int | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[str]:
        body = _json(call("GET /v1/gateway/servers/{name}/logs", {"name": name}, query={"lines": lines}, timeout=timeout), url, token)
        return cast("builtins.list[str]", body["lines"])

    @staticmethod
    def tools(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[GatewayTool]:
        """Every tool of the gateway's servers; ``offered: False`` marks one held back."""
        return cast("builtins.list[GatewayTool]", (_json(call("GET /v1/gateway/tools", timeout=timeout), url, token))["tools"])

    @staticmethod
    def follow_tools(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Stream[dict[str, builtins.list[GatewayTool]]]:
        """The tools now, then again each time the offered ones change, until the loop stops."""
        return _follow(call("GET /v1/gateway/tools", query={"follow": True}, timeout=timeout or 0), url, token)

    @staticmethod
    def call_tool(
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        approval_wait: float | None = None,
        approval_id: str | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> GatewayToolResult:
        """Calls a tool by its namespaced name; a tool that failed is a result with isError, a refusal an error."""
        seconds = (timeout or 60.0) + approval_wait if approval_wait else timeout
        request = call(
            "POST /v1/gateway/tools/{name}/call", {"name": name}, json={"arguments": arguments or {}}, headers=approval_headers(approval_id, approval_wait), timeout=seconds
        )
        return cast(GatewayToolResult, _json(request, url, token))

    @staticmethod
    def manifest_schema(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The manifest's JSON Schema (no token needed)."""
        return cast("dict[str, Any]", _json(call("GET /v1/gateway/manifest.schema.json", timeout=timeout), url, token))


class Policies:
    """The Cedar policies in force, checked and explained without changing them (operator tokens and up)."""

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        return cast("dict[str, Any]", _json(call("GET /v1/policies", timeout=timeout), url, token))

    @staticmethod
    def check(files: dict[str, str], *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Validates policy files (name: text) against Paddock's schema without installing them."""
        return cast("dict[str, Any]", _json(call("POST /v1/policies/check", json={"files": files}, timeout=timeout), url, token))

    @staticmethod
    def test(request: PolicyTestRequest, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The decision a request would get, and which policies made it; nothing is done."""
        return cast("dict[str, Any]", _json(call("POST /v1/policies/test", json=request, timeout=timeout), url, token))


class Registries:
    """Logins to image registries, for ``Templates.build(from_image=...)``; the password is never returned."""

    @staticmethod
    def login(
        host: str, *, username: str, password: str, shared: bool = False, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> RegistryLogin:
        body = {"username": username, "password": password, "shared": shared or None}
        return cast(RegistryLogin, _json(call("PUT /v1/registries/{host}", {"host": host}, json=without_none(body), timeout=timeout), url, token))

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[RegistryLogin]:
        return cast("builtins.list[RegistryLogin]", (_json(call("GET /v1/registries", timeout=timeout), url, token))["registries"])

    @staticmethod
    def logout(host: str, *, shared: bool = False, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        """Removes the tenant's own login, or with ``shared`` the admin's shared one."""
        _json(call("DELETE /v1/registries/{host}", {"host": host}, query={"shared": "true" if shared else None}, timeout=timeout), url, token)


class Tenants:
    """Tenants and their quotas; creating, changing and removing them takes an admin token."""

    @staticmethod
    def create(tenant: TenantCreate, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Tenant:
        return cast(Tenant, _json(call("POST /v1/tenants", json=tenant, timeout=timeout), url, token))

    @staticmethod
    def list(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Tenant]:
        return cast("builtins.list[Tenant]", (_json(call("GET /v1/tenants", timeout=timeout), url, token))["tenants"])

    @staticmethod
    def get(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Tenant:
        return cast(Tenant, _json(call("GET /v1/tenants/{name}", {"name": name}, timeout=timeout), url, token))

    @staticmethod
    def update(name: str, quotas: TenantUpdate, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Tenant:
        """Changes only the quotas given; None removes a limit."""
        return cast(Tenant, _json(call("PATCH /v1/tenants/{name}", {"name": name}, json=quotas, timeout=timeout), url, token))

    @staticmethod
    def remove(name: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> None:
        """Fails with ConflictError while the tenant still has live sandboxes."""
        _json(call("DELETE /v1/tenants/{name}", {"name": name}, timeout=timeout), url, token)


class Tokens:
    """API tokens, each bound to one tenant and one role."""

    @staticmethod
    def create(request: TokenCreate, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The result holds the secret (``token``); the daemon keeps only its hash, so it cannot be shown again."""
        return cast("dict[str, Any]", _json(call("POST /v1/tokens", json=request, timeout=timeout), url, token))

    @staticmethod
    def list(*, tenant: str | None = None, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[Token]:
        return cast("builtins.list[Token]", (_json(call("GET /v1/tokens", query={"tenant": tenant}, timeout=timeout), url, token))["tokens"])

    @staticmethod
    def revoke(id: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Token:
        """Revoked tokens are refused from then on; the record stays, with revokedAt set."""
        return cast(Token, _json(call("DELETE /v1/tokens/{id}", {"id": id}, timeout=timeout), url, token))


def whoami(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """The principal, tenant, role and owner of the token in use."""
    return cast("dict[str, Any]", _json(call("GET /v1/whoami", timeout=timeout), url, token))


def collect_garbage(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """Removes layers nothing uses (admin); never a layer in use."""
    return cast("dict[str, Any]", _json(call("POST /v1/gc", timeout=timeout or 0), url, token))


def check_deployment(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """The daemon's security report of its own deployment (admin): host facts, settings and policies."""
    return cast("dict[str, Any]", _json(call("GET /v1/check", timeout=timeout), url, token))


def create_login_link(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """A one-time link that signs a browser in to the dashboard as this token, valid for two minutes: {url, expiresAt}."""
    return cast("dict[str, Any]", _json(call("POST /v1/sessions/links", timeout=timeout), url, token))


def health(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> dict[str, Any]:
    """The daemon's version and state (no token needed)."""
    return cast("dict[str, Any]", _json(call("GET /v1/health", timeout=timeout), url, token))
