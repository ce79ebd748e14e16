"""The pure rules of a batch's progress: verdict order, counter deltas, transitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from lc_common.events import Evidence, LeadVerdictV1
from lc_ingest.domain.batch import (
    Batch,
    Counters,
    PauseRefused,
    Transition,
    after_import,
    after_pause_request,
    drifted_counters,
    finish_if_done,
)
from lc_ingest.domain.imports import import_counters
from lc_ingest.domain.lead import (
    Lead,
    apply_verdict,
    counter_deltas,
    evidence_after,
    verdict_is_newer,
)


def batch(status: Any = "queued", import_done: bool = True, **counters: int) -> Batch:
    return Batch(
        "bat_1", "acc_1", "n", status, import_done=import_done, counters=Counters(**counters)
    )


@pytest.mark.parametrize(
    ("held", "attempts", "attempt", "final", "newer"),
    [
        ("pending", 0, 1, False, True),
        ("pending", 0, 1, True, True),
        ("retry", 1, 1, False, False),  # redelivered
        ("testing", 1, 1, False, False),  # redelivered after the next attempt started
        ("testing", 1, 2, False, True),
        ("retry", 1, 1, True, True),  # same attempt: final over non-final
        ("retry", 2, 1, True, False),  # an older attempt
        ("connected", 1, 2, True, False),  # a final lead never changes
        ("rejected", 0, 1, True, False),
    ],
)
def test_a_verdict_applies_only_if_newer(
    held: str, attempts: int, attempt: int, final: bool, newer: bool
) -> None:
    assert verdict_is_newer(held, attempts, attempt, final) is newer


def test_counter_deltas_follow_the_lead() -> None:
    assert counter_deltas("pending", "retry") == {"retry": 1}
    assert counter_deltas("retry", "connected") == {"retry": -1, "connected": 1}
    assert counter_deltas("testing", "disconnected") == {"disconnected": 1}
    assert counter_deltas("retry", "retry") == {}
    assert counter_deltas("pending", "testing") == {}


def test_evidence_is_keyed_by_attempt_and_probe() -> None:
    first = evidence_after([], 1, "p1", {"trunk": "t"})
    assert first == ({"trunk": "t", "attempt": 1, "probe_id": "p1"},)
    assert evidence_after(first, 1, "p1", {"trunk": "t"}) == first
    assert len(evidence_after(first, 2, "p2", {"trunk": "t"})) == 2


def test_finished_only_when_imported_and_every_accepted_lead_is_final() -> None:
    assert batch("queued", accepted=2, connected=1, disconnected=1).finishable
    assert not batch("queued", accepted=2, connected=1, retry=1).finishable
    # Nothing accepted yet, but still importing: not finished.
    assert not batch("paused", import_done=False).finishable
    assert not batch("importing", import_done=False).finishable
    assert batch("paused", accepted=1, connected=1).finishable
    assert not batch("failed", accepted=1, connected=1).finishable


def test_paused_while_importing_stays_paused_and_says_so() -> None:
    assert after_import(batch("paused", import_done=False), False) == Transition("paused", "paused")
    assert after_import(batch("importing", import_done=False), False) == Transition(
        "queued", "queued"
    )
    assert after_import(batch("importing", import_done=False), True) == Transition(
        "paused_no_credit", "credit_paused"
    )
    assert after_import(batch("queued"), False) is None
    assert after_import(batch("failed", import_done=False), False) is None


def test_pause_requests() -> None:
    assert after_pause_request(batch("importing", False), True) == Transition("paused", "paused")
    # Repeating a pause announces it again.
    assert after_pause_request(batch("paused"), True) == Transition("paused", "paused")
    assert after_pause_request(batch("paused", False), False) == Transition("importing", "resumed")
    assert after_pause_request(batch("paused"), False) == Transition("queued", "resumed")
    assert after_pause_request(batch("paused", retry=1), False) == Transition("running", "resumed")
    assert after_pause_request(batch("running"), False) is None
    assert after_pause_request(batch("paused_no_credit"), True) is None
    with pytest.raises(PauseRefused) as refused:
        after_pause_request(batch("paused_no_credit"), False)
    assert refused.value.code == "no_credit"
    with pytest.raises(PauseRefused):
        after_pause_request(batch("finished"), True)


def test_counters_from_stored_rows() -> None:
    states = {"pending": 3, "rejected": 2, "connected": 1, "retry": 1}
    assert import_counters(states) == {"imported": 7, "accepted": 5, "rejected": 2}
    assert drifted_counters(batch(connected=0, retry=1), states) == {"connected": 1}
    assert drifted_counters(batch(connected=1, retry=1), states) == {}


def test_finish_if_done_waits_for_every_lead_state_not_only_the_counters() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    done = batch("running", accepted=1, connected=1)
    assert finish_if_done(done, {"connected": 1}, now) == {
        "status": "finished",
        "finished_at": now,
        "retention_from": now,
    }
    # Counters say nothing remains, but a lead is still open (a drift): not yet.
    assert finish_if_done(done, {"connected": 1, "retry": 1}, now) is None
    assert finish_if_done(batch("importing", import_done=False), {}, now) is None


def test_apply_verdict_says_what_it_did_and_by_how_much_the_counters_move() -> None:
    lead = Lead("bat_1:000000001", "bat_1", "acc_1", 1, ("+61412345670",), "testing", 1)

    def verdict(attempt: int, final: bool) -> LeadVerdictV1:
        return LeadVerdictV1(
            account_id="acc_1",
            batch_id="bat_1",
            lead_id=lead.id,
            probe_id=f"p{attempt}",
            attempt=attempt,
            status="connected",
            final=final,
            detail="SIP 200",
            confidence=90,
            evidence=Evidence(trunk="t", codes=[200], tested_at=datetime.now(UTC)),
            chargeable=final,
        )

    assert apply_verdict(lead, verdict(1, False)).outcome == "stale"  # attempt 1 was judged
    change = apply_verdict(lead, verdict(2, True))
    assert (change.outcome, change.after.state, change.after.attempts) == (
        "applied",
        "connected",
        2,
    )
    assert change.deltas == {"connected": 1}
    assert change.after.chargeable is True and change.after.finalised_at is not None
    assert apply_verdict(change.after, verdict(3, True)).outcome == "duplicate"
    retry = apply_verdict(replace(lead, state="retry"), verdict(2, False))
    assert (retry.after.state, retry.deltas) == ("retry", {})
