"""`Idempotency-Key` on the public API's POSTs: claiming, completing and releasing keys.

The first request with a key claims it (a record per account and key, in the
`IdempotencyStore` of `ports.py`); once it succeeds its response and a hash of
the request are stored, and a retry with the same request gets that response
again. A failed request releases its key. What a key replays, when it expires
and when an abandoned claim is taken over are the rules of `domain/idempotency.py`.
"""

from __future__ import annotations

from datetime import timedelta

from lc_common.clock import Clock
from lc_gateway.domain.idempotency import KeyRecord, StoredResponse, new_claim, stale
from lc_gateway.errors import IdempotencyKeyInProgress
from lc_gateway.ports import IdempotencyStore

__all__ = ["IdempotencyKeys"]


class IdempotencyKeys:
    """Claiming, completing and releasing keys with one clock, lifetime and lease."""

    def __init__(
        self, store: IdempotencyStore, clock: Clock, *, ttl: timedelta, lease: timedelta
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._lease = lease

    async def claim(self, account_id: str, key: str, request_hash: str | None) -> KeyRecord | None:
        """Claim the key for this request: None when claimed, else the live record that holds it."""
        for _ in range(3):
            now = self._clock.now()
            record = new_claim(account_id, key, request_hash, now, ttl=self._ttl, lease=self._lease)
            if await self._store.insert(record):
                return None
            existing = await self._store.get(account_id, key)
            if existing is None:
                continue  # released in between
            if not stale(existing, now):
                return existing
            await self._store.delete_stale(account_id, key, now)
        raise IdempotencyKeyInProgress("This Idempotency-Key is contended; retry later.")

    async def complete(
        self, account_id: str, key: str, request_hash: str, response: StoredResponse
    ) -> None:
        """Store the response of the request that holds the key."""
        await self._store.complete(account_id, key, request_hash, response)

    async def release(self, account_id: str, key: str) -> None:
        """Give the key up after a failure, so a retry does the work."""
        await self._store.release(account_id, key)
