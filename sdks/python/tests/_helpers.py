"""What the tests share: the daemon they were given (tests/run.py's environment) and small makers."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid


def agent_token() -> str:
    """A token of role agent, of a tenant of its own: the default policies ask a person before it runs a download."""
    return os.environ["PADDOCK_TEST_AGENT_TOKEN"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def untar(data: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                f = tar.extractfile(member)
                out[member.name] = f.read() if f else b""
    return out


def free_port() -> int:
    """A TCP port free on this machine now (the fast tier's sandboxes share its loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def echo_server(port: int) -> str:
    """A program serving on ``port``: each line sent comes back upper-cased after ``echo: ``."""
    program = (
        "import socketserver\n"
        "class Echo(socketserver.StreamRequestHandler):\n"
        "    def handle(self):\n"
        "        for line in self.rfile:\n"
        "            self.wfile.write(b'echo: ' + line.upper())\n"
        "socketserver.ThreadingTCPServer.allow_reuse_address = True\n"
        f"socketserver.ThreadingTCPServer(('127.0.0.1', {port}), Echo).serve_forever()\n"
    )
    return program


def wait_for_port(port: int) -> str:
    """A program that returns once something accepts connections on ``port`` (run inside the sandbox), failing after 20 s."""
    return (
        "import socket, time\n"
        "for _ in range(400):\n"
        "    try:\n"
        f"        socket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n"
        "        break\n"
        "    except OSError:\n"
        "        time.sleep(0.05)\n"
        "else:\n"
        f"    raise SystemExit('nothing listens on {port}')\n"
    )


def http_server(port: int) -> str:
    """A program serving ``hello from port <port>`` over HTTP on ``port``."""
    return (
        "import http.server\n"
        "class Hello(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        f"        body = b'hello from port {port}'\n"
        "        self.send_response(200)\n"
        "        self.send_header('content-length', str(len(body)))\n"
        "        self.end_headers()\n"
        "        self.wfile.write(body)\n"
        f"http.server.ThreadingHTTPServer(('127.0.0.1', {port}), Hello).serve_forever()\n"
    )


def serve_here(program: str, port: int) -> subprocess.Popen[bytes]:
    """Runs a server program on this machine's loopback too, once it accepts connections: the fast tier's fake agent
    dials the host's loopback (its commands have an empty network of their own), a real sandbox's agent its own."""
    server = subprocess.Popen([sys.executable, "-c", program])
    subprocess.run([sys.executable, "-c", wait_for_port(port)], check=True)
    return server


def until_listening(sandbox_id: str, port: int) -> None:
    """Returns once the daemon reaches something on the sandbox's ``port`` (asked through the path form, whatever the server speaks)."""
    url = f"{os.environ['PADDOCK_URL']}/v1/sandboxes/{sandbox_id}/ports/{port}/"
    headers = {"authorization": f"Bearer {os.environ['PADDOCK_TOKEN']}"}
    for _ in range(400):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30):
                return
        except urllib.error.HTTPError as err:
            if b"port_not_listening" not in err.read():
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on {port} in {sandbox_id}")


def http_get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET with no token at all."""
    try:
        with urllib.request.urlopen(url, timeout=30) as res:
            return int(res.status), bytes(res.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


def exchange(port: int, line: bytes) -> bytes:
    """Sends a line to a local port and returns the line that comes back (b"" if the connection is closed first).
    It does not half-close: a forward carries no half-close, either side ending ends the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s, s.makefile("rb") as answers:
        s.sendall(line)
        return bytes(answers.readline())


async def async_exchange(port: int, line: bytes) -> bytes:
    """exchange() for asyncio: the forward it goes through runs on the same event loop."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(line)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 30)
    finally:
        writer.close()
