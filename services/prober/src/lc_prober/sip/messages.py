"""Building the requests of a test call (INVITE, ACK, CANCEL, BYE) with sipmessage."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sipmessage import URI, Address, Request, Response

from lc_sip.headers import via_branch

BRANCH_MAGIC = "z9hG4bK"


def new_branch() -> str:
    """A fresh RFC 3261 branch id (magic cookie + randomness)."""
    return BRANCH_MAGIC + secrets.token_hex(8)


def new_tag() -> str:
    """A fresh From/To tag."""
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    """A globally unique Call-ID."""
    return f"{secrets.token_hex(12)}@{host}"


def top_via_branch(message: Request | Response) -> str | None:
    """The branch of the topmost Via, without a full Via parse (hot path)."""
    via = message.headers.get("Via")
    return None if via is None else via_branch(via)


def cseq_parts(message: Request | Response) -> tuple[int, str]:
    """(sequence number, method) of the CSeq header."""
    raw = message.headers.get("CSeq")
    if raw is None:
        raise ValueError("message without CSeq")
    number, _, method = raw.strip().partition(" ")
    return int(number), method.strip().upper()


def has_sdp(message: Request | Response) -> bool:
    """Whether the message body is an SDP session description."""
    ctype = message.headers.get("Content-Type") or ""
    return bool(message.body.strip()) and ctype.split(";", 1)[0].strip().lower() == (
        "application/sdp"
    )


def request_uri(number: str, host: str, port: int, *, keep_plus: bool, tcp: bool) -> URI:
    """``sip:<number>@<host>:<port>`` (with ``;transport=tcp`` over TCP)."""
    user = number if keep_plus else number.lstrip("+")
    params = {"transport": "tcp"} if tcp else {}
    return URI.parse(f"sip:{user}@{host}:{port}" + "".join(f";{k}={v}" for k, v in params.items()))


@dataclass(slots=True)
class CallLeg:
    """The identity of one outgoing call, from which each of its requests is built."""

    call_id: str
    uri: URI
    from_value: str
    to_value: str
    contact_value: str
    sent_by: str
    transport: str
    user_agent: str
    cseq: int = 1

    def _base(self, method: str, uri: URI, branch: str, cseq: int, to_value: str) -> Request:
        req = Request(method, uri)
        req.headers.add("Via", f"SIP/2.0/{self.transport} {self.sent_by};branch={branch};rport")
        req.headers.add("Max-Forwards", "70")
        req.headers.add("From", self.from_value)
        req.headers.add("To", to_value)
        req.headers.add("Call-ID", self.call_id)
        req.headers.add("CSeq", f"{cseq} {method}")
        return req

    @staticmethod
    def _finish(req: Request, body: bytes = b"", content_type: str | None = None) -> Request:
        if body:
            req.headers.add("Content-Type", content_type or "application/sdp")
        req.headers.add("Content-Length", str(len(body)))
        req.body = body
        return req

    def invite(self, branch: str, sdp: bytes, extra: tuple[tuple[str, str], ...] = ()) -> Request:
        """The INVITE (or its authenticated re-send) at the current CSeq."""
        req = self._base("INVITE", self.uri, branch, self.cseq, self.to_value)
        req.headers.add("Contact", self.contact_value)
        req.headers.add("User-Agent", self.user_agent)
        req.headers.add("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
        for name, value in extra:
            req.headers.add(name, value)
        return self._finish(req, sdp)

    def ack_for_failure(self, branch: str, response: Response) -> Request:
        """ACK of a non-2xx final: same branch, To (with tag) from the response (17.1.1.3)."""
        req = self._base("ACK", self.uri, branch, self.cseq, response.headers.get("To") or "")
        return self._finish(req)

    def cancel(self, branch: str) -> Request:
        """CANCEL of the pending INVITE: same branch, Request-URI, To and CSeq number (9.1)."""
        return self._finish(self._base("CANCEL", self.uri, branch, self.cseq, self.to_value))

    def _in_dialog(self, method: str, response: Response, cseq: int) -> Request:
        try:
            contacts = response.contact
        except ValueError:
            contacts = []
        target = contacts[0].uri if contacts else self.uri
        req = self._base(method, target, new_branch(), cseq, response.headers.get("To") or "")
        try:
            routes = response.record_route
        except ValueError:
            routes = []
        if routes:
            req.headers.setlist("Route", [str(a) for a in reversed(routes)])
        req.headers.add("User-Agent", self.user_agent)
        return self._finish(req)

    def ack_for_success(self, response: Response) -> Request:
        """ACK of a 2xx: a new transaction to the remote target (13.2.2.4)."""
        return self._in_dialog("ACK", response, self.cseq)

    def bye(self, response: Response) -> Request:
        """BYE hanging up the dialog the 2xx created."""
        return self._in_dialog("BYE", response, self.cseq + 1)


def address_value(
    user: str,
    host: str,
    port: int | None = None,
    *,
    display: str | None = None,
    tag: str | None = None,
    transport: str | None = None,
) -> str:
    """A From/To/Contact header value such as ``"name" <sip:user@host:port>;tag=x``."""
    uri = f"sip:{user}@{host}" + (f":{port}" if port else "")
    if transport:
        uri += f";transport={transport}"
    addr = Address(uri=URI.parse(uri), name=display or "")
    value = str(addr)
    return value + (f";tag={tag}" if tag else "")
