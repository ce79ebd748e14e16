"""A lean SIP message parser and serialiser for the prober's hot path.

The issue suggested ``sipmessage``; it stays the reference the tests check this module
against, but it is off the hot path for what it measured on the benchmark machine:
parsing, building and serialising the messages of one answered call (four responses;
INVITE, ACK, BYE with their From/To/Request-URI objects) took about 200 µs through its
objects and about 60 µs here, and under py-spy its ``Message.parse`` (whose ``Headers``
compares each new header with every earlier one, in lower case) and request building
were a quarter of the call engine's time. A response alone parses in 8-9 µs either way;
the saving is in not validating and re-serialising URIs and addresses nobody reads.

What it keeps: the start line, every header as raw text under its lower-case full name
(compact forms expanded, RFC 3261 7.3.3), several lines of one header in order, folded
lines joined (7.3.1, which ``sipmessage`` rejects), and the body cut to Content-Length.
Header values are not interpreted here; :mod:`lc_sip.address` splits lists and reads
addresses where a caller needs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lc_sip.headers import COMPACT_HEADERS, via_branch

_FOLDED = re.compile(r"\r\n[ \t]+")


class SipMessage:
    """Headers (lower-case full names → values in arrival order) and the body."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, list[str]], body: bytes = b"") -> None:
        self.headers = headers
        self.body = body

    def get(self, name: str) -> str | None:
        """The first value of a header (any case, full or compact name), or None."""
        values = self.headers.get(_key(name))
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        """Every value of a header, one per header line, in order (empty when absent)."""
        return self.headers.get(_key(name)) or []

    @property
    def call_id(self) -> str | None:
        """The Call-ID, or None."""
        return self.get("call-id")

    @property
    def top_branch(self) -> str | None:
        """The branch parameter of the topmost Via."""
        via = self.get("via")
        return None if via is None else via_branch(via)

    def cseq(self) -> tuple[int, str]:
        """(sequence number, upper-case method) of the CSeq; ValueError when missing or bad."""
        raw = self.get("cseq")
        if raw is None:
            raise ValueError("message without CSeq")
        number, _, method = raw.strip().partition(" ")
        return int(number), method.strip().upper()

    @property
    def has_sdp(self) -> bool:
        """Whether the body is an SDP session description."""
        ctype = self.get("content-type") or ""
        return ctype.split(";", 1)[0].strip().lower() == "application/sdp" and bool(
            self.body.strip()
        )


class SipResponse(SipMessage):
    """A response: status code and reason phrase."""

    __slots__ = ("code", "phrase")

    def __init__(
        self, code: int, phrase: str, headers: dict[str, list[str]], body: bytes = b""
    ) -> None:
        self.headers = headers
        self.body = body
        self.code = code
        self.phrase = phrase

    def __repr__(self) -> str:
        return f"SipResponse({self.code} {self.phrase!r})"


class SipRequest(SipMessage):
    """A request: method and Request-URI (as written)."""

    __slots__ = ("method", "uri")

    def __init__(
        self, method: str, uri: str, headers: dict[str, list[str]], body: bytes = b""
    ) -> None:
        super().__init__(headers, body)
        self.method = method
        self.uri = uri

    def __repr__(self) -> str:
        return f"SipRequest({self.method} {self.uri})"


def _key(name: str) -> str:
    key = name.lower()
    return COMPACT_HEADERS.get(key, key)


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one SIP message (a datagram or a framed stream message).

    Raises ValueError (UnicodeDecodeError included) when it is not SIP: no blank line
    after the headers, a start line that is neither a request nor a status line, or a
    header line without a colon.
    """
    if data[:2] == b"\r\n":
        data = data.lstrip(b"\r\n")  # keep-alive CRLFs before the start line (RFC 3261 7.5)
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise ValueError("SIP message without the blank line ending its headers")
    head = data[:end].decode("utf-8")
    body = data[end + 4 :]
    if "\r\n " in head or "\r\n\t" in head:
        head = _FOLDED.sub(" ", head)
    lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    compact = COMPACT_HEADERS
    for i in range(1, len(lines)):
        name, colon, value = lines[i].partition(":")
        if not colon:
            raise ValueError(f"SIP header line without a colon: {lines[i][:40]!r}")
        key = name.rstrip().lower()
        if len(key) == 1:
            key = compact.get(key, key)
        values = headers.get(key)
        if values is None:
            headers[key] = [value.strip()]
        else:
            values.append(value.strip())
    length = headers.get("content-length")
    if length is not None:
        size = length[0]
        if size.isdigit() and int(size) < len(body):
            body = body[: int(size)]  # the rest of a datagram past Content-Length (18.3)
    start = lines[0]
    if start.startswith("SIP/2.0 "):
        code, _, phrase = start[8:].partition(" ")
        if len(code) != 3 or not code.isdigit():
            raise ValueError(f"bad SIP status line: {start[:40]!r}")
        return SipResponse(int(code), phrase.strip(), headers, body)
    method, _, rest = start.partition(" ")
    uri, _, version = rest.rpartition(" ")
    if version != "SIP/2.0" or not method or not uri.strip():
        raise ValueError(f"neither a SIP request nor a response: {start[:40]!r}")
    return SipRequest(method, uri.strip(), headers, body)


def render(start_line: str, headers: Iterable[tuple[str, str]], body: bytes = b"") -> bytes:
    """A message on the wire: start line, headers in order, Content-Length, body."""
    text = start_line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)
    return f"{text}Content-Length: {len(body)}\r\n\r\n".encode() + body


def response_to(request: SipRequest, code: int, phrase: str) -> bytes:
    """A body-less response to ``request`` copying its Via, From, To, Call-ID and CSeq."""
    copied = [
        (name, value)
        for name in ("Via", "From", "To", "Call-ID", "CSeq")
        for value in request.getlist(name)
    ]
    return render(f"SIP/2.0 {code} {phrase}", copied)
