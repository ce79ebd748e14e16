"""Relaying a peer's streamed response body to the client without holding it whole."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import structlog

from lc_gateway.metrics import UPSTREAM_ERRORS

log = structlog.get_logger(__name__)


async def relay(response: httpx.Response, upstream: str) -> AsyncIterator[bytes]:
    """Yield the response body chunk by chunk as it arrives.

    If the peer breaks off midway the error propagates, so the client's
    connection is aborted rather than ending in a silently truncated file.
    """
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.TransportError as exc:
        UPSTREAM_ERRORS.labels(upstream, "unavailable").inc()
        log.error("download_broken_off", upstream=upstream, error=repr(exc))
        raise
