"""Where a webhook may go (SSRF): URL forms and addresses, with and without private targets."""

from __future__ import annotations

import ipaddress

import pytest

from lc_notifier.webhooks.targets import (
    MAX_URL_LENGTH,
    TargetRefused,
    address_refused,
    check_url,
    checked_target,
)

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("100.64.0.1", "not public"),  # carrier-grade NAT
    ("fd00::1", "private"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_inside_addresses_are_refused(address: str, reason: str) -> None:
    assert address_refused(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refused(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # plain http in production
        "ftp://example.com/hook",
        "https:///nohost",
        "https://user:pw@example.com/hook",
        "https://127.0.0.1/hook",
        "https://[::1]:8443/hook",
        "https://10.0.0.5/hook",
        "https://example.com:99999/hook",
        "https://example.com/" + "a" * MAX_URL_LENGTH,
        "https://example.com/a b",
    ],
)
def test_production_refuses(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=False)


def test_local_development_allows_http_to_the_loopback() -> None:
    parts = check_url("http://127.0.0.1:8123/hook", allow_private=True)
    assert parts.port == 8123
    with pytest.raises(TargetRefused):
        check_url("file:///etc/passwd", allow_private=True)


async def test_a_name_is_checked_after_resolution() -> None:
    # `localhost` is a name, so the form passes; what it resolves to does not.
    check_url("https://localhost/hook", allow_private=False)
    with pytest.raises(TargetRefused, match="loopback"):
        await checked_target("https://localhost/hook", allow_private=False)


async def test_the_target_is_pinned_to_the_checked_address() -> None:
    target = await checked_target("http://localhost:8123/in?x=1", allow_private=True)
    assert target.address in ("127.0.0.1", "::1")
    assert target.url in ("http://127.0.0.1:8123/in?x=1", "http://[::1]:8123/in?x=1")
    assert target.host_header == "localhost:8123"
    assert target.server_name == "localhost"


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(TargetRefused, match="does not resolve"):
        await checked_target("https://no-such-host.invalid/hook", allow_private=False)
