"""Every service's app refuses a 100 MB body before it reads it (lc_common.service's layer).

Each service runs as its own process (uvicorn, the real app on the session's broker
and store), so its RSS can be read from /proc. The body is streamed over a raw
socket, and the answer is read while sending, as a client that watches for an
early response does.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import AsyncIterator

import pytest
from tests.flood import request_head, rss_bytes, send_streamed, served

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

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
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-c", SERVE, service, "127.0.0.1", str(port)]
    async with served(argv, env, url, service) as pid:
        yield service, url, pid


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
        head = request_head(method, path, framing, "application/json")
        case = f"{method} {path} ({framing})"
        answer, seconds = await send_streamed(url, head, case)
        assert int(answer.split()[1]) == 413, (case, answer[:500])
        envelope = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert envelope["error"]["code"] == code, case
        assert seconds < 3, (case, seconds)
    grown = rss_bytes(pid) - before
    assert grown < 30 * 1024 * 1024, grown
