"""Which cap a request's body meets, per route, in every service's app."""

from __future__ import annotations

import pytest

from lc_common.limits import FILE_TOO_LARGE, UPLOAD_FORM_ROOM, Cap, service_body_limit
from lc_common.settings import BodyLimitSettings

LIMITS = BodyLimitSettings(max_body_bytes=100, max_internal_body_bytes=1000, max_upload_bytes=10**6)


@pytest.mark.parametrize(
    ("method", "path", "cap"),
    [
        ("POST", "/internal/v1/batches", Cap(10**6 + UPLOAD_FORM_ROOM, FILE_TOO_LARGE)),
        ("POST", "/internal/v1/imports/preview", Cap(10**6 + UPLOAD_FORM_ROOM, FILE_TOO_LARGE)),
        ("PATCH", "/internal/v1/batches/bat_1", Cap(1000)),
        ("PUT", "/internal/v1/batches", Cap(1000)),
        ("POST", "/internal/v1/batches/x", Cap(1000)),
        ("POST", "/internal/v1/reservations", Cap(1000)),
        ("POST", "/webhooks/payments", Cap(200)),
        ("POST", "/webhooksx", Cap(100)),
        ("POST", "/internalx/v1/batches", Cap(100)),
        ("POST", "/", Cap(100)),
    ],
)
def test_each_route_meets_its_cap(method: str, path: str, cap: Cap) -> None:
    assert service_body_limit(LIMITS)({"type": "http", "method": method, "path": path}) == cap


def test_the_caps_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_MAX_UPLOAD_BYTES", "2048")
    monkeypatch.setenv("LC_MAX_BODY_BYTES", "10")
    limit = service_body_limit(BodyLimitSettings())
    assert (
        limit({"method": "POST", "path": "/internal/v1/batches"}).limit == 2048 + UPLOAD_FORM_ROOM
    )
    assert limit({"method": "POST", "path": "/api"}).limit == 10


def test_the_defaults() -> None:
    limit = service_body_limit(BodyLimitSettings())
    assert limit({"method": "POST", "path": "/x"}) == Cap(64 * 1024)
    assert limit({"method": "POST", "path": "/internal/v1/leads/states"}) == Cap(1024 * 1024)
