# Generated from paddock/_async/sandbox.py by scripts/unasync.py; do not edit.
from __future__ import annotations

import builtins
from typing import Any, Literal, cast

from .._call import call, ms, without_none
from .._errors import SandboxNotFoundError, describe_sandbox_end
from .._limits import AnyLimits, api_limits
from .._types import Checkpoint, Handback, RecordingFrames, RecordingListRecordingsItem, SandboxNetworkInput, SandboxVolume, Takeover, Template
from .._types import Sandbox as SandboxInfo
from ._client import ApiClient
from .code import Code
from .commands import Commands
from .files import Files
from .network import Network
from .desktop import Browser, Desktop
from .ports import Ports
from .pty import Pty


class Sandbox:
    """A sandbox: an isolated Linux machine for one task.

        with Sandbox.create(template="base") as sbx:
            r = sbx.commands.run(["python3", "-c", "print(2+2)"])

    Leaving the ``with`` kills it. Every method takes ``timeout`` (seconds) for its request.
    """

    def __init__(self, api: ApiClient, info: SandboxInfo) -> None:
        self._api = api
        self._info = info
        self.commands = Commands(api, info["id"])
        self.files = Files(api, info["id"])
        self.pty = Pty(api, info["id"])
        self.network = Network(api, info["id"])
        self.ports = Ports(api, info["id"])
        self.desktop = Desktop(api, info["id"])
        self.browser = Browser(api, info["id"])
        self.code = Code(api, info["id"])

    @property
    def id(self) -> str:
        return self._info["id"]

    @property
    def tier(self) -> str:
        """The isolation tier it runs on: container (runc) or gvisor (runsc)."""
        return self._info.get("tier", "container")

    @property
    def last_known(self) -> SandboxInfo:
        """What was known at the last call; get_info() asks again."""
        return self._info

    def __repr__(self) -> str:
        # Printed, a sandbox shows what it is, never the token its client holds.
        return f"Sandbox(id={self.id!r}, tier={self.tier!r}, state={self._info.get('state')!r})"

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.kill()
        finally:
            self.close()

    def close(self) -> None:
        """Closes this object's connections; the sandbox goes on (kill() ends it)."""
        self._api.close()

    @staticmethod
    def create(
        template: str = "base",
        *,
        timeout: float | None = None,
        limits: AnyLimits | None = None,
        metadata: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        tier: Literal["container", "gvisor", "auto"] | None = None,
        network: SandboxNetworkInput | None = None,
        secrets: builtins.list[str] | None = None,
        on_timeout: Literal["kill", "pause"] | None = None,
        volumes: builtins.list[SandboxVolume] | None = None,
        writable_layer: Literal["tmpfs", "disk"] | None = None,
        start_command: bool | None = None,
        url: str | None = None,
        token: str | None = None,
        request_timeout: float = 60.0,
    ) -> Sandbox:
        """Makes a sandbox. ``timeout`` is its lifetime in seconds (default 5 minutes), not the request's."""
        api = ApiClient(url, token, request_timeout)
        body = {
            "template": template,
            "timeoutMs": ms(timeout),
            "limits": api_limits(limits),
            "metadata": metadata,
            "env": env,
            "tier": tier,
            "onTimeout": on_timeout,
            "network": network,
            "secrets": secrets,
            "volumes": volumes,
            "writableLayer": writable_layer,
            "startCommand": start_command,
        }
        try:
            info = api.json(call("POST /v1/sandboxes", json=without_none(body)))
        except BaseException:
            api.close()
            raise
        return Sandbox(api, info)

    @staticmethod
    def connect(id: str, *, url: str | None = None, token: str | None = None, timeout: float | None = None) -> Sandbox:
        """Reconnects to a running sandbox by id (from another process, say)."""
        api = ApiClient(url, token)
        try:
            info = api.json(call("GET /v1/sandboxes/{id}", {"id": id}, timeout=timeout))
            if info.get("state") == "killed":
                raise SandboxNotFoundError(id, f"{describe_sandbox_end(info.get('endReason'))} and no longer exists")
        except BaseException:
            api.close()
            raise
        return Sandbox(api, info)

    @staticmethod
    def list(
        *,
        state: Literal["running", "paused", "killed", "all"] | None = None,
        metadata: dict[str, str] | None = None,
        url: str | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> builtins.list[SandboxInfo]:
        labels = [f"{k}={v}" for k, v in (metadata or {}).items()]
        with ApiClient(url, token) as api:
            body = api.json(call("GET /v1/sandboxes", query={"state": state, "label": labels}, timeout=timeout))
        return cast("builtins.list[SandboxInfo]", body["sandboxes"])

    @staticmethod
    def kill_all(*, url: str | None = None, token: str | None = None, timeout: float | None = None) -> builtins.list[str]:
        """Kills every sandbox of the caller; returns their ids."""
        with ApiClient(url, token) as api:
            body = api.json(call("DELETE /v1/sandboxes", timeout=timeout))
        return cast("builtins.list[str]", body["killed"])

    def get_info(self, *, timeout: float | None = None) -> SandboxInfo:
        self._info = self._api.json(call("GET /v1/sandboxes/{id}", {"id": self.id}, timeout=timeout))
        return self._info

    def is_running(self, *, timeout: float | None = None) -> bool:
        return (self.get_info(timeout=timeout)).get("state") == "running"

    def set_timeout(self, seconds: float, *, timeout: float | None = None) -> None:
        """Sets the time left before the sandbox is killed, counted from now."""
        self._info = self._api.json(call("POST /v1/sandboxes/{id}/timeout", {"id": self.id}, json={"timeoutMs": ms(seconds)}, timeout=timeout))

    def takeover(
        self, *, cols: int | None = None, rows: int | None = None, cmd: builtins.list[str] | None = None, timeout: float | None = None
    ) -> Takeover:
        """Takes the sandbox over from its agent (a person's token only): a recorded terminal only you type into; join it with ``pty.connect(pid)``."""
        body = without_none({"cols": cols, "rows": rows, "cmd": cmd})
        return cast("Takeover", self._api.json(call("POST /v1/sandboxes/{id}/takeover", {"id": self.id}, json=body, timeout=timeout)))

    def handback(self, *, timeout: float | None = None) -> Handback:
        """Hands a taken-over sandbox back to its agent: the terminal is killed; the recording's size and SHA-256 come back."""
        return cast("Handback", self._api.json(call("POST /v1/sandboxes/{id}/handback", {"id": self.id}, timeout=timeout)))

    def recordings(self, *, timeout: float | None = None) -> builtins.list[RecordingListRecordingsItem]:
        """The takeover recordings of this sandbox, oldest first."""
        body = self._api.json(call("GET /v1/sandboxes/{id}/recordings", {"id": self.id}, timeout=timeout))
        return cast("builtins.list[RecordingListRecordingsItem]", body["recordings"])

    def recording(self, session_id: str, *, timeout: float | None = None) -> str:
        """One recording's asciicast v2 file."""
        res = self._api.send(call("GET /v1/sandboxes/{id}/recordings/{sessionId}", {"id": self.id, "sessionId": session_id}, timeout=timeout))
        return res.text

    def recording_frames(self, session_id: str, *, timeout: float | None = None) -> RecordingFrames:
        """A desktop takeover's frames: the screen while the person held it, one kept whenever it changed."""
        return cast("RecordingFrames", self._api.json(call("GET /v1/sandboxes/{id}/recordings/{sessionId}/frames", {"id": self.id, "sessionId": session_id}, timeout=timeout)))

    def recording_frame(self, session_id: str, index: int, *, timeout: float | None = None) -> bytes:
        """One frame of a desktop takeover, as PNG bytes."""
        path = {"id": self.id, "sessionId": session_id, "index": str(index)}
        res = self._api.send(call("GET /v1/sandboxes/{id}/recordings/{sessionId}/frames/{index}", path, timeout=timeout))
        return res.content

    def pause(self, *, timeout: float | None = None) -> None:
        self._info = self._api.json(call("POST /v1/sandboxes/{id}/pause", {"id": self.id}, timeout=timeout))

    def resume(self, *, timeout: float | None = None) -> None:
        self._info = self._api.json(call("POST /v1/sandboxes/{id}/resume", {"id": self.id}, timeout=timeout))

    def snapshot(self, name: str, *, timeout: float | None = None) -> Template:
        """Keeps the sandbox's files as an immutable template ``name`` (frozen for the copy, then it goes on)."""
        request = call("POST /v1/sandboxes/{id}/snapshots", {"id": self.id}, json={"name": name}, timeout=timeout or 0)
        return cast(Template, self._api.json(request))

    def fork(self, *, lifetime: float | None = None, timeout: float | None = None) -> Sandbox:
        """A new sandbox with this one's files, same limits, tier and labels (living ``lifetime`` seconds); this one is untouched."""
        request = call("POST /v1/sandboxes/{id}/fork", {"id": self.id}, json=without_none({"timeoutMs": ms(lifetime)}), timeout=timeout or 0)
        return Sandbox(self._api.clone(), self._api.json(request))

    def checkpoint(self, *, timeout: float | None = None) -> Checkpoint:
        """Records the sandbox's files, to roll back to later (agent undo); the sandbox goes on."""
        return cast(Checkpoint, self._api.json(call("POST /v1/sandboxes/{id}/checkpoints", {"id": self.id}, timeout=timeout or 0)))

    def metrics(self, *, timeout: float | None = None) -> dict[str, Any]:
        """CPU, memory, pids and egress: ``current`` (the newest reading) and ``history`` (the last ones, oldest first)."""
        return cast("dict[str, Any]", self._api.json(call("GET /v1/sandboxes/{id}/metrics", {"id": self.id}, timeout=timeout)))

    def checkpoints(self, *, timeout: float | None = None) -> builtins.list[Checkpoint]:
        body = self._api.json(call("GET /v1/sandboxes/{id}/checkpoints", {"id": self.id}, timeout=timeout))
        return cast("builtins.list[Checkpoint]", body["checkpoints"])

    def rollback(self, checkpoint: Checkpoint | str, *, timeout: float | None = None) -> None:
        """Puts the files back exactly as at the checkpoint; the sandbox's processes are restarted."""
        checkpoint_id = checkpoint if isinstance(checkpoint, str) else checkpoint["id"]
        request = call("POST /v1/sandboxes/{id}/rollback", {"id": self.id}, json={"checkpoint": checkpoint_id}, timeout=timeout or 0)
        self._info = self._api.json(request)

    def create_scoped_token(
        self,
        *,
        actions: builtins.list[str] | None = None,
        ttl: float | None = None,
        max_uses: int | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """A token that reaches only this sandbox (and only ``actions``, for ``ttl`` seconds): hand it to a subagent or an MCP client."""
        scope = without_none({"sandboxes": [self.id], "actions": actions, "maxUses": max_uses})
        body = without_none({"role": "agent", "name": name, "ttlMs": ms(ttl), "scope": scope})
        return cast("dict[str, Any]", self._api.json(call("POST /v1/tokens", json=body, timeout=timeout)))

    def get_host(self, port: int, *, timeout: float | None = None) -> str:
        """The host a port of this sandbox is reached at, ``<port>-<id>.<domain>:<daemon port>`` (E2B's get_host)."""
        return self.ports.get_host(port, timeout=timeout)

    def kill(self, *, wait: bool = True, timeout: float | None = None) -> None:
        """Kills the sandbox; with ``wait=False`` it returns once the kill is recorded, while teardown goes on."""
        query = {} if wait else {"wait": "false"}
        self._info = self._api.json(call("DELETE /v1/sandboxes/{id}", {"id": self.id}, query=query, timeout=timeout))
