"""The async SDK's HTTP: asyncio's own streams, HTTP/1.1 framed by h11.

httpx's default async transport (httpcore over anyio) cost 0.5–0.7 ms more per call than the same exchange on
asyncio's streams, against a command's ~2.5 ms round trip. The SDK speaks HTTP/1.1 to one daemon: this keeps a few
keep-alive connections, reuses one only after a response ended cleanly (a cancelled or broken one is closed), bounds
each step by the request's timeouts, and raises httpx's exceptions, which the client turns into Paddock's. TLS
(an https:// daemon) stays with httpx's own transport.
"""

from __future__ import annotations

import asyncio
import select
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any, NoReturn, TypeVar

import h11
import httpx

T = TypeVar("T")

_READ_SIZE = 65536
# Idle keep-alive connections kept per daemon; more concurrent calls open more, and close them after.
_KEEP_IDLE = 8

Origin = tuple[str, int]


class AsyncioTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._tls: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "http":
            self._tls = self._tls or httpx.AsyncHTTPTransport()
            return await self._tls.handle_async_request(request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (request.url.host, request.url.port or 80)
        conn = self._reuse(origin) or await _Connection.open(origin, timeouts.get("connect"))
        try:
            try:
                await _send(conn, request, timeouts.get("write"))
            except OSError:
                # The daemon may have answered (a body over its limit, say) and closed before taking the rest: its answer says why.
                pass
            event = await conn.next_event(timeouts.get("read"))
            while isinstance(event, h11.InformationalResponse):
                event = await conn.next_event(timeouts.get("read"))
            if not isinstance(event, h11.Response):
                raise httpx.RemoteProtocolError("the daemon closed the connection without an answer")
        except BaseException as err:
            conn.close()
            _raise_as_httpx(err)
        return httpx.Response(
            status_code=event.status_code,
            headers=list(event.headers),
            stream=_ResponseBody(self, origin, conn, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
        )

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        if self._tls:
            await self._tls.aclose()

    def _reuse(self, origin: Origin) -> _Connection | None:
        conns = self._idle.get(origin, [])
        while conns:
            conn = conns.pop()
            # The daemon closes a connection idle for a while: one it closed is not used again.
            if conn.open_and_idle():
                return conn
            conn.close()
        return None

    def give_back(self, origin: Origin, conn: _Connection) -> None:
        conns = self._idle.setdefault(origin, [])
        if len(conns) < _KEEP_IDLE:
            conns.append(conn)
        else:
            conn.close()


async def _send(conn: _Connection, request: httpx.Request, write_timeout: float | None) -> None:
    conn.send(h11.Request(method=request.method, target=request.url.raw_path, headers=list(request.headers.raw)))
    async for chunk in request.stream:  # type: ignore[union-attr]
        if chunk:
            conn.send(h11.Data(data=chunk))
            await conn.drain(write_timeout)
    conn.send(h11.EndOfMessage())
    await conn.drain(write_timeout)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        # Its streams belong to this loop: a program that runs another loop later (asyncio.run twice) opens new ones.
        self.loop = asyncio.get_running_loop()

    @staticmethod
    async def open(origin: Origin, timeout: float | None) -> _Connection:
        try:
            # asyncio sets TCP_NODELAY on its TCP sockets.
            reader, writer = await _within(asyncio.open_connection(*origin), timeout, httpx.ConnectTimeout)
        except OSError as err:
            raise httpx.ConnectError(str(err)) from err
        return _Connection(reader, writer)

    def open_and_idle(self) -> bool:
        if self.loop is not asyncio.get_running_loop():
            return False
        if self.h11.our_state is not h11.IDLE or self.reader.at_eof() or self.writer.is_closing():
            return False
        # A daemon's close the event loop has not read yet (the program was busy since): an idle socket with
        # something to read has an end of stream waiting, or bytes no request asked for.
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return True
        # poll, not select: a program with over 1,024 descriptors open has sockets select cannot take.
        readable = select.poll()
        readable.register(sock.fileno(), select.POLLIN)
        return not readable.poll(0)

    def send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data:
            self.writer.write(data)

    async def drain(self, timeout: float | None) -> None:
        await _within(self.writer.drain(), timeout, httpx.WriteTimeout)

    async def next_event(self, timeout: float | None) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            # b"" at the end of the stream: h11 then says whether the message was whole.
            self.h11.receive_data(await _within(self.reader.read(_READ_SIZE), timeout, httpx.ReadTimeout))

    def finished_cleanly(self) -> bool:
        if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
            return False
        self.h11.start_next_cycle()
        return True

    def close(self) -> None:
        try:
            self.writer.close()
        except RuntimeError:
            # Its loop has ended (and its transports with it).
            pass


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, transport: AsyncioTransport, origin: Origin, conn: _Connection, read_timeout: float | None) -> None:
        self.transport = transport
        self.origin = origin
        self.conn = conn
        self.read_timeout = read_timeout
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                event = await self.conn.next_event(self.read_timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    return
                else:
                    raise httpx.RemoteProtocolError("the daemon closed the connection in the middle of an answer")
        except BaseException as err:
            self.closed = True
            self.conn.close()
            _raise_as_httpx(err)

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        # Reused only once the answer was read to its end; otherwise what is left of it would be the next one's.
        if self.conn.finished_cleanly():
            self.transport.give_back(self.origin, self.conn)
        else:
            self.conn.close()


async def _within(step: Awaitable[T], seconds: float | None, timeout: type[httpx.TimeoutException]) -> T:
    if seconds is None:
        return await step
    try:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(seconds):
                return await step
        return await asyncio.wait_for(step, seconds)
    except (asyncio.TimeoutError, TimeoutError) as err:
        raise timeout(f"timed out after {seconds:g} s") from err


def _raise_as_httpx(err: BaseException) -> NoReturn:
    """Raises a failure as httpx names it (the client maps those to Paddock's); cancellation and httpx's own as they are."""
    if isinstance(err, h11.RemoteProtocolError):
        raise httpx.RemoteProtocolError(str(err)) from err
    if isinstance(err, h11.LocalProtocolError):
        raise httpx.LocalProtocolError(str(err)) from err
    if isinstance(err, OSError):
        raise httpx.ReadError(str(err) or type(err).__name__) from err
    raise err
