"""Final verdicts: chargeable only when a call reached the network (I4), and published
again for a call made after the lead was final (I1)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from classifier_factories import signalling
from test_classifier_domain import lead

from lc_classifier.domain import Decision, RetryPolicy, decide
from lc_classifier.history import LeadHistory
from lc_classifier.rules import RuleSet
from lc_common.clock import ManualClock
from lc_common.events import LeadVerdictV1


def final_of(decisions: list[Decision]) -> LeadVerdictV1:
    (final,) = [d.verdict for d in decisions if d.verdict and d.verdict.final]
    return final


# --- chargeable ---


def test_a_lead_that_answered_is_chargeable(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(180))
    assert d.verdict is not None and d.verdict.final and d.verdict.chargeable


def test_non_final_verdicts_are_not_chargeable(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    first = it.call(signalling(480))
    assert first.verdict is not None and not first.verdict.final
    assert first.verdict.chargeable is False


def test_a_lead_that_only_met_trunk_faults_is_final_and_free(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(401, probe_id="prb_a"))
    it.call(signalling(ended_by="transport_error", error="refused", probe_id="prb_b"))
    clock.advance(timedelta(hours=73))
    d = it.call(signalling(ended_by="auth_failed", probe_id="prb_c", started_at=clock.now()))
    assert d.verdict is not None
    assert (d.verdict.status, d.verdict.final, d.verdict.chargeable) == (
        "indeterminate",
        True,
        False,
    )


def test_one_call_that_reached_the_network_makes_it_chargeable(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(407, ended_by="auth_failed", trunk="alpha"))
    d = it.next_call(404)  # on beta: the number was tested, and is (to be confirmed) dead
    assert d.verdict is not None and not d.verdict.final
    final = it.next_call(404)
    assert final.verdict is not None
    assert (final.verdict.status, final.verdict.final, final.verdict.chargeable) == (
        "disconnected",
        True,
        True,
    )


def test_a_lead_the_trunk_never_answered_is_final_and_free(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    # Timer B every time: not one response, so the number was never tested.
    it = lead(rules, policy, clock)
    it.call(signalling(ended_by="no_response"))
    while (last := it.next_call(ended_by="no_response")).retry is not None:
        pass
    assert last.verdict is not None
    assert (last.verdict.status, last.verdict.final, last.verdict.chargeable) == (
        "indeterminate",
        True,
        False,
    )


def test_indeterminate_after_every_attempt_is_chargeable(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    while (last := it.next_call(480)).retry is not None:
        pass
    assert last.verdict is not None and last.verdict.final and last.verdict.chargeable


# --- after the final verdict ---


def test_a_call_after_the_final_verdict_gets_the_final_verdict_again(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(404, trunk="alpha"))
    it.next_call(404)  # confirmed on beta: final disconnected
    final = final_of(it.decisions)
    clock.advance(timedelta(minutes=10))
    late = it.call(signalling(180, attempt=3, probe_id="prb_sweep", started_at=clock.now()))
    again = late.verdict
    assert late.ignored == "after_final" and late.retry is None
    assert again is not None
    assert (again.probe_id, again.attempt, again.final) == ("prb_sweep", 3, True)
    assert (again.status, again.detail, again.confidence, again.evidence, again.chargeable) == (
        final.status,
        final.detail,
        final.confidence,
        final.evidence,
        final.chargeable,
    )
    assert again.detail.endswith("(confirmed)")
    assert again.occurred_at == clock.now()
    assert again.event_id not in {d.verdict.event_id for d in it.decisions[:-1] if d.verdict}


def test_a_redelivered_late_call_repeats_the_same_event(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(180))
    late = signalling(180, attempt=2, probe_id="prb_late")
    one, two = it.call(late), it.call(late)
    assert one.verdict is not None and two.verdict is not None
    assert one.verdict.event_id == two.verdict.event_id


def test_a_free_lead_stays_free_when_its_verdict_is_repeated(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(401, probe_id="prb_a"))
    clock.advance(timedelta(hours=73))
    it.call(signalling(401, probe_id="prb_b", started_at=clock.now()))
    again = it.call(signalling(180, attempt=2, probe_id="prb_c")).verdict
    assert again is not None and again.final and again.chargeable is False


def test_an_older_history_without_the_final_verdict_repeats_its_last_decided_call(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    first = decide(None, signalling(180, probe_id="prb_1"), rules, policy, clock.now())
    stored = first.history.model_dump(exclude_none=True)
    for key in ("final_detail", "final_confidence", "final_evidence"):
        stored.pop(key)
    older = LeadHistory.model_validate(stored)
    late = decide(older, signalling(404, attempt=2, probe_id="prb_2"), rules, policy, clock.now())
    assert late.verdict is not None and first.verdict is not None
    assert (late.verdict.status, late.verdict.final, late.verdict.chargeable) == (
        "connected",
        True,
        True,
    )
    assert late.verdict.detail == first.verdict.detail
    assert late.verdict.evidence == first.verdict.evidence
    assert isinstance(late.verdict.event_id, uuid.UUID)
