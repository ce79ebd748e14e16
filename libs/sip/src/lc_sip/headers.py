"""Header names and the one header parameter both ends look up on every message."""

from __future__ import annotations

import re

COMPACT_HEADERS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}
"""Compact forms (RFC 3261 7.3.3, IANA SIP header registry) and the lower-case full names."""

_BRANCH_RE = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)


def via_branch(via: str) -> str | None:
    """The branch parameter of the first Via value in a Via header value."""
    first = via.split(",", 1)[0]
    # Fast path for the usual spelling; anything else (case, spaces) goes to the regex.
    start = first.find(";branch=")
    if start >= 0:
        value = first[start + 8 :].split(";", 1)[0].strip()
        if value and " " not in value and "\t" not in value:
            return value
    match = _BRANCH_RE.search(first)
    return match.group(1) if match else None
