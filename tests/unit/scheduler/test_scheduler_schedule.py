"""Three days of retries and calling windows, on a manual clock, in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler_fakes import Harness, lead

from lc_common.clock import ManualClock
from lc_common.trunks import Trunk
from lc_scheduler import metrics

SYD = ZoneInfo("Australia/Sydney")
PER = ZoneInfo("Australia/Perth")
SYDNEY = "+61292345678"
PERTH = "+61892345678"


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


async def test_three_days_of_retries_over_a_weekend_and_wa_day() -> None:
    # Friday 30 May 2025, 19:30 in Sydney, 17:30 in Perth.
    clock = ManualClock(at(SYD, 2025, 5, 30, 19, 30))
    h = await Harness(clock).start()
    s, p = lead("bat_1", 1, SYDNEY), lead("bat_1", 2, PERTH)
    await h.accept(s, p)
    first = {r.lead_id: r for r in await h.round()}
    assert set(first) == {s.lead_id, p.lead_id}
    assert all(r.attempt == 1 for r in first.values())

    # Both indeterminate; the classifier asks for +1 h.
    for probe in first.values():
        await h.verdict(
            probe,
            final=False,
            status="indeterminate",
            next_attempt_at=clock.now() + timedelta(hours=1),
        )
        await h.retry(probe, not_before=clock.now() + timedelta(hours=1))
    # Sydney at 20:30 is closed: moved to Saturday 09:00. Perth at 18:30 is open.
    assert h.entry(s.lead_id).due_at == at(SYD, 2025, 5, 31, 9, 0)
    assert h.entry(p.lead_id).due_at == at(PER, 2025, 5, 30, 18, 30)

    clock.set(at(PER, 2025, 5, 30, 18, 29))
    assert await h.round() == []
    clock.set(at(PER, 2025, 5, 30, 18, 30))
    (p2,) = await h.round()
    assert p2.lead_id == p.lead_id and p2.attempt == 2
    await h.verdict(p2, final=False, status="indeterminate")
    await h.retry(p2, not_before=clock.now() + timedelta(hours=3))  # 21:30 Perth: closed
    assert h.entry(p.lead_id).due_at == at(PER, 2025, 5, 31, 9, 0)

    # Saturday: Sydney opens two hours before Perth.
    clock.set(at(SYD, 2025, 5, 31, 9, 0))
    (s2,) = await h.round()
    assert s2.lead_id == s.lead_id and s2.attempt == 2
    clock.set(at(PER, 2025, 5, 31, 8, 59))
    assert await h.round() == []
    clock.set(at(PER, 2025, 5, 31, 9, 0))
    (p3,) = await h.round()
    assert p3.lead_id == p.lead_id and p3.attempt == 3

    # Next day is Sunday: never. Monday 2 June is WA Day: Perth waits for Tuesday.
    await h.retry(s2, not_before=at(SYD, 2025, 6, 1, 9, 0))
    await h.retry(p3, not_before=at(PER, 2025, 6, 1, 9, 0))
    assert h.entry(s.lead_id).due_at == at(SYD, 2025, 6, 2, 9, 0)
    assert h.entry(p.lead_id).due_at == at(PER, 2025, 6, 3, 9, 0)
    clock.set(at(PER, 2025, 6, 2, 12, 0))  # Monday: Sydney goes, Perth does not
    (s3,) = await h.round()
    assert s3.lead_id == s.lead_id and s3.attempt == 3
    clock.set(at(PER, 2025, 6, 3, 9, 0))
    (p4,) = await h.round()
    assert p4.lead_id == p.lead_id and p4.attempt == 4

    # Final verdicts close both for good: a late retry or a replayed lead changes nothing.
    await h.verdict(s3, final=True, status="connected")
    await h.verdict(p4, final=True, status="indeterminate")
    await h.retry(p4, not_before=clock.now())
    await h.accept(s, p)
    clock.advance(timedelta(days=1))
    assert await h.round() == []
    assert h.entry(s.lead_id).state == h.entry(p.lead_id).state == "final"
    assert not await h.read(lambda tx: tx.open_entries())
    assert not h.store.batch_records["bat_1"].active


async def test_daylight_saving_start_and_a_state_holiday() -> None:
    # Saturday 4 October 2025 17:30 in Sydney (AEST). DST starts Sunday 5 October
    # and Monday 6 October is NSW Labour Day: next opening is Tuesday 09:00 AEDT.
    clock = ManualClock(at(SYD, 2025, 10, 4, 16, 0))
    h = await Harness(clock).start()
    s = lead("bat_d", 1, SYDNEY)
    await h.accept(s)
    (probe,) = await h.round()
    await h.retry(probe, not_before=at(SYD, 2025, 10, 4, 17, 30))
    due = h.entry(s.lead_id).due_at
    assert due == datetime(2025, 10, 6, 22, 0, tzinfo=UTC)
    assert due.astimezone(SYD).hour == 9 and due.astimezone(SYD).utcoffset() == timedelta(hours=11)
    clock.set(due - timedelta(seconds=1))
    assert await h.round() == []
    clock.set(due)
    assert [r.attempt for r in await h.round()] == [2]


async def test_a_lead_accepted_at_night_waits_for_the_morning() -> None:
    clock = ManualClock(at(SYD, 2025, 3, 12, 22, 0))  # Wednesday night
    h = await Harness(clock).start()
    await h.accept(lead("bat_n", 1, SYDNEY))
    assert await h.round() == []
    assert h.entry("bat_n:000000001").due_at == at(SYD, 2025, 3, 13, 9, 0)
    clock.set(at(SYD, 2025, 3, 13, 9, 0))
    assert len(await h.round()) == 1


async def test_a_due_lead_held_up_past_closing_time_is_deferred() -> None:
    one_channel = [Trunk(name="solo", host="h", channels=1)]
    clock = ManualClock(at(SYD, 2025, 3, 12, 19, 58))
    h = await Harness(clock, trunks=one_channel, outstanding_factor=1.0).start()
    await h.accept(lead("bat_w", 1, SYDNEY), lead("bat_w", 2, SYDNEY))
    (first,) = await h.round()  # bound 1: the second waits
    before = metrics.WINDOW_DEFERRALS._value.get()
    clock.set(at(SYD, 2025, 3, 12, 20, 1))
    await h.verdict(first, final=True)
    assert await h.round() == []
    assert metrics.WINDOW_DEFERRALS._value.get() == before + 1
    other = "bat_w:000000002" if first.lead_id.endswith("1") else "bat_w:000000001"
    assert h.entry(other).due_at == at(SYD, 2025, 3, 13, 9, 0)
