"""Building the requests of a test call (INVITE, ACK, CANCEL, BYE) as bytes.

Written directly rather than through ``sipmessage`` objects: a call sends three to four
requests and the header block shared by all of them (From, Call-ID, Max-Forwards) is
formatted once per call (see :mod:`lc_sip.message` for the measured cost).

Nothing is built from an unsafe value: the number must be E.164 and no header value may
hold a CR or LF (:mod:`lc_sip.safety`; `UnsafeSipValue` otherwise). The call's identity
is checked once, when its `CallLeg` is made; headers added later (credentials) when added.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lc_sip.address import address_uri, addresses, format_address
from lc_sip.message import SipResponse, render
from lc_sip.safety import require_e164, require_header_value, require_header_values

BRANCH_MAGIC = "z9hG4bK"

_random = bytearray()
# A forked child must not hand out the parent's buffered bytes again.
os.register_at_fork(after_in_child=_random.clear)


def random_hex(nbytes: int) -> str:
    """``nbytes`` from the OS's CSPRNG as hex, like ``secrets.token_hex``.

    Drawn from a buffer filled 4 KiB at a time: a call takes five of these, and one
    getrandom() system call each was a measurable share of the call engine's time.
    """
    if len(_random) < nbytes:
        _random.extend(os.urandom(4096))
    token = _random[:nbytes].hex()
    del _random[:nbytes]
    return token


def new_branch() -> str:
    """A fresh RFC 3261 branch id (magic cookie + randomness)."""
    return BRANCH_MAGIC + random_hex(8)


def new_tag() -> str:
    """A fresh From/To tag."""
    return random_hex(6)


def new_call_id(host: str) -> str:
    """A globally unique Call-ID."""
    return f"{random_hex(12)}@{host}"


def request_uri(number: str, host: str, port: int, *, keep_plus: bool, tcp: bool) -> str:
    """``sip:<number>@<host>:<port>`` (with ``;transport=tcp`` over TCP).

    Raises `UnsafeSipValue` unless `number` is E.164 (``+`` then 7 to 15 digits).
    """
    require_e164(number)
    user = number if keep_plus else number.lstrip("+")
    return f"sip:{user}@{host}:{port}" + (";transport=tcp" if tcp else "")


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
    return format_address(uri, display=display, params=(("tag", tag),) if tag else ())


@dataclass(slots=True)
class CallLeg:
    """The identity of one outgoing call, from which each of its requests is built."""

    call_id: str
    uri: str
    from_value: str
    to_value: str
    contact_value: str
    sent_by: str
    transport: str
    user_agent: str
    asserted_identity: str | None = None
    """P-Asserted-Identity of the INVITE (RFC 3325): our caller ID, if the trunk has one."""
    cseq: int = 1
    _shared: tuple[tuple[str, str], ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("call_id", "uri", "from_value", "to_value", "contact_value", "sent_by"):
            require_header_value(name, getattr(self, name))
        require_header_value("transport", self.transport)
        require_header_value("user_agent", self.user_agent)
        if self.asserted_identity is not None:
            require_header_value("asserted_identity", self.asserted_identity)
        self._shared = (("Max-Forwards", "70"), ("From", self.from_value))

    def _request(
        self,
        method: str,
        uri: str,
        branch: str,
        cseq: int,
        to_value: str,
        more: tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
    ) -> bytes:
        headers = [
            ("Via", f"SIP/2.0/{self.transport} {self.sent_by};branch={branch};rport"),
            *self._shared,
            ("To", to_value),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            *more,
        ]
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return render(f"{method} {uri} SIP/2.0", headers, body)

    def invite(self, branch: str, sdp: bytes, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
        """The INVITE (or its authenticated re-send) at the current CSeq."""
        require_header_values(extra)
        more = (
            ("Contact", self.contact_value),
            ("User-Agent", self.user_agent),
            ("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"),
            *extra,
        )
        if self.asserted_identity is not None:
            more = (("P-Asserted-Identity", self.asserted_identity), *more)
        return self._request("INVITE", self.uri, branch, self.cseq, self.to_value, more, sdp)

    def ack_for_failure(self, branch: str, response: SipResponse) -> bytes:
        """ACK of a non-2xx final: same branch, To (with tag) from the response (17.1.1.3)."""
        return self._request("ACK", self.uri, branch, self.cseq, response.get("to") or "")

    def cancel(self, branch: str) -> bytes:
        """CANCEL of the pending INVITE: same branch, Request-URI, To and CSeq number (9.1)."""
        return self._request("CANCEL", self.uri, branch, self.cseq, self.to_value)

    def _in_dialog(self, method: str, response: SipResponse, branch: str, cseq: int) -> bytes:
        try:
            contacts = addresses(response.getlist("contact"))
            target = address_uri(contacts[0]) if contacts else self.uri
        except ValueError:
            target = self.uri
        routes = tuple(("Route", r) for r in reversed(addresses(response.getlist("record-route"))))
        more = (*routes, ("User-Agent", self.user_agent))
        return self._request(method, target, branch, cseq, response.get("to") or "", more)

    def ack_for_success(self, response: SipResponse, branch: str) -> bytes:
        """ACK of a 2xx: a new transaction (``branch``) to the remote target (13.2.2.4)."""
        return self._in_dialog("ACK", response, branch, self.cseq)

    def bye(self, response: SipResponse, branch: str) -> bytes:
        """BYE (in its own transaction, ``branch``) hanging up the dialog the 2xx created."""
        return self._in_dialog("BYE", response, branch, self.cseq + 1)
