"""A pause voids the batch's requests already out (the prober drops them without a call):
the scheduler queues those leads again, keeps their reservations, and dials each once
after the batch resumes."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_helpers import (
    StandInBilling,
    StandInProber,
    all_final,
    lead,
    publisher,
    read,
    running,
)
from tests.support import until

from lc_common.events import BATCH_EVENTS, LEADS_ACCEPTED, BatchEventV1

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_requests_out_at_a_pause_are_dialled_again_after_resume_on_their_reservation(
    scheduler_settings: Any, billing: tuple[str, StandInBilling]
) -> None:
    settings = scheduler_settings(pause_requeue_after_seconds=1.0)
    stand_in = billing[1]
    stand_in.credit["acc_v"] = 4  # exactly one unit per lead: a second reservation would fail
    leads = [lead("bat_v", i, f"+614{i:08d}", "acc_v") for i in range(4)]
    async with running(settings) as app, publisher(settings) as pub:
        scheduler = app.state.scheduler
        async with StandInProber(settings, ["alpha", "beta"]) as prober:
            prober.answer = False  # the prober drops them: nothing comes back
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in leads])
            await until(lambda: len(prober.requests) == 4, 60, "four requests out")
            first = {p.lead_id: p for p in prober.requests}
            pause = BatchEventV1(account_id="acc_v", batch_id="bat_v", kind="paused")
            assert all(
                p.dispatched_at is not None and p.dispatched_at <= pause.occurred_at
                for p in first.values()
            )
            await pub.publish(BATCH_EVENTS, pause, key="bat_v")

            async def voided() -> bool:
                entries = await read(
                    scheduler.schedule, lambda tx: [tx.entry(lid) for lid in first]
                )
                return all(
                    e is not None and e.state == "queued" and e.last_reason == "paused"
                    for e in entries
                )

            await until(voided, 60, "the requests out voided, their leads queued again")
            assert not await read(scheduler.schedule, lambda tx: tx.outstanding("beta"))
            # Due again, but paused: nothing goes out.
            await until(
                lambda: read(
                    scheduler.schedule,
                    lambda tx: all(
                        e.due_at <= scheduler.dispatcher.clock.now() for e in tx.open_entries()
                    ),
                ),
                30,
                "the voided leads due",
            )
            for _ in range(3):
                assert await scheduler.dispatcher.run_round() == 0
            assert len(prober.requests) == 4

            prober.answer = True
            resume = BatchEventV1(account_id="acc_v", batch_id="bat_v", kind="resumed")
            await pub.publish(BATCH_EVENTS, resume, key="bat_v")
            await until(lambda: all_final(scheduler.schedule), 60, "every lead final")
    again = prober.requests[4:]
    assert sorted(p.lead_id for p in again) == sorted(first)
    assert all(p.probe_id != first[p.lead_id].probe_id for p in again)
    assert all(p.attempt == first[p.lead_id].attempt for p in again)
    # Dialled again on the reservation it held: none refused, none asked for twice.
    assert sorted(stand_in.reserved) == sorted(first)
    assert stand_in.credit["acc_v"] == 0
