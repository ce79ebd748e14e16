"""Lockout rules (no I/O): what failures are counted under, how long a refusal lasts.

Wrong passwords count per login and per client address, wrong API keys per
address, reset requests per login and per address; each in a moving window
whose size is a setting (`LC_LOGIN_FAILURE_LIMIT` and the like, in the
`limits` notation such as `10/minute`). A locked login's owner is told at most
once per `LOCKOUT_NOTICE_WINDOW`.
"""

from __future__ import annotations

import math

# One lockout notice per login within this window, however often it is locked.
LOCKOUT_NOTICE_WINDOW = "1/hour"


def login_key(login: str) -> str:
    """What a login's failures are counted under."""
    return f"login:{login}"


def address_key(address: str) -> str:
    """What a client address's failures are counted under (beside other kinds of key)."""
    return f"address:{address}"


def retry_after(window_resets_at: float, now: float) -> int:
    """Whole seconds until a full window frees an attempt again; at least 1."""
    return max(1, math.ceil(window_resets_at - now))
