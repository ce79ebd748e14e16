"""Running a POST of the public API at most once per `Idempotency-Key`.

The key's rules are `domain/idempotency.py`'s; claiming and completing it, `idempotency.py`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from lc_gateway.bootstrap import Gateway
from lc_gateway.domain.accounts import Account
from lc_gateway.domain.idempotency import (
    DONE,
    HEADER,
    REPLAYED_HEADER,
    StoredResponse,
    checked_key,
    replay,
)
from lc_gateway.edge.uploads import Upload, drain, open_upload
from lc_gateway.metrics import IDEMPOTENT_REPLAYS

# Does the request's work: the response's status and JSON body.
Work = Callable[[], Awaitable[tuple[int, Any]]]
UploadWork = Callable[[Upload], Awaitable[tuple[int, Any]]]

OPENAPI_HEADER = {
    "parameters": [
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Retry-safe key: a retry with the same key and request gets the "
            "first response again (24 h); the same key with another request answers 422.",
        }
    ]
}


def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, checked (400 if malformed), or None."""
    return checked_key(request.headers.get(HEADER))


def _replayed(route: str, stored: StoredResponse) -> JSONResponse:
    IDEMPOTENT_REPLAYS.labels(route).inc()
    return JSONResponse(stored.body, status_code=stored.status, headers={REPLAYED_HEADER: "true"})


async def once(
    gateway: Gateway, account: Account, key: str, route: str, request_hash: str, work: Work
) -> JSONResponse:
    """Run `work` unless this key already ran it for this request (then replay its answer)."""
    keys = gateway.idempotency
    held = await keys.claim(account.id, key, request_hash)
    if held is not None:
        return _replayed(route, replay(held, request_hash))
    try:
        status, body = await work()
        await keys.complete(account.id, key, request_hash, StoredResponse(status, body))
    except Exception:
        await keys.release(account.id, key)
        raise
    return JSONResponse(body, status_code=status)


async def upload_once(
    request: Request, gateway: Gateway, account: Account, key: str, route: str, work: UploadWork
) -> JSONResponse:
    """`once` for an upload, whose hash is known only after its last byte.

    A key still in flight answers 409 before the body is read; a completed key
    reads the body to hash it, then replays or answers 422.
    """
    keys = gateway.idempotency
    limit = gateway.settings.max_upload_bytes
    held = await keys.claim(account.id, key, None)
    if held is not None:
        if held.state != DONE:
            replay(held, None)  # raises: in progress
        upload = await open_upload(request, limit)
        await drain(upload)
        return _replayed(route, replay(held, upload.form.request_hash()))
    try:
        upload = await open_upload(request, limit)
        status, body = await work(upload)
        await keys.complete(
            account.id, key, upload.form.request_hash(), StoredResponse(status, body)
        )
    except Exception:
        await keys.release(account.id, key)
        raise
    return JSONResponse(body, status_code=status)
