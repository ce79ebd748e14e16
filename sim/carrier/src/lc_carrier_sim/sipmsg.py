"""Lean SIP parsing and response building for the simulator's hot path.

The simulator only needs raw header values to copy into responses, so it splits the
message itself (about 4x faster than sipmessage's full, URI-validating parse). Stream
framing, header names and SDP are shared with the prober through `lc_sip`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lc_sip.headers import COMPACT_HEADERS, via_branch

_USER_RE = re.compile(r"^(?:sips?|tel):([^@;>]+)")


@dataclass(slots=True)
class SipRequest:
    """A parsed request: method, Request-URI, headers (lower-case names) and body."""

    method: str
    uri: str
    headers: dict[str, list[str]]
    body: bytes

    def get(self, name: str) -> str:
        """First value of a header, or ''."""
        values = self.headers.get(name)
        return values[0] if values else ""

    @property
    def call_id(self) -> str:
        """The Call-ID."""
        return self.get("call-id")

    @property
    def branch(self) -> str:
        """The top Via's branch parameter."""
        return via_branch(self.get("via")) or ""

    @property
    def number(self) -> str:
        """The dialled number from the Request-URI user part, as +E.164 when all digits."""
        match = _USER_RE.match(self.uri)
        user = match.group(1) if match else ""
        user = user.split(";", 1)[0]
        return "+" + user if user.isdigit() else user


def parse_request(data: bytes) -> SipRequest | None:
    """Parse a request; None for responses or garbage."""
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        lines = head.decode("utf-8").split("\r\n")
    except UnicodeDecodeError:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0":
        return None
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = COMPACT_HEADERS.get(key, key)
        headers.setdefault(key, []).append(value.strip())
    return SipRequest(parts[0], parts[1], headers, body)


def build_response(
    req: SipRequest,
    code: int,
    reason: str,
    *,
    to_tag: str | None = None,
    contact: str | None = None,
    extra: tuple[str, ...] = (),
    body: bytes = b"",
) -> bytes:
    """A response to ``req`` copying Via/From/To/Call-ID/CSeq, with our To tag."""
    lines = [f"SIP/2.0 {code} {reason}"]
    lines.extend("Via: " + v for v in req.headers.get("via", ()))
    lines.append("From: " + req.get("from"))
    to = req.get("to")
    if to_tag and ";tag=" not in to.replace(" ", "") and code != 100:
        to += ";tag=" + to_tag
    lines.append("To: " + to)
    lines.append("Call-ID: " + req.call_id)
    lines.append("CSeq: " + req.get("cseq"))
    if contact:
        lines.append("Contact: " + contact)
    lines.append("Server: lc-carrier-sim")
    lines.extend(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
