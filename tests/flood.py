"""Serve an app as its own process and flood it: what the body-limit and abuse tests share.

A service under test runs as a process of its own (uvicorn), so its resident
memory can be read from /proc while a client streams a body it must refuse.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx

from tests.support import until

BODY_BYTES = 100 * 1024 * 1024
CHUNK = 64 * 1024


def rss_bytes(pid: int) -> int:
    """The resident memory of a process, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@asynccontextmanager
async def served(
    argv: Sequence[str], env: dict[str, str], url: str, what: str, within: float = 60
) -> AsyncIterator[int]:
    """Run `argv` (a server on `url`) until it answers /healthz; yield its pid; stop it."""
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    async def answers() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await until(answers, within=within, what=f"{what} answers /healthz")
        yield process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


class _Client(asyncio.Protocol):
    """Keeps whatever the server answers, even if it resets the connection afterwards."""

    def __init__(self) -> None:
        self.answer = bytearray()
        self.answered = asyncio.Event()
        self.lost = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        self.answer.extend(data)
        if b"\r\n\r\n" in self.answer:
            self.answered.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()


async def send_streamed(url: str, head: str, case: str) -> tuple[bytes, float]:
    """Send the request head, then up to 100 MB of body until the server answers.

    The answer (head and the JSON that follows, as far as it came) and the
    seconds it took. The answer is read while sending, as a client that watches
    for an early response does.
    """
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(_Client, host, int(port))
    started = time.perf_counter()
    transport.write(head.encode())
    block = b"x" * CHUNK
    try:
        for _ in range(BODY_BYTES // CHUNK):
            if client.answered.is_set() or client.lost.is_set():
                break
            transport.write(block)
            # Let the loop read the socket between chunks; wait while the kernel is full.
            await asyncio.sleep(0)
            while transport.get_write_buffer_size() > 4 * CHUNK and not (
                client.lost.is_set() or client.answered.is_set()
            ):
                await asyncio.sleep(0.001)
        await until(client.answered.is_set, within=10, what=f"an answer to {case}")
        await until(
            lambda: client.lost.is_set() or client.answer.endswith(b"}"),
            within=5,
            what=f"the whole answer to {case}: {bytes(client.answer)!r}",
        )
    finally:
        transport.close()
    return bytes(client.answer), time.perf_counter() - started


def request_head(method: str, path: str, framing: str, content_type: str) -> str:
    """A request head declaring a 100 MB body, by Content-Length or as one huge chunk."""
    length = (
        f"Content-Length: {BODY_BYTES}\r\n"
        if framing == "content-length"
        else "Transfer-Encoding: chunked\r\n"
    )
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n{length}\r\n"
    if framing == "chunked":
        # One huge declared chunk followed by raw bytes: refused long before its end.
        head += f"{BODY_BYTES:x}\r\n"
    return head
