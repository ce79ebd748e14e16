"""Dispatch rounds: trunk bounds, pause, fairness, timeouts, trunk faults, restart, re-drive."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from scheduler_fakes import TRUNKS, FakeIngest, Harness, MemoryStore, lead

from lc_common.clock import ManualClock
from lc_common.events import ProbeRetryV1
from lc_common.trunks import Trunk
from lc_scheduler.adapters.ingest import OpenLead

# A Wednesday, 14:00 in Sydney and 11:00 in Perth: inside every AU window.
NOON = datetime(2025, 3, 12, 3, 0, tzinfo=UTC)


def mobiles(batch: str, n: int, account: str = "acc_1", start: int = 0) -> list:
    return [lead(batch, start + i, f"+614{10000000 + start + i:08d}", account) for i in range(n)]


async def test_outstanding_never_exceeds_the_bound_and_verdicts_free_room() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_1", 20))
    sent = await h.round()
    # Mobiles: only beta carries them; bound = 3 channels x 2.
    assert len(sent) == 6 and {r.trunk for r in sent} == {"beta"}
    assert await h.round() == []
    await h.verdict(sent[0], final=True)
    await h.verdict(sent[1], final=False, next_attempt_at=clock.now() + timedelta(hours=1))
    more = await h.round()
    assert len(more) == 2 and {r.lead_id for r in more}.isdisjoint({sent[0].lead_id})
    assert len(await h.read(lambda tx: tx.outstanding("beta"))) == 6


async def test_landlines_spread_over_every_trunk_that_carries_them() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*[lead("bat_l", i, f"+612923{i:05d}") for i in range(30)])
    sent = await h.round()
    assert Counter(r.trunk for r in sent) == {"alpha": 4, "beta": 6}


async def test_pause_stops_dispatch_and_resume_goes_on() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_p", 10))
    first = await h.round()
    assert len(first) == 6
    await h.batch_event("bat_p", "paused")
    for probe in first:  # in-flight calls finish
        await h.verdict(probe, final=True)
    assert await h.round() == []
    await h.batch_event("bat_p", "credit_paused")
    clock.advance(timedelta(seconds=1))
    await h.batch_event("bat_p", "resumed")
    assert await h.round() == []  # still out of credit
    clock.advance(timedelta(seconds=1))
    await h.batch_event("bat_p", "credit_resumed")
    rest = await h.round()
    assert len(rest) == 4
    assert {r.lead_id for r in rest}.isdisjoint({r.lead_id for r in first})


async def test_pause_before_the_leads_arrive_holds_them() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.batch_event("bat_e", "paused")
    await h.accept(*mobiles("bat_e", 3))
    assert await h.round() == []
    clock.advance(timedelta(seconds=1))
    await h.batch_event("bat_e", "resumed")
    assert len(await h.round()) == 3


async def test_small_batch_after_a_large_one_finishes_first() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_large", 3000))
    clock.advance(timedelta(seconds=1))
    await h.accept(*mobiles("bat_small", 60, start=10000))
    done: dict[str, int] = {}
    counts = Counter[str]()
    rounds = 0
    while len(done) < 2 and rounds < 2000:
        rounds += 1
        probes = await h.round()
        await h.verdicts(probes, final=True)  # a prober that answers at once
        counts.update(probe.batch_id for probe in probes)
        for batch, total in (("bat_large", 3000), ("bat_small", 60)):
            if counts[batch] == total and batch not in done:
                done[batch] = rounds
    assert done["bat_small"] < done["bat_large"] / 10, done


async def test_accounts_share_before_batches() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    for b in range(4):
        await h.accept(*mobiles(f"bat_a{b}", 20, account="acc_a", start=b * 100))
    await h.accept(*mobiles("bat_b", 20, account="acc_b", start=900))
    sent = await h.round()
    per_account = Counter(r.account_id for r in sent)
    assert per_account == {"acc_a": 3, "acc_b": 3}


async def test_deleted_batch_is_dropped() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.batch_event("bat_x", "paused")
    await h.accept(*mobiles("bat_x", 5))
    await h.batch_event("bat_x", "deleted")
    clock.advance(timedelta(seconds=1))
    await h.batch_event("bat_x", "resumed")
    await h.accept(*mobiles("bat_x", 5))  # late replays are ignored
    assert await h.round() == []
    assert not h.store.entries_by_id and not await h.read(lambda tx: tx.open_entries())


async def test_unanswered_probe_is_dispatched_again_with_a_new_probe_id() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock, probe_timeout_seconds=600).start()
    await h.accept(*mobiles("bat_t", 1))
    (probe,) = await h.round()
    clock.advance(timedelta(seconds=599))
    await h.scheduler.dispatcher.sweep()
    assert await h.round() == []
    clock.advance(timedelta(seconds=2))
    await h.scheduler.dispatcher.sweep()
    (again,) = await h.round()
    assert again.lead_id == probe.lead_id and again.attempt == probe.attempt
    assert again.probe_id != probe.probe_id
    # The late verdict of the first probe is still honoured (final is final).
    await h.verdict(probe, final=True)
    assert h.entry(probe.lead_id).state == "final"


async def test_trunk_fault_moves_the_call_to_another_trunk() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(lead("bat_f", 1, "+61292345678"))
    (probe,) = await h.round()
    await h.retry(probe, not_before=clock.now(), reason="trunk_fault", avoid_trunk=probe.trunk)
    (again,) = await h.round()
    assert again.trunk != probe.trunk and again.attempt == probe.attempt
    # A confirm on another trunk: attempt + 1, avoiding the trunk that said disconnected.
    await h.verdict(again, final=False, status="disconnected")
    await h.retry(again, not_before=clock.now(), reason="confirm", avoid_trunk=again.trunk)
    (confirm,) = await h.round()
    assert confirm.trunk != again.trunk and confirm.attempt == again.attempt + 1


async def test_a_restart_loses_no_retry() -> None:
    clock = ManualClock(NOON)
    store = MemoryStore()
    h = await Harness(clock, store=store).start()
    await h.accept(*mobiles("bat_r", 2))
    a, b = await h.round()
    await h.retry(a, not_before=clock.now() + timedelta(hours=1))
    # A new process over the same store.
    h2 = await Harness(clock, store=store).start()
    assert await h2.round() == []
    assert await h2.read(lambda tx: tx.outstanding("beta")) == {b.lead_id}
    clock.advance(timedelta(hours=1))
    (again,) = await h2.round()
    assert again.lead_id == a.lead_id and again.attempt == 2


async def test_a_publish_failure_keeps_the_requests_in_the_outbox_until_the_broker_takes_them() -> (
    None
):
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_k", 3))
    h.publisher.fail = True
    assert await h.round() == []
    # Outstanding (they hold the trunk's room) and stored unsent.
    assert len(await h.read(lambda tx: tx.outstanding("beta"))) == 3
    assert {e.sent for e in h.store.entries_by_id.values()} == {False}
    h.publisher.fail = False
    sent = await h.round()
    assert len(sent) == 3 and {e.sent for e in h.store.entries_by_id.values()} == {True}
    assert await h.round() == []


async def test_redrive_inserts_unknown_leads_and_reopens_stale_finals() -> None:
    clock = ManualClock(NOON)
    known = mobiles("bat_z", 2)
    ingest = FakeIngest(
        [
            OpenLead(lead_id=e.lead_id, batch_id="bat_z", account_id="acc_1", e164=e.e164)
            for e in [*known, *mobiles("bat_z", 5, start=50)]
        ]
    )
    h = await Harness(
        clock, ingest=ingest, redrive_page_size=2, redrive_final_grace_seconds=600
    ).start()
    await h.accept(*known)
    probes = await h.round()
    await h.verdict(probes[0], final=True)  # final here, still open at ingest
    result = await h.scheduler.redriver.run()
    assert (result.seen, result.inserted, result.reopened) == (7, 5, 0)
    assert ingest.calls == 4
    clock.advance(timedelta(minutes=11))
    result = await h.scheduler.redriver.run()
    assert (result.inserted, result.reopened) == (0, 1)
    sent = await h.round()
    # Bound 6 on beta, one still out: the five inserted ones (due first) go now...
    assert {r.lead_id for r in sent} == {f"bat_z:{50 + i:09d}" for i in range(5)}
    await h.verdict(sent[0], final=True)
    # ...and the reopened one as soon as there is room.
    assert [r.lead_id for r in await h.round()] == [probes[0].lead_id]


def test_an_impossible_retry_is_refused_by_its_contract() -> None:
    with pytest.raises(ValidationError):
        ProbeRetryV1(
            account_id="a",
            batch_id="b",
            lead_id="b:1",
            e164="+61412345678",
            attempt=0,
            reason="indeterminate",
            not_before=NOON,
        )


async def test_a_number_no_trunk_carries_stays_queued() -> None:
    only_sydney = [Trunk(name="syd", host="h", channels=1, prefixes=["+612"])]
    h = await Harness(ManualClock(NOON), trunks=only_sydney).start()
    await h.accept(lead("bat_q", 1, "+61412345678"))
    assert await h.round() == []
    assert h.entry("bat_q:000000001").state == "queued"
    assert TRUNKS  # the default pair is untouched


async def test_each_round_reports_the_leads_now_being_tested_per_batch() -> None:
    clock = ManualClock(NOON)
    h = await Harness(clock).start()
    await h.accept(*mobiles("bat_1", 2), *mobiles("bat_2", 1, start=10))
    sent = await h.round()
    reports = {r.batch_id: r for r in h.publisher.dispatched}
    assert set(reports) == {"bat_1", "bat_2"}
    assert {(d.lead_id, d.attempt) for r in reports.values() for d in r.leads} == {
        (p.lead_id, p.attempt) for p in sent
    }
    assert await h.round() == [] and len(h.publisher.dispatched) == 2
