"""Fencing by the lease epoch, and the dispatch outbox, on the real store and broker.

Two schedulers over one database: the first leads, stops being driven and its
lease runs out; the second takes over (a higher epoch stamps every open entry).
The first, unaware, then tries to dispatch: its fenced write matches nothing,
it raises `LeadershipLost`, and it publishes nothing. And a crash between a
round's write and its publish: the next leader's relay sends every request once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scheduler_helpers import (
    TopicReader,
    accept,
    handler,
    lead,
    make_request_topics,
    publisher,
    read,
    running,
)
from tests.support import until

from lc_common.clock import ManualClock
from lc_common.events import BATCH_EVENTS, BatchEventV1, Topic
from lc_common.store import connect_mongo, database
from lc_common.trunks import load_trunks
from lc_scheduler.adapters.kafka import KafkaProbePublisher
from lc_scheduler.adapters.lease import MongoLeaseStore
from lc_scheduler.adapters.repository import ENTRIES, Repository
from lc_scheduler.bootstrap import Scheduler, build
from lc_scheduler.config import SchedulerSettings
from lc_scheduler.leadership import Leadership, LeadershipLost

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]

# A Wednesday afternoon in Sydney (windows are not enforced here anyway).
NOON = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


class BrokerDown:
    """A probe publisher whose broker refuses everything (the crash before the publish)."""

    async def publish_many(self, topic: Topic | str, events: Any) -> int:
        raise ConnectionError("the process died before publishing")

    async def recover(self) -> None:
        return None


@asynccontextmanager
async def scheduler_on(
    settings: SchedulerSettings, probe_publisher: Any, clock: ManualClock
) -> AsyncIterator[Scheduler]:
    client = connect_mongo(settings)
    try:
        repo = Repository(database(client, settings))
        await repo.ensure_indexes()
        scheduler = build(
            settings,
            repo,
            probe_publisher,
            clock=clock,
            trunks=load_trunks(settings.trunks_file),
        )
        try:
            yield scheduler
        finally:
            await scheduler.aclose()
    finally:
        await client.close()


async def test_a_stale_leader_writes_nothing_publishes_nothing_and_steps_down(
    scheduler_settings: Any, kafka_bootstrap: str
) -> None:
    settings = scheduler_settings()
    clock = ManualClock(NOON)
    topic = settings.topic("probe.requests.beta")
    client = connect_mongo(settings)
    leases = MongoLeaseStore(database(client, settings))
    first_lease = Leadership(leases, clock, "first", ttl=TTL, renew=timedelta(seconds=5))
    second_lease = Leadership(leases, clock, "second", ttl=TTL, renew=timedelta(seconds=5))
    trunks = load_trunks(settings.trunks_file)
    await make_request_topics(settings)
    try:
        async with (
            publisher(settings) as pub,
            TopicReader(kafka_bootstrap, [topic]) as reader,
            scheduler_on(settings, KafkaProbePublisher(settings, pub, trunks), clock) as first,
            scheduler_on(settings, KafkaProbePublisher(settings, pub, trunks), clock) as second,
        ):
            assert await first_lease.try_acquire()
            await first.start(first_lease.epoch)
            leads = [lead("bat_f", i, f"+614{i:08d}") for i in range(3)]
            await accept(first, leads)
            # The first stops being driven; its lease runs out and the second takes over.
            clock.advance(TTL + timedelta(seconds=1))
            assert await second_lease.try_acquire()
            assert second_lease.epoch == first_lease.epoch + 1
            await second.start(second_lease.epoch)
            opened = await read(second.schedule, lambda tx: tx.open_entries())
            assert {e.lead_id for e in opened} == {e.lead_id for e in leads}

            # The first does not know: it tries a round. Its write is refused.
            with pytest.raises(LeadershipLost):
                await first.dispatcher.run_round()
            assert first.schedule.lost
            stored = database(client, settings)[ENTRIES]
            docs = [d async for d in stored.find({})]
            assert {d["state"] for d in docs} == {"queued"}
            assert {d["fence"] for d in docs} == {second_lease.epoch}
            assert await first.relay.publish_unsent() == 0
            with pytest.raises(LeadershipLost):  # a batch record too
                await handler(first, BATCH_EVENTS)(
                    BatchEventV1(account_id="acc_test", batch_id="bat_f", kind="paused")
                )

            # The new leader dispatches every lead once, with its epoch.
            assert await second.dispatcher.run_round() == 3
            await until(lambda: len(reader.probes()) == 3, 30, "the new leader's requests")
            assert {p.epoch for _, p in reader.probes()} == {second_lease.epoch}
            assert Counter(p.lead_id for _, p in reader.probes()) == Counter(
                e.lead_id for e in leads
            )
    finally:
        await client.close()


async def test_requests_committed_but_never_published_are_sent_once_by_the_next_leader(
    scheduler_settings: Any, kafka_bootstrap: str
) -> None:
    settings = scheduler_settings()
    clock = ManualClock(datetime.now(UTC))
    leads = [lead("bat_o", i, f"+614{i:08d}") for i in range(4)]
    async with scheduler_on(settings, BrokerDown(), clock) as crashed:
        await crashed.start(1)
        await accept(crashed, leads)
        assert await crashed.dispatcher.run_round() == 0  # stored outstanding, unsent
        assert len(await read(crashed.schedule, lambda tx: tx.unsent())) == 4
    topic = settings.topic("probe.requests.beta")
    await make_request_topics(settings)
    async with (
        TopicReader(kafka_bootstrap, [topic]) as reader,
        running(settings) as app,
    ):
        schedule = app.state.scheduler.schedule
        await until(lambda: len(reader.probes()) >= 4, 60, "the outbox relayed")
        await until(
            lambda: read(schedule, lambda tx: not tx.unsent()), 30, "every request marked sent"
        )
        # A later relay pass (a sweep) finds nothing unsent: each request went out once.
        await app.state.scheduler.dispatcher.sweep()
        assert Counter(p.lead_id for _, p in reader.probes()) == Counter(
            {e.lead_id: 1 for e in leads}
        )
