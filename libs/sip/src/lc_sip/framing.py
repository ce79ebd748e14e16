"""Cutting a TCP byte stream into SIP messages by Content-Length (RFC 3261 18.3)."""

from __future__ import annotations

import re

CONTENT_LENGTH_RE = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I | re.M)
MAX_HEADER_BYTES = 64 * 1024


class SipFramer:
    """Feeds on received bytes and hands back each complete message."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete messages now available.

        Raises ValueError when a header section grows past `MAX_HEADER_BYTES` (the
        peer is not speaking SIP, or is hostile): drop the connection.
        """
        self._buf += data
        out: list[bytes] = []
        while True:
            # Leading CRLFs are keep-alives (RFC 5626) between messages.
            while self._buf[:2] == b"\r\n":
                del self._buf[:2]
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEADER_BYTES:
                    raise ValueError("SIP header section too large")
                return out
            match = CONTENT_LENGTH_RE.search(self._buf, 0, end)
            total = end + 4 + (int(match.group(1)) if match else 0)
            if len(self._buf) < total:
                return out
            out.append(bytes(self._buf[:total]))
            del self._buf[:total]
