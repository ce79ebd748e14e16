"""The second line of defence against SIP injection: what a request we build may carry.

The event models already refuse an e164 that is not E.164 at decode. Whatever reaches
the SIP layer by another path (a bug, a future caller) is checked again here, where a
bad value would become bytes on the wire: a Request-URI user part that is not E.164
digits could dial anything (a short code, a SIP URI of someone else's choosing), and a
CR or LF in a header value would end the header and let its author write their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_E164 = re.compile(r"\+[0-9]{7,15}")


class UnsafeSipValue(ValueError):
    """A value that must not go into a SIP request (not E.164, or a CR/LF in a header)."""


def require_e164(number: str) -> str:
    """Return `number` if it is `+` then 7 to 15 ASCII digits; raise `UnsafeSipValue` if not."""
    if not isinstance(number, str) or _E164.fullmatch(number) is None:
        raise UnsafeSipValue(f"not an E.164 number: {number!r:.40}")
    return number


def require_header_value(name: str, value: str) -> str:
    """Return `value` if it holds no CR, LF or NUL; raise `UnsafeSipValue` if it does."""
    if "\r" in value or "\n" in value or "\0" in value:
        raise UnsafeSipValue(f"header {name} carries a line break or NUL: {value!r:.60}")
    return value


def require_header_values(headers: Iterable[tuple[str, str]]) -> None:
    """Check every (name, value) pair with `require_header_value` (names included)."""
    for name, value in headers:
        require_header_value("(its name)", name)
        require_header_value(name, value)
