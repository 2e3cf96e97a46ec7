from __future__ import annotations

import builtins
from typing import Any, Literal, cast

from .._call import call
from .._types import BrowserInfo, Cursor, DesktopActionsResult, DesktopStream, DesktopWindowsWindowsItem
from ._client import AsyncApiClient

MouseButton = Literal["left", "middle", "right"]


class AsyncDesktop:
    """The screen, mouse and keyboard of a desktop sandbox (template ``desktop``), driven from inside it by its agent.

        png = await sbx.desktop.screenshot()
        await sbx.desktop.click(640, 400); await sbx.desktop.type("hello"); await sbx.desktop.press(["ctrl", "l"])
    """

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def screenshot(
        self,
        *,
        x: int | None = None,
        y: int | None = None,
        width: int | None = None,
        height: int | None = None,
        scale: float | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """The screen, or a region of it, scaled by ``scale`` <= 1, as PNG bytes (at most 1920x1080)."""
        query = {"x": x, "y": y, "width": width, "height": height, "scale": scale}
        request = call("GET /v1/sandboxes/{id}/desktop/screenshot", {"id": self._sandbox_id}, query=query, timeout=timeout)
        return (await self._api.send(request)).content

    async def actions(self, actions: builtins.list[dict[str, Any]], *, timeout: float | None = None) -> DesktopActionsResult:
        """Does actions in order (each checked before any runs); the screen and the cursor after."""
        request = call("POST /v1/sandboxes/{id}/desktop/actions", {"id": self._sandbox_id}, json={"actions": actions}, timeout=timeout)
        return cast(DesktopActionsResult, await self._api.json(request))

    async def click(self, x: int, y: int, *, button: MouseButton = "left", count: int = 1, timeout: float | None = None) -> DesktopActionsResult:
        return await self.actions([{"type": "click", "x": x, "y": y, "button": button, "count": count}], timeout=timeout)

    async def move(self, x: int, y: int, *, timeout: float | None = None) -> DesktopActionsResult:
        return await self.actions([{"type": "move", "x": x, "y": y}], timeout=timeout)

    async def type(self, text: str, *, timeout: float | None = None) -> DesktopActionsResult:
        """Types text as key presses into the focused window (never read by a shell on the way)."""
        return await self.actions([{"type": "type", "text": text}], timeout=timeout)

    async def press(self, keys: str | builtins.list[str], *, timeout: float | None = None) -> DesktopActionsResult:
        """Presses keys together: ``press("enter")``, ``press(["ctrl", "l"])``."""
        return await self.actions([{"type": "key", "keys": [keys] if isinstance(keys, str) else keys}], timeout=timeout)

    async def scroll(
        self, *, dx: int = 0, dy: int = 0, x: int | None = None, y: int | None = None, timeout: float | None = None
    ) -> DesktopActionsResult:
        action: dict[str, Any] = {"type": "scroll", "dx": dx, "dy": dy}
        if x is not None and y is not None:
            action.update(x=x, y=y)
        return await self.actions([action], timeout=timeout)

    async def drag(self, start: tuple[int, int], end: tuple[int, int], *, timeout: float | None = None) -> DesktopActionsResult:
        action = {"type": "drag", "from": {"x": start[0], "y": start[1]}, "to": {"x": end[0], "y": end[1]}}
        return await self.actions([action], timeout=timeout)

    async def cursor(self, *, timeout: float | None = None) -> Cursor:
        return cast(Cursor, await self._api.json(call("GET /v1/sandboxes/{id}/desktop/cursor", {"id": self._sandbox_id}, timeout=timeout)))

    async def windows(self, *, timeout: float | None = None) -> builtins.list[DesktopWindowsWindowsItem]:
        body = await self._api.json(call("GET /v1/sandboxes/{id}/desktop/windows", {"id": self._sandbox_id}, timeout=timeout))
        return cast("builtins.list[DesktopWindowsWindowsItem]", body["windows"])

    async def launch(self, app: str, args: builtins.list[str] | None = None, *, timeout: float | None = None) -> int:
        """Starts an app on the display without a shell; its pid."""
        request = call("POST /v1/sandboxes/{id}/desktop/launch", {"id": self._sandbox_id}, json={"app": app, "args": args or []}, timeout=timeout)
        return cast(int, (await self._api.json(request))["pid"])

    async def get_clipboard(self, *, timeout: float | None = None) -> str:
        body = await self._api.json(call("GET /v1/sandboxes/{id}/desktop/clipboard", {"id": self._sandbox_id}, timeout=timeout))
        return cast(str, body["text"])

    async def set_clipboard(self, text: str, *, timeout: float | None = None) -> None:
        await self._api.json(call("PUT /v1/sandboxes/{id}/desktop/clipboard", {"id": self._sandbox_id}, json={"text": text}, timeout=timeout))

    async def stream(self, *, view_only: bool = True, timeout: float | None = None) -> DesktopStream:
        """The live view (noVNC) through ingress: view-only unless you took the sandbox over."""
        query = {"viewOnly": "true" if view_only else "false"}
        request = call("GET /v1/sandboxes/{id}/desktop/stream", {"id": self._sandbox_id}, query=query, timeout=timeout)
        return cast(DesktopStream, await self._api.json(request))


class AsyncBrowser:
    """The sandbox's Chromium over CDP, through ingress: ``playwright.chromium.connect_over_cdp(info["cdpUrl"], headers=...)``."""

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    async def start(self, url: str | None = None, *, timeout: float | None = None) -> BrowserInfo:
        body = {"url": url} if url is not None else {}
        request = call("POST /v1/sandboxes/{id}/browser/start", {"id": self._sandbox_id}, json=body, timeout=timeout)
        return cast(BrowserInfo, await self._api.json(request))
