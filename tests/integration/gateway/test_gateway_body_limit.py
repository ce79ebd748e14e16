"""A stranger's 100 MB body is refused before the gateway reads it: fast, and without memory.

The gateway runs as its own process (uvicorn, the real app), so its RSS can be
read from /proc. The body is streamed from a generator over a raw socket, and
the answer is read while sending, as a client that watches for an early
response does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from tests.integration.gateway.standins import free_address
from tests.support import until

pytestmark = pytest.mark.mongo

BODY_BYTES = 100 * 1024 * 1024
CHUNK = 64 * 1024


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def body_chunks() -> Iterator[bytes]:
    block = b"x" * CHUNK
    for _ in range(BODY_BYTES // CHUNK):
        yield block


@pytest.fixture
async def gateway_process(gateway_env: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    url = free_address()
    host, port = url.removeprefix("http://").split(":")
    env = {**os.environ, **gateway_env, "LC_INSECURE_COOKIES": "true"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "lc_gateway.main:app_from_environment",
        "--host",
        host,
        "--port",
        port,
        "--no-access-log",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def answers() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await until(answers, within=30, what="the gateway answers /healthz")
        yield url, process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)


class _Client(asyncio.Protocol):
    """Keeps whatever the server answers, even if it resets the connection afterwards."""

    def __init__(self) -> None:
        self.answer = bytearray()
        self.answered = asyncio.Event()
        self.lost = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.answer.extend(data)
        if b"\r\n" in self.answer:
            self.answered.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()


async def send_streamed(url: str, request_head: str) -> tuple[int, float]:
    """Send the head, then up to 100 MB of body until the server answers.

    The status answered and the seconds it took.
    """
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(_Client, host, int(port))
    started = time.perf_counter()
    transport.write(request_head.encode())
    try:
        for chunk in body_chunks():
            if client.answered.is_set() or client.lost.is_set():
                break
            transport.write(chunk)
            # Let the loop read the socket between chunks; wait while the kernel is full.
            await asyncio.sleep(0)
            while transport.get_write_buffer_size() > 4 * CHUNK and not (
                client.lost.is_set() or client.answered.is_set()
            ):
                await asyncio.sleep(0.001)
        await asyncio.wait_for(client.answered.wait(), 10)
    finally:
        transport.close()
    elapsed = time.perf_counter() - started
    return int(bytes(client.answer).split()[1]), elapsed


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/api/v1/batches/bat_x"), ("POST", "/api/v1/batches")]
)
async def test_an_unauthenticated_100_mb_body_is_refused_at_once(
    gateway_process: tuple[str, int], framing: str, method: str, path: str
) -> None:
    url, pid = gateway_process
    before = rss_bytes(pid)
    length = (
        f"Content-Length: {BODY_BYTES}\r\n"
        if framing == "content-length"
        else "Transfer-Encoding: chunked\r\n"
    )
    # A chunked body is sent as one huge declared chunk followed by raw bytes: the
    # server must refuse before it gets anywhere near the end.
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: gateway\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"{length}\r\n"
    )
    if framing == "chunked":
        head += f"{BODY_BYTES:x}\r\n"
    status, seconds = await send_streamed(url, head)
    grown = rss_bytes(pid) - before
    # A declared length over the cap is refused from the header; a chunked body is
    # never read at all: the stranger is refused (401) before the body is touched.
    assert status == (413 if framing == "content-length" else 401)
    assert seconds < 3, seconds
    assert grown < 30 * 1024 * 1024, grown
