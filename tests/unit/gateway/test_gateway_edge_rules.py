"""Pure rules of the gateway's edge: idempotency keys, session expiry, upload fields, secrets."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from lc_common.clock import ManualClock
from lc_gateway import accounts
from lc_gateway.config import GatewaySettings
from lc_gateway.domain.idempotency import (
    DONE,
    IN_PROGRESS,
    KeyRecord,
    StoredResponse,
    checked_key,
    replay,
    stale,
)
from lc_gateway.domain.sessions import SessionRecord, expired
from lc_gateway.edge.upload_form import UploadForm
from lc_gateway.errors import (
    FieldInvalid,
    GatewayError,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
)
from lc_gateway.sessions import Sessions

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def record(state: str, request_hash: str | None, **changes: Any) -> KeyRecord:
    fields: dict[str, Any] = {
        "account_id": "acc_1",
        "key": "k",
        "state": state,
        "request_hash": request_hash,
        "response": StoredResponse(201, {"id": "bat_1"}) if state == DONE else None,
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
        "lease_until": T0 + timedelta(minutes=10),
        **changes,
    }
    return KeyRecord(**fields)


def test_a_done_key_replays_only_the_same_request() -> None:
    done = record(DONE, "h1")
    assert replay(done, "h1") == StoredResponse(201, {"id": "bat_1"})
    with pytest.raises(IdempotencyKeyReused):
        replay(done, "h2")


def test_a_key_in_flight_answers_409_or_422_for_another_request() -> None:
    with pytest.raises(IdempotencyKeyInProgress):
        replay(record(IN_PROGRESS, None), None)
    with pytest.raises(IdempotencyKeyInProgress):
        replay(record(IN_PROGRESS, "h1"), "h1")
    with pytest.raises(IdempotencyKeyReused):
        replay(record(IN_PROGRESS, "h1"), "h2")


def test_keys_expire_and_abandoned_claims_are_taken_over() -> None:
    assert not stale(record(DONE, "h"), T0 + timedelta(hours=23))
    assert stale(record(DONE, "h"), T0 + timedelta(hours=24))
    assert not stale(record(IN_PROGRESS, None), T0 + timedelta(minutes=9))
    assert stale(record(IN_PROGRESS, None), T0 + timedelta(minutes=10))


def test_key_shape() -> None:
    assert checked_key(None) is None
    assert checked_key("order-42_x") == "order-42_x"
    for bad in ("", "x" * 256, "with space", "ünïcode"):
        with pytest.raises(GatewayError):
            checked_key(bad)


def test_sessions_expire_idle_or_absolute() -> None:
    session = SessionRecord("t", "usr_1", {"uid": "usr_1"}, T0, T0 + timedelta(hours=11))
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    assert not expired(session, T0 + timedelta(hours=11, minutes=29), idle, absolute)
    assert expired(session, T0 + timedelta(hours=11, minutes=30), idle, absolute)
    assert expired(session, T0 + timedelta(hours=12), idle, absolute)


class MemorySessions:
    def __init__(self) -> None:
        self.records: dict[str, SessionRecord] = {}

    async def load(self, token: str) -> SessionRecord | None:
        return self.records.get(token)

    async def insert(self, record: SessionRecord) -> None:
        self.records[record.token] = record

    async def save(self, token: str, data: dict[str, Any], seen_at: datetime) -> None:
        old = self.records[token]
        self.records[token] = SessionRecord(token, old.user_id, data, old.created_at, seen_at)

    async def delete(self, token: str) -> None:
        self.records.pop(token, None)

    async def delete_user_sessions(self, user_id: str, keep: str | None = None) -> int:
        mine = [t for t, r in self.records.items() if r.user_id == user_id and t != keep]
        for token in mine:
            del self.records[token]
        return len(mine)


async def test_a_login_gets_a_new_id_and_idle_sessions_are_gone() -> None:
    clock, store = ManualClock(T0), MemorySessions()
    sessions = Sessions(store, clock, idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    anonymous = await sessions.save(None, {"csrf": "x"})
    assert anonymous is not None
    before_login = await sessions.open(anonymous)
    logged_in = await sessions.save(before_login, {"uid": "usr_1", "csrf": "y"})
    assert logged_in is not None and logged_in != anonymous
    assert await sessions.open(anonymous) is None
    clock.advance(timedelta(minutes=31))
    assert await sessions.open(logged_in) is None
    assert store.records == {}


def multipart(parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "b0undary"
    body = b""
    for name, value in parts:
        filename = '; filename="a.csv"' if name == "file" else ""
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{filename}\r\n\r\n'
            ).encode()
            + value
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_an_upload_form_keeps_fields_and_hashes_the_file() -> None:
    body, content_type = multipart(
        [("csrf_token", b"tok"), ("name", b" May "), ("file", b"phone\n1\n")]
    )
    form = UploadForm(content_type)
    for start in range(0, len(body), 7):
        form.feed(body[start : start + 7])
    form.check_complete()
    assert form.fields == {"name": "May"}
    assert form.csrf_token == "tok"
    same = UploadForm(content_type)
    same.feed(body)
    assert same.request_hash() == form.request_hash()
    other_body, _ = multipart([("name", b"May"), ("file", b"phone\n2\n")])
    other = UploadForm(content_type)
    other.feed(other_body)
    assert other.request_hash() != form.request_hash()


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", b"n" * 201), ("reference", b"r" * 100_000), ("default_region", b"AUS")],
)
def test_an_upload_form_refuses_long_fields(field: str, value: bytes) -> None:
    body, content_type = multipart([(field, value), ("file", b"x")])
    form = UploadForm(content_type)
    with pytest.raises(FieldInvalid):
        form.feed(body)


def test_default_region_is_two_letters() -> None:
    body, content_type = multipart([("default_region", b"1a"), ("file", b"x")])
    form = UploadForm(content_type)
    form.feed(body)
    with pytest.raises(FieldInvalid):
        form.check_complete()


def test_production_refuses_weak_secrets() -> None:
    strong = SecretStr("q7Vt2mXc9LpR4wZa8NbK3yHd6FgJ1sUe")
    GatewaySettings(environment="production", internal_token=strong, session_secret=strong)
    for weak in ("short-secret", "dev-only-secret-change-me", "s" * 40):
        with pytest.raises(ValidationError):
            GatewaySettings(
                environment="production", internal_token=SecretStr(weak), session_secret=strong
            )


async def test_password_hashing_runs_in_bounded_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    running = peak = 0

    def slow_verify(password_hash: str, password: str) -> bool:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        time.sleep(0.05)
        running -= 1
        return False

    monkeypatch.setattr(accounts, "verify_password", slow_verify)

    class NoUsers:
        async def user_by_login(self, login: str) -> None:
            return None

    service = accounts.AccountService(NoUsers(), hash_slots=2)  # type: ignore[arg-type]
    await asyncio.gather(*(service.authenticate(f"u{i}@x.test", "pw") for i in range(8)))
    assert peak == 2
