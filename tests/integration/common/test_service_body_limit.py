"""Every service's app refuses a 100 MB body before it reads it (lc_common.service's layer).

Each service runs as its own process (uvicorn, the real app on the session's broker
and store), so its RSS can be read from /proc. The body is streamed over a raw
socket, and the answer is read while sending, as a client that watches for an
early response does.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support import until

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

BODY_BYTES = 100 * 1024 * 1024
CHUNK = 64 * 1024
UPLOAD_CAP = 10 * 1024 * 1024

# Builds a service's real app from its `LC_*` settings and serves it.
SERVE = """
import sys, uvicorn
from importlib import import_module
module, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings_class = {"ingest": "IngestSettings", "billing": "BillingSettings"}[module]
settings = getattr(import_module(f"lc_{module}.config"), settings_class)()
app = import_module(f"lc_{module}.main").create_app(settings)
uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
"""


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=["ingest", "billing"])
async def service_process(
    request: pytest.FixtureRequest, peer_env: dict[str, str]
) -> AsyncIterator[tuple[str, str, int]]:
    """(service, base URL, pid) of a service served by uvicorn in its own process."""
    service: str = request.param
    port = free_port()
    env = {**os.environ, **peer_env, "LC_MAX_UPLOAD_BYTES": str(UPLOAD_CAP)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVE, service, "127.0.0.1", str(port),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    async def answers() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"{service} exited with {process.returncode}")
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await until(answers, within=60, what=f"{service} answers /healthz")
        yield service, url, process.pid
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
    """Send the head, then up to 100 MB of body until the server answers.

    The answer's head and first bytes, and the seconds it took.
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
            await asyncio.sleep(0)
            while transport.get_write_buffer_size() > 4 * CHUNK and not (
                client.lost.is_set() or client.answered.is_set()
            ):
                await asyncio.sleep(0.001)
        await until(client.answered.is_set, within=10, what=f"an answer to {case}")
        # The JSON envelope follows the head; give it a moment to arrive.
        await until(
            lambda: client.lost.is_set() or client.answer.endswith(b"}"),
            within=5,
            what=f"the whole answer to {case}: {bytes(client.answer)!r}",
        )
    finally:
        transport.close()
    return bytes(client.answer), time.perf_counter() - started


# Per service, (method, path, framing, error code): the default cap (64 KiB), the
# internal cap (1 MiB) and the upload cap (LC_MAX_UPLOAD_BYTES), declared or streamed.
CASES = {
    "ingest": [
        ("PATCH", "/internal/v1/batches/bat_x", "content-length", "body_too_large"),
        ("POST", "/internal/v1/leads/states", "chunked", "body_too_large"),
        ("POST", "/internal/v1/imports/preview", "content-length", "file_too_large"),
        ("POST", "/internal/v1/batches", "content-length", "file_too_large"),
    ],
    "billing": [
        # The webhook caps its own body (64 KiB, code `too_large`) inside the layer's
        # (128 KiB): a declared 100 MB meets the layer, a streamed one the route.
        ("POST", "/webhooks/payments", "content-length", "body_too_large"),
        ("POST", "/webhooks/payments", "chunked", "too_large"),
        ("POST", "/internal/v1/reservations", "chunked", "body_too_large"),
        ("POST", "/nowhere", "content-length", "body_too_large"),
    ],
}


async def test_a_100_mb_body_is_refused_before_it_is_read(
    service_process: tuple[str, str, int],
) -> None:
    service, url, pid = service_process
    before = rss_bytes(pid)
    for method, path, framing, code in CASES[service]:
        length = (
            f"Content-Length: {BODY_BYTES}\r\n"
            if framing == "content-length"
            else "Transfer-Encoding: chunked\r\n"
        )
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {service}\r\n"
            "Content-Type: application/json\r\n"
            f"{length}\r\n"
        )
        if framing == "chunked":
            # One huge declared chunk followed by raw bytes: refused long before its end.
            head += f"{BODY_BYTES:x}\r\n"
        case = f"{method} {path} ({framing})"
        answer, seconds = await send_streamed(url, head, case)
        assert int(answer.split()[1]) == 413, (case, answer[:500])
        envelope = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert envelope["error"]["code"] == code, case
        assert seconds < 3, (case, seconds)
    grown = rss_bytes(pid) - before
    assert grown < 30 * 1024 * 1024, grown
