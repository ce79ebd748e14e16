"""`Idempotency-Key` rules (no I/O): a key's shape, its records, when it counts, what it replays.

The first request with a key claims it (a record per account and key); once it
succeeds its response (status and body) and a hash of the request are stored,
and a retry with the same key and the same request gets that response again.
The same key with another request answers 422 `idempotency_key_reused`; while
the first is still in flight a duplicate answers 409 `idempotency_key_in_progress`.
A failed request releases its key, so the client's retry does the work. Keys
expire after `ttl`; a claim whose holder died is taken over after `lease`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lc_gateway.errors import GatewayError, IdempotencyKeyInProgress, IdempotencyKeyReused

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_PROGRESS = "in_progress"
DONE = "done"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class StoredResponse:
    """The response a key replays."""

    status: int
    body: Any


@dataclass(frozen=True)
class KeyRecord:
    """A key's state: claimed (`in_progress`) or `done` with its response."""

    account_id: str
    key: str
    state: str
    request_hash: str | None
    response: StoredResponse | None
    created_at: datetime
    expires_at: datetime
    lease_until: datetime


def checked_key(value: str | None) -> str | None:
    """The header's key (printable ASCII, 1-255 characters), None if absent; else 400."""
    if value is None:
        return None
    if not _KEY.match(value):
        raise GatewayError(
            f"The {HEADER} header must be 1 to 255 printable ASCII characters.",
            status=400,
            code="invalid_idempotency_key",
        )
    return value


def new_claim(
    account_id: str,
    key: str,
    request_hash: str | None,
    now: datetime,
    *,
    ttl: timedelta,
    lease: timedelta,
) -> KeyRecord:
    """A claim of `key` made at `now`: in progress, kept `ttl`, held for `lease`."""
    return KeyRecord(
        account_id=account_id,
        key=key,
        state=IN_PROGRESS,
        request_hash=request_hash,
        response=None,
        created_at=now,
        expires_at=now + ttl,
        lease_until=now + lease,
    )


def stale(record: KeyRecord, now: datetime) -> bool:
    """True when the record no longer counts: expired, or an abandoned claim."""
    return record.expires_at <= now or (record.state == IN_PROGRESS and record.lease_until <= now)


def replay(record: KeyRecord, request_hash: str | None) -> StoredResponse:
    """The stored response for a request with this hash; 409 or 422 when there is none to give.

    `request_hash` None means the request is not hashed yet (its body is still
    unread); that is enough to answer a claim still in flight.
    """
    if record.state != DONE or record.response is None:
        if request_hash and record.request_hash and request_hash != record.request_hash:
            raise _reused()
        raise IdempotencyKeyInProgress(
            "A request with this Idempotency-Key is still being processed; retry later."
        )
    if request_hash is None:
        raise ValueError("a completed key is replayed only for a hashed request")
    if request_hash != record.request_hash:
        raise _reused()
    return record.response


def _reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
