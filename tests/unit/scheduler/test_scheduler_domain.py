"""Pure rules: entry transitions (idempotency), fairness shares, routing, batch flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lc_common.trunks import Trunk
from lc_scheduler.domain import entries as t
from lc_scheduler.domain.batches import BatchRecord, after_batch_event
from lc_scheduler.domain.entries import Entry
from lc_scheduler.domain.fairness import Turns, rotate
from lc_scheduler.domain.routing import choose_trunk, outstanding_bound

NOW = datetime(2025, 3, 12, 1, 0, tzinfo=UTC)


def entry(**kw: object) -> Entry:
    values: dict[str, object] = dict(
        lead_id="b:1",
        account_id="a",
        batch_id="b",
        e164="+61292345678",
        state="queued",
        attempt=1,
        due_at=NOW,
    )
    values.update(kw)
    return Entry(**values)  # type: ignore[arg-type]


def out(e: Entry, trunk: str = "x", probe: str = "p1") -> Entry:
    return t.dispatched(e, probe_id=probe, trunk=trunk, at=NOW)


def test_final_verdict_closes_for_good() -> None:
    e = out(entry())
    final = t.after_verdict(e, attempt=1, final=True, now=NOW, next_attempt_at=None)
    assert final is not None and final.state == "final" and final.finalised_at == NOW
    assert t.after_verdict(final, attempt=1, final=True, now=NOW, next_attempt_at=None) is None
    retry = t.after_retry(
        final, event_id="r", attempt=2, reason="indeterminate", due_at=NOW, avoid_trunk=None
    )
    assert retry is None
    assert t.requeued_after_timeout(final, NOW) is None


def test_non_final_verdict_then_retry_refines_it() -> None:
    e = out(entry())
    later = NOW + timedelta(hours=1)
    v = t.after_verdict(e, attempt=1, final=False, now=NOW, next_attempt_at=later)
    assert v is not None and v.state == "queued" and v.attempt == 2 and v.due_at == later
    # A duplicate verdict changes nothing.
    assert t.after_verdict(v, attempt=1, final=False, now=NOW, next_attempt_at=later) is None
    r = t.after_retry(v, event_id="r1", attempt=2, reason="confirm", due_at=later, avoid_trunk="x")
    assert r is not None and r.avoid_trunk == "x" and r.attempt == 2
    assert (
        t.after_retry(r, event_id="r1", attempt=2, reason="confirm", due_at=later, avoid_trunk="x")
        is None
    )


def test_retry_before_verdict_and_late_verdict_ignored() -> None:
    e = out(entry())
    r = t.after_retry(
        e, event_id="r1", attempt=2, reason="indeterminate", due_at=NOW, avoid_trunk=None
    )
    assert r is not None and r.state == "queued" and r.attempt == 2 and r.probe_id is None
    assert t.after_verdict(r, attempt=1, final=False, now=NOW, next_attempt_at=NOW) is None
    # Once attempt 2 is out, a republished retry for attempt 2 does not dispatch it twice.
    r2 = out(r, probe="p2")
    assert (
        t.after_retry(
            r2, event_id="r9", attempt=2, reason="indeterminate", due_at=NOW, avoid_trunk=None
        )
        is None
    )
    # A stale retry (older attempt) is ignored.
    assert (
        t.after_retry(
            r2, event_id="r0", attempt=1, reason="indeterminate", due_at=NOW, avoid_trunk=None
        )
        is None
    )


def test_trunk_fault_keeps_the_attempt() -> None:
    e = out(entry(attempt=3), trunk="x")
    r = t.after_retry(
        e, event_id="f1", attempt=3, reason="trunk_fault", due_at=NOW, avoid_trunk="x"
    )
    assert r is not None and r.attempt == 3 and r.avoid_trunk == "x" and r.state == "queued"
    moved = out(r, trunk="y", probe="p2")
    # A second fault report about trunk x while the lead is out on y changes nothing.
    assert (
        t.after_retry(
            moved, event_id="f2", attempt=3, reason="trunk_fault", due_at=NOW, avoid_trunk="x"
        )
        is None
    )
    assert (
        t.after_retry(
            moved, event_id="f1", attempt=3, reason="trunk_fault", due_at=NOW, avoid_trunk="y"
        )
        is None
    )  # remembered id


def test_timeout_requeues_same_attempt() -> None:
    e = out(entry(attempt=2))
    r = t.requeued_after_timeout(e, NOW)
    assert r is not None and r.attempt == 2 and r.state == "queued" and r.probe_id is None
    assert r.rev == e.rev + 1


def take(turns: Turns, n: int) -> list[str | None]:
    return [turns.next() for _ in range(n)]


def test_rotate() -> None:
    assert rotate([1, 2, 3], 4) == [2, 3, 1]
    assert rotate([], 3) == []


def test_turns_go_round_accounts_then_batches() -> None:
    turns = Turns({"acc1": ["b1", "b2", "b3"], "acc2": ["b4"]})
    assert take(turns, 6) == ["b1", "b4", "b2", "b4", "b3", "b4"]
    turns.drop("b4")
    assert take(turns, 3) == ["b1", "b2", "b3"]
    for b in ("b1", "b2", "b3"):
        turns.drop(b)
    assert turns.next() is None and not turns


def test_turns_rotate_between_rounds() -> None:
    # With room for one lead per round, every batch of every account gets a turn.
    firsts = [Turns({"a": ["x", "y"], "b": ["z"]}, cursor).next() for cursor in range(4)]
    assert set(firsts) == {"x", "y", "z"}


def test_routing_respects_prefixes_room_and_avoidance() -> None:
    a = Trunk(name="a", host="h", channels=2, prefixes=["+612"])
    b = Trunk(name="b", host="h", channels=4)
    trunks = [a, b]
    assert outstanding_bound(a, 2.0) == 4 and outstanding_bound(b, 1.5) == 6
    assert choose_trunk(trunks, "+61292345678", {"a": 3, "b": 1}) == "a"
    assert choose_trunk(trunks, "+61412345678", {"a": 3, "b": 1}) == "b"
    assert choose_trunk(trunks, "+61412345678", {"a": 3, "b": 0}) is None
    assert choose_trunk(trunks, "+61292345678", {"a": 3, "b": 1}, avoid="a") == "b"
    # The only trunk that carries it is used even when it is the one to avoid.
    assert choose_trunk([a], "+61292345678", {"a": 1}, avoid="a") == "a"


def test_batch_flags_and_stale_events() -> None:
    r = BatchRecord("b", "a", created_at=NOW)
    paused = after_batch_event(r, "paused", NOW)
    assert paused is not None and not paused.dispatchable
    resumed = after_batch_event(paused, "resumed", NOW + timedelta(seconds=5))
    assert resumed is not None and resumed.dispatchable
    # A redelivered older pause cannot undo the newer resume.
    assert after_batch_event(resumed, "paused", NOW) is None
    credit = after_batch_event(resumed, "credit_paused", NOW + timedelta(seconds=6))
    assert credit is not None and not credit.dispatchable
    both = after_batch_event(credit, "paused", NOW + timedelta(seconds=7))
    assert both is not None
    only_credit = after_batch_event(both, "resumed", NOW + timedelta(seconds=8))
    assert only_credit is not None and not only_credit.dispatchable  # credit still out
    deleted = after_batch_event(only_credit, "deleted", NOW + timedelta(seconds=9))
    assert deleted is not None and deleted.deleted and not deleted.dispatchable
    assert after_batch_event(deleted, "resumed", NOW + timedelta(seconds=10)) is None
    # `finished` only starts the retention clock (see test_scheduler_retention).
    finished = after_batch_event(r, "finished", NOW)
    assert finished is not None and finished.retention_from == NOW
    assert finished.dispatchable == r.dispatchable
    assert after_batch_event(r, "queued", NOW) is None


def test_a_pause_voids_probes_dispatched_until_it_and_their_final_verdict_still_closes() -> None:
    e = out(entry(attempt=2))  # dispatched at NOW
    due = NOW + timedelta(seconds=90)
    v = t.voided_by_pause(e, NOW, due)
    assert v is not None and v.state == "queued" and v.attempt == 2 and v.probe_id is None
    assert (v.due_at, v.last_reason) == (due, "paused")
    # Dispatched after the pause, or not out at all: nothing to void.
    assert t.voided_by_pause(e, NOW - timedelta(seconds=1), due) is None
    assert t.voided_by_pause(entry(), NOW, due) is None
    # A call started before the prober learnt of the pause still closes the lead...
    closed = t.after_verdict(v, attempt=2, final=True, now=NOW, next_attempt_at=None)
    assert closed is not None and closed.state == "final"
    # ...and its non-final verdict leaves the queued attempt to the classifier's retry.
    assert t.after_verdict(v, attempt=2, final=False, now=NOW, next_attempt_at=None) is None


def test_the_bound_holds_what_the_trunk_starts_while_a_verdict_travels() -> None:
    sim_a = Trunk(name="a", host="h", channels=20, cps=20)
    # Little's law: 20 channels + 20 calls/s x 3 s of dispatch-to-verdict latency.
    assert outstanding_bound(sim_a, 1.0, 3.0) == 80
    assert outstanding_bound(sim_a, 1.0, 0.25) == 25  # fractions of a call round up
    assert outstanding_bound(sim_a, 5.0, 3.0) == 100  # the factor is a floor
    assert outstanding_bound(Trunk(name="s", host="h", channels=1, cps=0.5), 1.0, 0.0) == 1
