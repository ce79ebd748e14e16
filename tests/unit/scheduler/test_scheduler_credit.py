"""Credit before every dial, closed batches, the outbox's request fields, unknown leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from scheduler_fakes import FakeIngest, Harness, batch, lead

from lc_common.clock import ManualClock
from lc_common.events import (
    BILLING_EVENTS,
    PROBE_RETRIES,
    CreditEventV1,
    LeadAcceptedV1,
    ProbeRequestV1,
    ProbeRetryV1,
)
from lc_scheduler.adapters.ingest import OpenLead
from lc_scheduler.config import SchedulerSettings

# A Wednesday, 14:00 in Sydney: inside every AU window.
NOON = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)


def mobiles(batch: str, n: int, account: str = "acc_1", start: int = 0) -> list[LeadAcceptedV1]:
    return [lead(batch, start + i, f"+614{10000000 + start + i:08d}", account) for i in range(n)]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_lead_is_dispatched_only_once_its_credit_is_reserved() -> None:
    h = await Harness(ManualClock(NOON)).start()
    await h.accept(*mobiles("bat_1", 3))
    sent = await h.round()
    assert {p.lead_id for p in sent} == set(h.billing.reserved)
    assert h.billing.calls == [("acc_1", sorted(p.lead_id for p in sent))]


async def test_an_account_without_credit_is_blocked_until_credit_is_restored() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock, credit_recheck_seconds=30).start()
    h.billing.credit["acc_poor"] = 0
    await h.accept(*mobiles("bat_p", 3, account="acc_poor"))
    await h.accept(*mobiles("bat_r", 2, account="acc_rich", start=100))
    sent = await h.round()
    assert {p.account_id for p in sent} == {"acc_rich"} and len(sent) == 2
    assert metric("lc_scheduler_blocked_accounts") == 1
    calls = len(h.billing.calls)
    assert await h.round() == [] and len(h.billing.calls) == calls  # blocked: not even asked
    assert {h.entry(e.lead_id).state for e in mobiles("bat_p", 3, account="acc_poor")} == {"queued"}
    h.billing.credit["acc_poor"] = 10
    await h.deliver(
        BILLING_EVENTS, CreditEventV1(account_id="acc_poor", kind="restored", balance=10)
    )
    assert len(await h.round()) == 3
    assert metric("lc_scheduler_blocked_accounts") == 0


async def test_a_blocked_account_is_rechecked_with_one_reservation_per_period() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock, credit_recheck_seconds=30).start()
    h.billing.credit["acc_1"] = 0
    await h.accept(*mobiles("bat_c", 4))
    assert await h.round() == []
    clock.advance(timedelta(seconds=29))
    assert await h.round() == []
    assert len(h.billing.calls) == 1
    clock.advance(timedelta(seconds=1))
    assert await h.round() == []  # re-checked with one lead: refused again
    assert [len(leads) for _, leads in h.billing.calls] == [4, 1]
    h.billing.credit["acc_1"] = 100  # bought, but the `restored` event was lost
    clock.advance(timedelta(seconds=30))
    # The re-check (one lead) is granted: unblocked, the next round takes the rest.
    assert len(await h.round()) == 4
    assert [len(leads) for _, leads in h.billing.calls] == [4, 1, 1, 3]


async def test_a_partial_grant_dispatches_only_the_reserved_leads() -> None:
    h = await Harness(ManualClock(NOON)).start()
    h.billing.credit["acc_1"] = 2
    await h.accept(*mobiles("bat_g", 5))
    sent = await h.round()
    assert len(sent) == 2 and {p.lead_id for p in sent} == set(h.billing.reserved)
    states = [h.entry(e.lead_id).state for e in mobiles("bat_g", 5)]
    assert sorted(states) == ["outstanding", "outstanding", "queued", "queued", "queued"]
    assert h.scheduler.credit.blocks.is_blocked("acc_1")


async def test_nothing_is_dialled_while_billing_does_not_answer() -> None:
    h = await Harness(ManualClock(NOON)).start()
    await h.accept(*mobiles("bat_d", 3))
    before = metric("lc_scheduler_reservations_total", outcome="unanswered")
    h.billing.down = True
    assert await h.round() == []
    assert metric("lc_scheduler_reservations_total", outcome="unanswered") - before == 3
    assert not await h.read(lambda tx: tx.outstanding("beta"))
    h.billing.down = False
    assert len(await h.round()) == 3


async def test_a_settled_lead_is_closed_without_a_call() -> None:
    h = await Harness(ManualClock(NOON)).start()
    first, second = mobiles("bat_s", 2)
    h.billing.settled.add(first.lead_id)
    await h.accept(first, second)
    sent = await h.round()
    assert [p.lead_id for p in sent] == [second.lead_id]
    assert h.entry(first.lead_id).state == "final"


def held_open(lead: LeadAcceptedV1) -> OpenLead:
    """The lead as ingest reports it while it has no final verdict for it."""
    return OpenLead(
        lead_id=lead.lead_id,
        batch_id=lead.batch_id,
        account_id=lead.account_id,
        e164=lead.e164,
        state="testing",
    )


async def test_a_redriven_lead_billing_already_charged_is_tested_again() -> None:
    # Billing charged it on its final verdict; ingest never got that verdict (broker
    # loss), so only another call gets ingest a final verdict for it.
    clock = ManualClock(NOON)
    lead = mobiles("bat_g", 1)[0]
    open_lead = held_open(lead)
    h = await Harness(clock, ingest=FakeIngest([open_lead]), redrive_final_grace_seconds=60).start()
    await h.accept(lead)
    (first,) = await h.round()
    await h.verdict(first, final=True)
    h.billing.settled.add(lead.lead_id)
    clock.advance(timedelta(seconds=61))
    assert (await h.scheduler.redriver.run()).reopened == 1
    (again,) = await h.round()
    assert again.lead_id == lead.lead_id and again.probe_id != first.probe_id


async def test_a_lead_is_not_reopened_before_ingest_has_read_that_far() -> None:
    # Ingest restarting (or catching up) holds the lead open only because it has not
    # read its verdict yet: taking it back would ring the number a second time.
    clock = ManualClock(NOON)
    lead = mobiles("bat_r", 1)[0]
    open_lead = held_open(lead)
    ingest = FakeIngest([open_lead])
    h = await Harness(clock, ingest=ingest, redrive_final_grace_seconds=60).start()
    await h.accept(lead)
    (first,) = await h.round()
    ingest.read_before = clock.now() - timedelta(seconds=1)  # the verdict is still unread
    await h.verdict(first, final=True)
    clock.advance(timedelta(seconds=600))
    result = await h.scheduler.redriver.run()
    assert (result.reopened, result.deferred) == (0, 1)
    assert await h.round() == [] and h.entry(lead.lead_id).state == "final"
    ingest.read_before = clock.now()  # ingest read it and still holds the lead open: lost
    assert (await h.scheduler.redriver.run()).reopened == 1
    (again,) = await h.round()
    assert again.lead_id == lead.lead_id


async def test_a_failed_batch_stops_and_its_reservations_are_released() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_f", 10))
    out = await h.round()  # 6 out (beta's bound), 4 queued
    await h.batch_event("bat_f", "failed")
    assert not await h.read(lambda tx: tx.open_entries()) and not h.store.entries_by_id
    assert await h.read(lambda tx: batch(tx, "bat_f").release_pending)
    await h.scheduler.credit.release_closed()
    assert h.billing.releases == ["bat_f"] and not h.billing.reserved
    assert not await h.read(lambda tx: batch(tx, "bat_f").release_pending)
    # Calls in flight may still answer: nothing changes, nothing more is dialled.
    await h.verdict(out[0], final=False, next_attempt_at=clock.now())
    await h.retry(out[1], not_before=clock.now())
    await h.accept(*mobiles("bat_f", 10))  # a late replay
    assert await h.round() == []
    assert not h.store.entries_by_id
    await h.scheduler.credit.release_closed()
    assert h.billing.releases == ["bat_f"]  # released once


async def test_a_release_is_asked_again_until_billing_answers() -> None:
    h = await Harness(ManualClock(NOON)).start()
    await h.accept(*mobiles("bat_x", 2))
    await h.round()
    await h.batch_event("bat_x", "deleted")
    h.billing.down = True
    assert await h.scheduler.credit.release_closed() == []
    h.billing.down = False
    assert await h.scheduler.credit.release_closed() == ["bat_x"]
    assert not h.billing.reserved


async def test_a_retry_for_a_lead_never_accepted_is_not_dialled() -> None:
    h = await Harness(ManualClock(NOON)).start()
    before = metric("lc_scheduler_unknown_lead_retries_total")
    await h.deliver(
        PROBE_RETRIES,
        ProbeRetryV1(
            account_id="acc_1",
            batch_id="bat_u",
            lead_id="bat_u:000000001",
            e164="+61412345678",
            attempt=2,
            reason="indeterminate",
            not_before=NOON,
        ),
    )
    assert await h.round() == [] and not h.store.entries_by_id
    assert metric("lc_scheduler_unknown_lead_retries_total") - before == 1


async def test_a_final_verdict_closes_the_lead_whatever_its_probe_id() -> None:
    h = await Harness(ManualClock(NOON)).start()
    await h.accept(*mobiles("bat_v", 1))
    (probe,) = await h.round()
    # The classifier re-emits the final verdict of a lead already final there.
    await h.verdict(probe.model_copy(update={"probe_id": "another-probe"}), final=True)
    assert h.entry(probe.lead_id).state == "final"
    assert not await h.read(lambda tx: tx.outstanding("beta"))


async def test_requests_carry_the_epoch_and_expire_before_the_sweep_redispatches() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock, probe_timeout_seconds=600, max_call_seconds=60).start(epoch=7)
    await h.accept(*mobiles("bat_e", 1))
    (probe,) = await h.round()
    assert probe.epoch == 7
    assert probe.expires_at == NOON + timedelta(seconds=600 - 60 - 30)


def test_a_probe_timeout_too_short_for_a_call_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="LC_MAX_CALL_SECONDS"):
        SchedulerSettings(probe_timeout_seconds=80, max_call_seconds=60)


async def test_an_unsent_request_is_published_by_the_next_leader_exactly_once() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_o", 2))
    h.publisher.fail = True  # the commit is stored; the publish does not happen
    assert await h.round() == []
    again = await Harness(clock, store=h.store, billing=h.billing).start(2)  # relays the outbox
    sent: list[ProbeRequestV1] = again.publisher.sent
    assert len(sent) == 2 and {p.epoch for p in sent} == {2}
    assert await again.round() == [] and len(again.publisher.sent) == 2


async def test_an_unsent_request_past_its_expiry_is_queued_again_not_published() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock, probe_timeout_seconds=600, max_call_seconds=60).start()
    await h.accept(*mobiles("bat_l", 1))
    h.publisher.fail = True
    await h.round()
    h.publisher.fail = False
    clock.advance(timedelta(seconds=510))
    assert await h.round() == []  # expired before it went out: queued again...
    (probe,) = await h.round()  # ...and dispatched afresh
    assert probe.expires_at == clock.now() + timedelta(seconds=510)


async def test_redrive_takes_no_lead_ingest_holds_final() -> None:
    ingest = FakeIngest(
        [
            OpenLead(
                lead_id=f"bat_z:{i:09d}",
                batch_id="bat_z",
                account_id="acc_1",
                e164=f"+6141000000{i}",
                state=state,
            )
            for i, state in enumerate(["pending", "connected", "retry"])
        ]
    )
    h = await Harness(ManualClock(NOON), ingest=ingest).start()
    result = await h.scheduler.redriver.run()
    assert result.inserted == 2 and "bat_z:000000001" not in h.store.entries_by_id
