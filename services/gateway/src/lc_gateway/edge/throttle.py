"""Throttling of failed authentication, with the `limits` library.

Failures are counted in a moving window (keys and windows: `domain/lockout.py`):
wrong API keys per client address, wrong passwords per login and per address.
Once a key has used its window, further attempts are refused (429 with
Retry-After) before any key lookup or password hash is computed, so guessing
costs the gateway nothing.

The counts live in memory, per replica: `limits`' MongoDB storage needs Motor,
not PyMongo's async API. With N replicas a guesser gets at most N windows.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from lc_gateway.domain.lockout import LOCKOUT_NOTICE_WINDOW, address_key, login_key, retry_after
from lc_gateway.errors import TooManyAttempts
from lc_gateway.metrics import THROTTLED

LOCKOUT_NOTICE = parse(LOCKOUT_NOTICE_WINDOW)


class Throttle:
    """Counts failures per key and refuses a key that has used up its window."""

    def __init__(self, api_key_limit: str, login_limit: str, reset_limit: str = "5/hour") -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._api_key = parse(api_key_limit)
        self._login = parse(login_limit)
        self._reset = parse(reset_limit)

    async def _check(self, kind: str, item: RateLimitItem, *keys: str) -> None:
        for key in keys:
            if not await self._limiter.test(item, kind, key):
                stats = await self._limiter.get_window_stats(item, kind, key)
                THROTTLED.labels(kind).inc()
                raise TooManyAttempts(retry_after(stats.reset_time, time.time()))

    async def check_api_key(self, address: str) -> None:
        """Raise `TooManyAttempts` if this address used up its wrong-key window."""
        await self._check("api_key", self._api_key, address)

    async def api_key_failed(self, address: str) -> None:
        """Count a wrong API key from this address."""
        await self._limiter.hit(self._api_key, "api_key", address)

    async def check_login(self, login: str, address: str) -> None:
        """Raise `TooManyAttempts` if the login or the address used up its window."""
        await self._check("login", self._login, login_key(login), address_key(address))

    async def login_failed(self, login: str, address: str) -> bool:
        """Count a wrong password; True when this failure locked the login just now."""
        await self._limiter.hit(self._login, "login", address_key(address))
        await self._limiter.hit(self._login, "login", login_key(login))
        return not await self._limiter.test(self._login, "login", login_key(login))

    async def reset_requested(self, login: str, address: str) -> None:
        """Count a password reset request (every one, known login or not).

        Raises `TooManyAttempts` once the login or the address used up its window,
        before anything is looked up or mailed: nobody floods an inbox with links.
        """
        await self._check("password_reset", self._reset, login_key(login), address_key(address))
        await self._limiter.hit(self._reset, "password_reset", address_key(address))
        await self._limiter.hit(self._reset, "password_reset", login_key(login))

    async def lockout_notice_due(self, login: str) -> bool:
        """True at most once per `LOCKOUT_NOTICE` window for a login: time to tell its owner."""
        return await self._limiter.hit(LOCKOUT_NOTICE, "lockout_notice", login)
