"""Pure helpers of the web layer: upload cap, request ids, route labels, panel formatting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from lc_gateway.edge.observability import request_id_from, route_of
from lc_gateway.edge.uploads import capped
from lc_gateway.errors import BodyTooLarge
from lc_gateway.panel.common import local_time, safe_next


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_capped_passes_bytes_through_unchanged_up_to_the_limit() -> None:
    out = [chunk async for chunk in capped(pieces(b"abc", b"", b"defg"), 7)]
    assert out == [b"abc", b"defg"]


async def test_capped_stops_as_soon_as_the_limit_is_passed() -> None:
    seen: list[bytes] = []
    with pytest.raises(BodyTooLarge):
        async for chunk in capped(pieces(b"abcd", b"efgh", b"never"), 7):
            seen.append(chunk)
    assert seen == [b"abcd"]


def test_a_sane_request_id_is_kept_and_others_are_replaced() -> None:
    assert request_id_from([(b"x-request-id", b"abc-123")]) == "abc-123"
    generated = request_id_from([(b"x-request-id", b"bad id\nwith newline")])
    assert len(generated) == 32 and generated != "bad id\nwith newline"
    assert request_id_from([]) != request_id_from([])


def test_route_labels_are_templates_not_raw_paths() -> None:
    scope = {
        "path": "/api/v1/batches/bat_1/download",
        "endpoint": object(),
        "path_params": {"batch_id": "bat_1"},
    }
    assert route_of(scope) == "/api/v1/batches/{batch_id}/download"
    assert route_of({"path": "/batches", "endpoint": object(), "path_params": {}}) == "/batches"
    static = {
        "path": "/static/css/a.css",
        "endpoint": object(),
        "path_params": {"path": "css/a.css"},
    }
    assert route_of(static) == "/static/{path}"
    assert route_of({"path": "/random/probe"}) == "unmatched"


def test_times_are_shown_in_the_accounts_time_zone() -> None:
    assert local_time("2025-03-04T01:02:03+00:00", "Australia/Sydney") == "2025-03-04 12:02"
    assert local_time("2025-07-04T01:02:03Z", "Australia/Sydney") == "2025-07-04 11:02"
    assert local_time("2025-07-04T01:02:03", "Nowhere/Invalid") == "2025-07-04 01:02"
    assert local_time(None) == "—"
    assert local_time("not a time") == "not a time"


def test_only_local_paths_are_followed_after_login() -> None:
    assert safe_next("/billing") == "/billing"
    for unsafe in (None, "", "https://evil.test/", "//evil.test/x", "/\\evil.test"):
        assert safe_next(unsafe) == "/batches"
