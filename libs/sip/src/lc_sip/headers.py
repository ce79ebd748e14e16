"""Header names and the one header parameter both ends look up on every message."""

from __future__ import annotations

import re

COMPACT_HEADERS: dict[str, str] = {
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "t": "to",
    "v": "via",
    "k": "supported",
}
"""Compact forms (RFC 3261 7.3.3) and the lower-case full names they stand for."""

_BRANCH_RE = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)


def via_branch(via: str) -> str | None:
    """The branch parameter of the first Via value in a Via header value."""
    match = _BRANCH_RE.search(via.split(",", 1)[0])
    return match.group(1) if match else None
