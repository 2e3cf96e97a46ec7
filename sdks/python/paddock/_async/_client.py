from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn

from .._call import Call, query_params
from .._connection import resolve_connection
from .._errors import ConnectionLostError, PaddockError, TimeoutError, error_from_body
from ._transport import transport

if TYPE_CHECKING:
    import httpx


class AsyncApiClient:
    """Thin HTTP client: auth, timeouts (seconds), typed errors. httpx is loaded on first use, so importing paddock stays cheap."""

    def __init__(self, url: str | None = None, token: str | None = None, request_timeout: float = 60.0) -> None:
        import httpx

        conn = resolve_connection(url, token)
        self.url = conn.url.rstrip("/")
        # Name-mangled and never printed: repr() of the client shows the URL only.
        self.__token = conn.token
        self.request_timeout = request_timeout
        headers = {"authorization": f"Bearer {conn.token}"} if conn.token else {}
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, transport=transport())

    def __repr__(self) -> str:
        return f"AsyncApiClient(url={self.url!r})"

    def clone(self) -> AsyncApiClient:
        """A client of its own to the same daemon with the same token."""
        return AsyncApiClient(self.url, self.__token, self.request_timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def socket_target(self, path: str) -> tuple[str, dict[str, str]]:
        """URL and headers of a WebSocket to the daemon."""
        headers = {"authorization": f"Bearer {self.__token}"} if self.__token else {}
        return "ws" + (self.url + path)[4:], headers

    async def json(self, call: Call) -> Any:
        res = await self.send(call)
        try:
            return jsonlib.loads(res.content) if res.content else None
        except ValueError as err:
            raise PaddockError("internal_error", 500, f"{call.method} {call.path} answered with invalid JSON") from err

    async def send(self, call: Call, stream: bool = False) -> httpx.Response:
        """The response once its status is a success; with ``stream`` its body is left to read (and close)."""
        import httpx

        seconds = self.request_timeout if call.timeout is None else (call.timeout or None)
        request = self._http.build_request(
            call.method,
            call.path,
            params=query_params(call.query),
            json=call.json,
            content=call.content,
            headers=call.headers,
            timeout=httpx.Timeout(seconds),
        )
        try:
            res = await self._http.send(request, stream=True)
        except Exception as err:
            self.reraise(err, call, seconds)
        try:
            if res.is_success and stream:
                return res
            await res.aread()
        except BaseException as err:
            await res.aclose()
            if isinstance(err, Exception):
                self.reraise(err, call, seconds)
            raise
        if not res.is_success:
            try:
                body: object = jsonlib.loads(res.content)
            except ValueError:
                body = {"error": {"message": res.text[:500] or f"HTTP {res.status_code}"}}
            raise error_from_body(res.status_code, body)
        return res

    async def ndjson(self, call: Call) -> AsyncIterator[Any]:
        """An NDJSON response as parsed events; ends when the response does."""
        call.headers = {**call.headers, "accept": "application/x-ndjson"}
        seconds = self.request_timeout if call.timeout is None else (call.timeout or None)
        res = await self.send(call, stream=True)
        try:
            async for line in res.aiter_lines():
                if line.strip():
                    yield jsonlib.loads(line)
        except PaddockError:
            raise
        except Exception as err:
            self.reraise(err, call, seconds)
        finally:
            await res.aclose()

    async def sse(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        """A server-sent events response as ``{"event": name, "data": parsed JSON}``; ``:`` comments (pings) are skipped."""
        call.headers = {**call.headers, "accept": "text/event-stream"}
        seconds = self.request_timeout if call.timeout is None else (call.timeout or None)
        res = await self.send(call, stream=True)
        event, data = "message", list[str]()
        try:
            async for line in res.aiter_lines():
                if line == "":
                    if data:
                        yield {"event": event, "data": jsonlib.loads("\n".join(data))}
                    event, data = "message", list[str]()
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
        except PaddockError:
            raise
        except Exception as err:
            self.reraise(err, call, seconds)
        finally:
            await res.aclose()

    def reraise(self, err: Exception, call: Call, seconds: float | None) -> NoReturn:
        """Raises what _explain makes of ``err``, chained to it; ``err`` itself when it has no other name."""
        explained = self._explain(err, call, seconds)
        if explained is err:
            raise err
        raise explained from err

    def _explain(self, err: Exception, call: Call, seconds: float | None) -> Exception:
        """httpx's failures as Paddock's: a timeout, a daemon not there, a connection that broke; others as they are."""
        import httpx

        if isinstance(err, PaddockError):
            return err
        if isinstance(err, httpx.TimeoutException):
            return TimeoutError(f"{call.method} {call.path} timed out after {seconds or 0:g} s", {"timeoutMs": round((seconds or 0) * 1000)})
        if isinstance(err, httpx.ConnectError):
            return PaddockError("connection_failed", 503, f"cannot reach Paddock at {self.url}: {err}")
        if isinstance(err, httpx.TransportError):
            return lost(self.url, err)
        return err


def lost(url: str, err: BaseException) -> ConnectionLostError:
    return ConnectionLostError(f"the connection to Paddock at {url} was lost ({err}); the call can be made again once it is back")
