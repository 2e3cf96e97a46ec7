from __future__ import annotations

import builtins
from collections.abc import AsyncIterable
from typing import Literal, cast, overload

from .._call import AsyncStream, Call, call, without_none
from .._errors import NotFoundError
from .._types import FileEntry
from ._client import AsyncApiClient



def _content(data: str | bytes | AsyncIterable[bytes]) -> bytes | AsyncIterable[bytes]:
    return data.encode() if isinstance(data, str) else data


async def read_body(api: AsyncApiClient, request: Call, format: str) -> str | bytes | AsyncStream[bytes]:
    """A file's body as text, bytes, or chunks as they come (the response is closed when they end)."""
    if format != "stream":
        res = await api.send(request)
        return res.content if format == "bytes" else res.content.decode("utf-8", "replace")
    return _chunks(api, request)


async def _chunks(api: AsyncApiClient, request: Call) -> AsyncStream[bytes]:
    res = await api.send(request, stream=True)
    try:
        async for chunk in res.aiter_bytes():
            yield chunk
    except Exception as err:
        api.reraise(err, request, None)
    finally:
        await res.aclose()


async def read_head(chunks: AsyncStream[bytes], max_bytes: int) -> tuple[bytes, bool]:
    """The first ``max_bytes`` of a stream, and whether there was more; the rest is not downloaded."""
    kept = bytearray()
    truncated = False
    try:
        async for chunk in chunks:
            if len(kept) + len(chunk) > max_bytes:
                kept += chunk[: max_bytes - len(kept)]
                truncated = True
                break
            kept += chunk
    finally:
        await chunks.aclose()
    return bytes(kept), truncated


class AsyncFiles:
    """A sandbox's files. ``user`` says whose permissions apply inside it: "root" (default), "user" or a uid."""

    def __init__(self, api: AsyncApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    @overload
    async def read(self, path: str, *, format: Literal["text"] = "text", user: str | None = None, timeout: float | None = None) -> str: ...
    @overload
    async def read(self, path: str, *, format: Literal["bytes"], user: str | None = None, timeout: float | None = None) -> bytes: ...
    @overload
    async def read(self, path: str, *, format: Literal["stream"], user: str | None = None, timeout: float | None = None) -> AsyncStream[bytes]: ...
    async def read(self, path: str, *, format: str = "text", user: str | None = None, timeout: float | None = None) -> str | bytes | AsyncStream[bytes]:
        """A file as text (default), bytes, or chunks for large files (a stream has no timeout unless given)."""
        request = call("GET /v1/sandboxes/{id}/files", {"id": self._sandbox_id}, query={"path": path, "user": user}, timeout=timeout if timeout is not None or format != "stream" else 0)
        return await read_body(self._api, request, format)

    async def read_head(self, path: str, max_bytes: int, *, user: str | None = None, timeout: float | None = None) -> tuple[bytes, bool]:
        """The first ``max_bytes`` of a file, streamed, so a huge file costs no more; and whether there was more."""
        return await read_head(await self.read(path, format="stream", user=user, timeout=timeout), max_bytes)

    async def write(self, path: str, data: str | bytes | AsyncIterable[bytes], *, mode: int | None = None, user: str | None = None, timeout: float | None = None) -> FileEntry:
        """Writes a file (parents are created); large data can be an iterable of chunks."""
        request = call(
            "PUT /v1/sandboxes/{id}/files",
            {"id": self._sandbox_id},
            query={"path": path, "user": user, "mode": None if mode is None else format(mode, "o")},
            content=_content(data),
            headers={"content-type": "application/octet-stream"},
            timeout=timeout,
        )
        return cast(FileEntry, await self._api.json(request))

    async def list(self, path: str, *, user: str | None = None, timeout: float | None = None) -> builtins.list[FileEntry]:
        body = await self._api.json(call("GET /v1/sandboxes/{id}/files/list", {"id": self._sandbox_id}, query={"path": path, "user": user}, timeout=timeout))
        return cast("builtins.list[FileEntry]", body["entries"])

    async def get_info(self, path: str, *, user: str | None = None, timeout: float | None = None) -> FileEntry:
        return cast(FileEntry, await self._api.json(call("GET /v1/sandboxes/{id}/files/stat", {"id": self._sandbox_id}, query={"path": path, "user": user}, timeout=timeout)))

    async def exists(self, path: str, *, user: str | None = None, timeout: float | None = None) -> bool:
        try:
            await self.get_info(path, user=user, timeout=timeout)
        except NotFoundError:
            return False
        return True

    async def make_dir(self, path: str, *, user: str | None = None, timeout: float | None = None) -> FileEntry:
        request = call("POST /v1/sandboxes/{id}/files/mkdir", {"id": self._sandbox_id}, json=without_none({"path": path, "user": user}), timeout=timeout)
        return cast(FileEntry, await self._api.json(request))

    async def rename(self, old: str, new: str, *, user: str | None = None, timeout: float | None = None) -> FileEntry:
        request = call("POST /v1/sandboxes/{id}/files/rename", {"id": self._sandbox_id}, json=without_none({"from": old, "to": new, "user": user}), timeout=timeout)
        return cast(FileEntry, await self._api.json(request))

    async def remove(self, path: str, *, recursive: bool = False, user: str | None = None, timeout: float | None = None) -> None:
        query = {"path": path, "user": user, "recursive": "true" if recursive else None}
        await self._api.json(call("DELETE /v1/sandboxes/{id}/files", {"id": self._sandbox_id}, query=query, timeout=timeout))

    async def download_archive(self, path: str, *, user: str | None = None, timeout: float | None = None) -> AsyncStream[bytes]:
        """A tar stream of a file or directory, made inside the sandbox: its root decides what it holds, so unpack it
        with tarfile's ``filter="data"`` (never as root with a plain tar)."""
        request = call("GET /v1/sandboxes/{id}/archive", {"id": self._sandbox_id}, query={"path": path, "user": user}, timeout=timeout or 0)
        return _chunks(self._api, request)

    async def upload_archive(self, dir: str, tar: bytes | AsyncIterable[bytes], *, user: str | None = None, timeout: float | None = None) -> FileEntry:
        """Extracts a tar stream into a directory, creating it if needed."""
        request = call(
            "PUT /v1/sandboxes/{id}/archive",
            {"id": self._sandbox_id},
            query={"path": dir, "user": user},
            content=tar,
            headers={"content-type": "application/x-tar"},
            timeout=timeout or 0,
        )
        return cast(FileEntry, await self._api.json(request))
