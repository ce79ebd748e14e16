"""The notifier against a real broker, store, SMTP server and HTTP stand-ins for its peers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.integration.notifier.support import (
    ProcessedLead,
    consumed,
    daily_runs,
    gateway_app,
    ingest_app,
    sample,
)
from tests.support import serving, until

from lc_common.clock import ManualClock
from lc_common.events import (
    BATCH_EVENTS,
    LEAD_VERDICTS,
    BatchEventV1,
    Evidence,
    LeadVerdictV1,
)
from lc_common.kafka import Publisher, ensure_topics
from lc_localstack.mailbox import Mailbox, running_mailbox
from lc_localstack.peers import free_port
from lc_notifier.bootstrap import build
from lc_notifier.config import NotifierSettings
from lc_notifier.domain import daily_due_at
from lc_notifier.handlers import handle_batch_event, handle_verdict, run_daily
from lc_notifier.main import create_app

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.smtp]

DAY = date(2025, 3, 3)
ACCOUNTS = {
    "acc_busy": {
        "id": "acc_busy",
        "name": "Busy Calls",
        "email": "ops@busy.test",
        "time_zone": "Australia/Sydney",
    },
    "acc_quiet": {
        "id": "acc_quiet",
        "name": "Quiet",
        "email": "q@quiet.test",
        "time_zone": "Australia/Sydney",
    },
    "acc_night": {
        "id": "acc_night",
        "name": "Night Owls",
        "email": "ops@night.test",
        "time_zone": "Australia/Sydney",
    },
}
SYDNEY = ZoneInfo("Australia/Sydney")
BATCH = {
    "id": "bat_done",
    "account_id": "acc_busy",
    "name": "March leads",
    "reference": "PO-77",
    "status": "finished",
    "finished_at": "2025-03-03T07:04:00+00:00",
    "imported": 4,
    "accepted": 3,
    "rejected": 1,
    "connected": 2,
    "disconnected": 1,
    "indeterminate": 0,
    "retry": 0,
    "processed": 3,
    "remaining": 0,
}
# 10:00 UTC is 21:00 AEDT: both batches' leads fall on the 3rd in Sydney.
AT = datetime(2025, 3, 3, 10, tzinfo=UTC)
# 23:30 and 00:30 Sydney summer time: one UTC date, two local dates.
LATE, EARLY = datetime(2025, 3, 3, 12, 30, tzinfo=UTC), datetime(2025, 3, 3, 13, 30, tzinfo=UTC)
LEADS = [
    *(
        ProcessedLead("acc_busy", "bat_done", "March leads", "PO-77", s, AT)
        for s in ("connected", "connected", "disconnected")
    ),
    ProcessedLead("acc_busy", "bat_two", "Second", "", "connected", AT),
    ProcessedLead("acc_night", "bat_night", "Night shift", "N-1", "connected", LATE),
    ProcessedLead("acc_night", "bat_night", "Night shift", "N-1", "disconnected", EARLY),
]


@dataclass
class Stack:
    settings: NotifierSettings
    mailbox: Mailbox
    clock: ManualClock
    publisher: Publisher
    daily_asked: list[tuple[str, str, str]]


@pytest.fixture
async def stack(service_env: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    gateway_port, ingest_port = free_port(), free_port()
    ingest, asked = ingest_app({"bat_done": BATCH}, LEADS)
    async with (
        running_mailbox(tmp_path / "mail") as mailbox,
        serving(gateway_app(ACCOUNTS), gateway_port) as gateway_url,
        serving(ingest, ingest_port) as ingest_url,
    ):
        settings = NotifierSettings(
            http_port=free_port(),
            gateway_url=gateway_url,
            ingest_url=ingest_url,
            public_url="https://app.example",
            smtp_port=mailbox.port,
            daily_check_interval_seconds=0.1,
        )
        await ensure_topics(settings, [BATCH_EVENTS, LEAD_VERDICTS])
        publisher = Publisher(settings)
        await publisher.start()
        clock = ManualClock(datetime(2025, 3, 3, 12, tzinfo=UTC))
        yield Stack(settings, mailbox, clock, publisher, asked)
        await publisher.stop()


def _finished(**overrides: Any) -> BatchEventV1:
    return BatchEventV1(
        **{"account_id": "acc_busy", "batch_id": "bat_done", "kind": "finished", **overrides}
    )


async def test_a_finished_batch_gets_one_email_despite_redelivery_and_restarts(
    stack: Stack,
) -> None:
    settings = stack.settings
    group = "notifier.batch-events"
    ok_before = consumed(BATCH_EVENTS.name, group)
    dead_before = consumed(BATCH_EVENTS.name, group, "dead_lettered")
    event = _finished()
    sends = [_finished(kind="queued"), event, event, _finished()]
    async with serving(create_app(settings, stack.clock), settings.http_port):
        await stack.publisher.producer.send_and_wait(
            settings.topic(BATCH_EVENTS.name), b"{garbage", key=b"bat_done"
        )
        for e in sends:
            await stack.publisher.publish(BATCH_EVENTS, e, key=e.batch_id)
        await until(lambda: consumed(BATCH_EVENTS.name, group) - ok_before >= len(sends))
        assert consumed(BATCH_EVENTS.name, group, "dead_lettered") - dead_before == 1

    # A restarted notifier (new clients, same store) that sees the event again sends nothing:
    # the handler is called directly, as rejoining the same consumer group takes the
    # broker a session timeout.
    runtime = await build(settings, stack.clock)
    try:
        await handle_batch_event(event, runtime.deps)
    finally:
        await runtime.close()

    [mail] = stack.mailbox.messages()
    assert mail["To"] == "ops@busy.test"
    assert mail["Subject"] == "Batch finished: March leads"
    assert mail["Message-ID"].startswith("<final.bat_done@")
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    # The panel's route (C3): logged out, it goes through the login page and back.
    assert "https://app.example/batches/bat_done/download" in text.get_content().splitlines()
    assert 'href="https://app.example/batches/bat_done/download"' in html.get_content()
    assert "/api/" not in text.get_content() + html.get_content()
    assert "Connected      2" in text.get_content()


def _verdict(
    account_id: str,
    row: int,
    final: bool = True,
    batch_id: str = "bat_done",
    at: datetime = AT,
) -> LeadVerdictV1:
    return LeadVerdictV1(
        account_id=account_id,
        batch_id=batch_id,
        lead_id=f"{batch_id}:{row:09d}",
        probe_id=f"p{row}",
        attempt=1,
        status="connected",
        final=final,
        detail="SIP 180 Ringing",
        confidence=90,
        evidence=Evidence(trunk="t1", codes=[180], tested_at=at),
        occurred_at=at,
    )


async def _passes(n: int) -> None:
    """Wait for `n` more passes of the running notifier's daily loop."""
    start = daily_runs()
    await until(lambda: daily_runs() - start >= n, what=f"{n} daily passes")


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def test_the_daily_summary_goes_once_when_due_with_links_for_that_day(
    stack: Stack,
) -> None:
    settings = stack.settings
    group = "notifier.lead-verdicts"
    before = consumed(LEAD_VERDICTS.name, group)
    verdicts = [
        _verdict("acc_busy", 1),
        _verdict("acc_busy", 2),
        _verdict("acc_busy", 2),
        _verdict("acc_busy", 3, final=False),
        _verdict("acc_quiet", 4),
    ]
    due = daily_due_at(DAY, SYDNEY, settings.daily_hour)
    assert due == datetime(2025, 3, 4, settings.daily_hour, tzinfo=SYDNEY)

    async with serving(create_app(settings, stack.clock), settings.http_port):
        for v in verdicts:
            await stack.publisher.publish(LEAD_VERDICTS, v, key=v.lead_id)
        await until(lambda: consumed(LEAD_VERDICTS.name, group) - before >= len(verdicts))

        await _passes(2)
        stack.clock.set(due - timedelta(minutes=1))
        await _passes(2)
        assert stack.mailbox.files() == []
        assert stack.daily_asked == []

        stack.clock.set(due)
        await stack.mailbox.wait_for(1)
        await _passes(3)
        stack.clock.advance(timedelta(days=1))
        await _passes(3)

    [mail] = stack.mailbox.messages()
    assert mail["To"] == "ops@busy.test"
    assert mail["Subject"] == "Leads processed on 2025-03-03"
    text = _text(mail)
    assert "4 leads were processed on 2025-03-03 (Australia/Sydney time)." in text
    for batch_id in ("bat_done", "bat_two"):
        link = f"https://app.example/batches/{batch_id}/download?processed_on=2025-03-03"
        assert link in text
    # The quiet account was asked once, in its zone, had nothing processed, and got no mail.
    assert sorted(stack.daily_asked) == [
        ("acc_busy", "2025-03-03", "Australia/Sydney"),
        ("acc_quiet", "2025-03-03", "Australia/Sydney"),
    ]


async def test_leads_at_2330_and_0030_in_sydney_get_one_summary_per_local_day(
    stack: Stack,
) -> None:
    """One UTC date, two Sydney dates: two summaries, each once, after its own day and
    the daily hour, each linking to the leads of its own local date."""
    settings = stack.settings
    group = "notifier.lead-verdicts"
    before = consumed(LEAD_VERDICTS.name, group)
    late = _verdict("acc_night", 1, batch_id="bat_night", at=LATE)
    early = _verdict("acc_night", 2, batch_id="bat_night", at=EARLY)
    assert (
        late.occurred_at.astimezone(SYDNEY).hour,
        early.occurred_at.astimezone(SYDNEY).hour,
    ) == (23, 0)
    verdicts = [late, early, late, early]  # redelivered
    first_due = daily_due_at(date(2025, 3, 3), SYDNEY, settings.daily_hour)
    second_due = daily_due_at(date(2025, 3, 4), SYDNEY, settings.daily_hour)
    assert second_due - first_due == timedelta(days=1)
    stack.clock.set(EARLY + timedelta(minutes=5))

    async with serving(create_app(settings, stack.clock), settings.http_port):
        for v in verdicts:
            await stack.publisher.publish(LEAD_VERDICTS, v, key=v.lead_id)
        await until(lambda: consumed(LEAD_VERDICTS.name, group) - before >= len(verdicts))
        await _passes(2)
        stack.clock.set(first_due - timedelta(seconds=1))
        await _passes(2)
        assert stack.mailbox.files() == []

        stack.clock.set(first_due)
        await stack.mailbox.wait_for(1)
        stack.clock.set(second_due - timedelta(seconds=1))
        await _passes(3)
        assert len(stack.mailbox.files()) == 1

        stack.clock.set(second_due)
        await stack.mailbox.wait_for(2)
        stack.clock.advance(timedelta(days=2))
        await _passes(3)

    # A restarted notifier that sees the verdicts again and runs its daily pass sends nothing.
    runtime = await build(settings, stack.clock)
    try:
        for v in verdicts:
            await handle_verdict(v, runtime.deps)
        await run_daily(runtime.deps)
    finally:
        await runtime.close()

    first, second = stack.mailbox.messages()
    for mail, day, counts in (
        (first, "2025-03-03", "connected 1, disconnected 0"),
        (second, "2025-03-04", "connected 0, disconnected 1"),
    ):
        assert mail["To"] == "ops@night.test"
        assert mail["Subject"] == f"Leads processed on {day}"
        assert mail["X-LC-Notification"] == f"daily:acc_night:{day}"
        text = _text(mail)
        assert f"1 leads were processed on {day} (Australia/Sydney time)." in text
        assert f"https://app.example/batches/bat_night/download?processed_on={day}" in text
        assert f"Processed 1: {counts}" in text
        html = mail.get_body(preferencelist=("html",))
        assert html is not None
        link = f"https://app.example/batches/bat_night/download?processed_on={day}"
        assert f'href="{link}"' in html.get_content()
    assert sorted(stack.daily_asked) == [
        ("acc_night", "2025-03-03", "Australia/Sydney"),
        ("acc_night", "2025-03-04", "Australia/Sydney"),
    ]


async def test_a_failed_send_is_recorded_and_retried(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"smtp_port": free_port()})  # nobody listens
    group = "notifier.batch-events"
    before = consumed(BATCH_EVENTS.name, group)
    async with serving(create_app(settings, stack.clock), settings.http_port):
        await stack.publisher.publish(BATCH_EVENTS, _finished(), key="bat_done")
        await until(lambda: consumed(BATCH_EVENTS.name, group) - before >= 1)
    assert stack.mailbox.files() == []

    # The relay is back; after the back-off a daily-loop pass (of a restarted notifier) retries.
    runtime = await build(stack.settings, stack.clock)
    try:
        await run_daily(runtime.deps)
        assert stack.mailbox.files() == []  # the back-off has not passed yet
        stack.clock.advance(timedelta(minutes=2))
        await run_daily(runtime.deps)
        await run_daily(runtime.deps)
    finally:
        await runtime.close()
    [mail] = stack.mailbox.messages()
    assert mail["X-LC-Notification"] == "final:bat_done"


async def test_a_verdict_of_an_account_the_gateway_does_not_know_is_left_not_parked(
    stack: Stack,
) -> None:
    settings = stack.settings
    group = "notifier.lead-verdicts"
    ok = consumed(LEAD_VERDICTS.name, group)
    parked = consumed(LEAD_VERDICTS.name, group, "dead_lettered")

    def skipped() -> float:
        name = "lc_notifier_notifications_skipped_total"
        return sample(name, kind="daily", reason="unknown_account")

    skipped_before = skipped()
    verdicts = [_verdict("acc_gone", 1), _verdict("acc_busy", 2)]
    async with serving(create_app(settings, stack.clock), settings.http_port):
        for v in verdicts:
            await stack.publisher.publish(LEAD_VERDICTS, v, key=v.lead_id)
        await until(lambda: consumed(LEAD_VERDICTS.name, group) - ok >= len(verdicts))
    assert consumed(LEAD_VERDICTS.name, group, "dead_lettered") == parked
    assert skipped() - skipped_before == 1
    runtime = await build(settings, stack.clock)
    try:
        pending = await runtime.deps.activity.pending(date(2025, 3, 10))
    finally:
        await runtime.close()
    assert pending == [("acc_busy", DAY)]
