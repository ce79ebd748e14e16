"""A stranger's 100 MB body is refused before the gateway reads it: fast, and without memory.

The gateway runs as its own process (uvicorn, the real app), so its RSS can be
read from /proc. The body is streamed from a generator over a raw socket, and
the answer is read while sending, as a client that watches for an early
response does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

import pytest
from tests.flood import request_head, rss_bytes, send_streamed, served
from tests.integration.gateway.standins import free_address

pytestmark = pytest.mark.mongo


@pytest.fixture
async def gateway_process(gateway_env: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    url = free_address()
    host, port = url.removeprefix("http://").split(":")
    env = {**os.environ, **gateway_env, "LC_INSECURE_COOKIES": "true"}
    argv = [sys.executable, "-m", "uvicorn", "--factory", "lc_gateway.main:app_from_environment"]
    argv += ["--host", host, "--port", port, "--no-access-log"]
    async with served(argv, env, url, "the gateway", within=30) as pid:
        yield url, pid


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/api/v1/batches/bat_x"), ("POST", "/api/v1/batches")]
)
async def test_an_unauthenticated_100_mb_body_is_refused_at_once(
    gateway_process: tuple[str, int], framing: str, method: str, path: str
) -> None:
    url, pid = gateway_process
    before = rss_bytes(pid)
    head = request_head(method, path, framing, "multipart/form-data; boundary=x")
    answer, seconds = await send_streamed(url, head, f"{method} {path} ({framing})")
    status = int(answer.split()[1])
    grown = rss_bytes(pid) - before
    # A declared length over the route's cap (a PATCH's JSON) is refused from the
    # header; 100 MB is under the upload cap (128 MiB), and a chunked body declares
    # nothing: the stranger is refused (401) before the body is touched.
    over_cap = framing == "content-length" and method == "PATCH"
    assert status == (413 if over_cap else 401)
    assert seconds < 3, seconds
    assert grown < 30 * 1024 * 1024, grown
