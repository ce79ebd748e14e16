"""Credit and closed batches with the service running: real broker, store and HTTP billing.

- An account billing refuses is never dialled beyond what was reserved, and
  resumes when `billing.events` announces `restored`.
- A failed batch's queued leads are never dispatched, its reservations are
  released, its late verdicts change nothing; a retry for a lead the scheduler
  never accepted is not dialled.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from scheduler_helpers import (
    StandInBilling,
    StandInProber,
    final_verdict,
    lead,
    publisher,
    read,
    released_pending,
    running,
)
from tests.support import until

from lc_common.events import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
    BatchEventV1,
    CreditEventV1,
    ProbeRetryV1,
)

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_refused_account_waits_for_restored_credit(
    scheduler_settings: Any, billing: tuple[str, StandInBilling]
) -> None:
    settings = scheduler_settings()
    _, stand_in = billing
    stand_in.credit["acc_poor"] = 1  # one of its three leads can be reserved
    poor = [lead("bat_p", i, f"+614{i:08d}", account="acc_poor") for i in range(3)]
    rich = [lead("bat_r", i, f"+614{100 + i:08d}", account="acc_rich") for i in range(2)]
    async with (
        running(settings) as app,
        publisher(settings) as pub,
        StandInProber(settings, ["alpha", "beta"]) as prober,
    ):
        credit = app.state.scheduler.credit
        await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in poor + rich])
        await until(lambda: credit.blocks.is_blocked("acc_poor"), 60, "the account blocked")
        await until(
            lambda: sum(p.account_id == "acc_rich" for p in prober.requests) == 2,
            60,
            "the other account's leads dispatched",
        )
        assert metric("lc_scheduler_blocked_accounts") == 1
        # Only the reserved lead of the poor account was dialled; the rest wait queued.
        dialled = {p.lead_id for p in prober.requests if p.account_id == "acc_poor"}
        assert dialled == {e.lead_id for e in poor} & set(stand_in.reserved)
        assert len(dialled) == 1
        calls = len(stand_in.calls)
        await app.state.scheduler.dispatcher.run_round()
        assert len(stand_in.calls) == calls  # blocked: billing is not even asked

        stand_in.credit["acc_poor"] = 10
        restored = CreditEventV1(account_id="acc_poor", kind="restored", balance=10)
        await pub.publish_many(BILLING_EVENTS, [("acc_poor", restored)])
        await until(
            lambda: {p.lead_id for p in prober.requests} == {e.lead_id for e in poor + rich},
            60,
            "the account resumed after `restored`",
        )
        assert len(prober.requests) == 5
        assert not credit.blocks.is_blocked("acc_poor")


async def test_a_failed_batch_stops_and_an_unknown_retry_is_not_dialled(
    scheduler_settings: Any, billing: tuple[str, StandInBilling]
) -> None:
    settings = scheduler_settings()
    _, stand_in = billing
    failing = [lead("bat_f", i, f"+614{i:08d}") for i in range(8)]
    async with (
        running(settings) as app,
        publisher(settings) as pub,
        StandInProber(settings, ["alpha", "beta"]) as prober,
    ):
        prober.answer = False  # the calls stay in flight
        schedule = app.state.scheduler.schedule
        await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in failing])
        # beta's bound: 6 out, 2 queued.
        await until(lambda: len(prober.requests) == 6, 60, "six probes out")
        failed = BatchEventV1(
            account_id="acc_test", batch_id="bat_f", kind="failed", reason="unreadable"
        )
        await pub.publish_many(BATCH_EVENTS, [("bat_f", failed)])
        await until(lambda: stand_in.releases == ["bat_f"], 60, "the reservations released")
        assert not stand_in.reserved
        assert not await read(schedule, lambda tx: tx.open_entries("bat_f"))
        await until(
            lambda: read(schedule, lambda tx: not released_pending(tx, "bat_f")),
            30,
            "the release recorded",
        )

        # Late verdicts of the calls in flight, a retry of a dropped lead and one of a
        # lead never accepted: none is dialled. Then a good lead goes through.
        unknown_before = metric("lc_scheduler_unknown_lead_retries_total")
        late = [(p.lead_id, final_verdict(p)) for p in prober.requests]
        await pub.publish_many(LEAD_VERDICTS, late)
        retries = [
            ProbeRetryV1(
                account_id="acc_test",
                batch_id=batch,
                lead_id=f"{batch}:000000001",
                e164="+61400000001",
                attempt=2,
                reason="indeterminate",
                not_before=failed.occurred_at,
            )
            for batch in ("bat_f", "bat_never")
        ]
        await pub.publish_many(PROBE_RETRIES, [(r.lead_id, r) for r in retries])
        await until(
            lambda: metric("lc_scheduler_unknown_lead_retries_total") - unknown_before == 2,
            60,
            "both retries skipped",
        )
        good = lead("bat_g", 1, "+61412345999")
        await pub.publish_many(LEADS_ACCEPTED, [(good.lead_id, good)])
        await until(
            lambda: any(p.lead_id == good.lead_id for p in prober.requests), 60, "the good lead"
        )
        assert {p.batch_id for p in prober.requests} == {"bat_f", "bat_g"}
        assert sum(p.batch_id == "bat_f" for p in prober.requests) == 6
        assert not any(p.batch_id == "bat_never" for p in prober.requests)
