"""Where a webhook may be sent (SSRF): a public https URL whose host resolves only to
public addresses. Checked when an endpoint is registered and again before each attempt,
after resolving the name, and the attempt then goes to the very address checked (a name
that resolves elsewhere a moment later cannot send it inside).

With `LC_WEBHOOKS_ALLOW_PRIVATE_TARGETS` (local development and tests only) plain http
and private or loopback addresses are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not receive webhooks; the message says why (shown to the client)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL to request (host replaced by the checked address),
    the original `Host` header, and the name TLS must present and verify (SNI)."""

    url: str
    host_header: str
    server_name: str
    address: str


def check_url(url: str, *, allow_private: bool) -> SplitResult:
    """The URL's parts if its form is acceptable: http(s) (https unless private targets
    are allowed), a host, no credentials, at most `MAX_URL_LENGTH` characters. A literal
    address is checked as `check_address` does; names are checked when resolved."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise TargetRefused(f"the URL must start with {' or '.join(allowed_schemes)}://")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL may not carry credentials")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise TargetRefused("the URL may not contain spaces or control characters")
    literal = _literal_address(parts.hostname)
    if literal is not None:
        check_address(literal, allow_private=allow_private)
    return parts


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_refused(address: IPAddress) -> str | None:
    """Why a private target may not be reached at this address; None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_refused(address.ipv4_mapped)
    for reason, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if hit:
            return reason
    return None if address.is_global else "not public"


def check_address(address: IPAddress, *, allow_private: bool) -> None:
    """Raise `TargetRefused` for an address a webhook may not go to."""
    if allow_private:
        return
    reason = address_refused(address)
    if reason is not None:
        raise TargetRefused(f"the address {address} is {reason}")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to (a literal address: itself)."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"the host {host} does not resolve ({exc.strerror})") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused(f"the host {host} does not resolve")
    return found


async def checked_target(url: str, *, allow_private: bool) -> Target:
    """Resolve the URL's host and check every address it has; the target to request.

    Every address must be allowed, not just one: a name that also resolves to a private
    address is refused whichever the client would pick."""
    parts = check_url(url, allow_private=allow_private)
    host = parts.hostname
    assert host is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolve(host, port)
    for address in addresses:
        check_address(address, allow_private=allow_private)
    chosen = addresses[0]
    shown = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = f"{host}:{parts.port}" if parts.port else host
    return Target(url=pinned, host_header=host_header, server_name=host, address=str(chosen))
