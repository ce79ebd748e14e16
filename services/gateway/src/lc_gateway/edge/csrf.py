"""CSRF tokens for the control panel: one random token per session, compared in constant time.

The session cookie is signed and `SameSite=Lax`; the token is the second lock on
every state-changing form, and on API calls made with the cookie instead of a key.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def new_token() -> str:
    """A fresh unguessable token."""
    return secrets.token_urlsafe(32)


def session_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = new_token()
        session[SESSION_KEY] = token
    return token


def token_valid(session: MutableMapping[str, Any], submitted: str | None) -> bool:
    """True when `submitted` is the session's token; False when either is missing."""
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
