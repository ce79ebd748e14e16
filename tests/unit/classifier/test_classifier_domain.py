"""History-based decisions: retries, duplicates, confirmation, trunk faults, the last attempt."""

from __future__ import annotations

from datetime import timedelta

from classifier_factories import T0, media, signalling

from lc_classifier.domain import Decision, RetryPolicy, decide
from lc_classifier.history import LeadHistory
from lc_classifier.rules import RuleSet
from lc_common.clock import ManualClock
from lc_common.events import ProbeSignallingV1

H = timedelta(hours=1)


class Lead:
    """One lead fed call after call, its history carried along as the table would."""

    def __init__(self, rules: RuleSet, policy: RetryPolicy, clock: ManualClock) -> None:
        self.rules, self.policy, self.clock = rules, policy, clock
        self.history: LeadHistory | None = None
        self.decisions: list[Decision] = []

    def call(self, sig: ProbeSignallingV1) -> Decision:
        decision = decide(self.history, sig, self.rules, self.policy, self.clock.now())
        if decision.ignored is None:
            self.history = decision.history
        self.decisions.append(decision)
        return decision

    def next_call(self, *codes: int, **kwargs: object) -> Decision:
        """Dial the attempt the last retry asked for, at its due time, on another trunk."""
        last = next(d.retry for d in reversed(self.decisions) if d.retry is not None)
        self.clock.set(max(self.clock.now(), last.not_before))
        trunk = "beta" if last.avoid_trunk == "alpha" else "alpha"
        kwargs.setdefault("trunk", trunk)
        sig = signalling(*codes, attempt=last.attempt, started_at=self.clock.now(), **kwargs)
        return self.call(sig)


def lead(rules: RuleSet, policy: RetryPolicy, clock: ManualClock) -> Lead:
    return Lead(rules, policy, clock)


def test_connected_at_once_is_final(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(180))
    assert d.verdict is not None and d.retry is None
    assert (d.verdict.status, d.verdict.final, d.verdict.attempt) == ("connected", True, 1)
    assert d.verdict.evidence.trunk == "alpha"
    assert d.verdict.evidence.codes == [180, 487]
    assert d.verdict.evidence.tested_at == T0
    assert d.verdict.next_attempt_at is None


def test_480_480_then_ringing_is_connected_on_attempt_3(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    first = it.call(signalling(480))
    assert first.verdict is not None and first.retry is not None
    assert (first.verdict.status, first.verdict.final) == ("indeterminate", False)
    assert first.retry.reason == "indeterminate"
    assert first.retry.attempt == 2
    assert first.retry.not_before == T0 + H
    assert first.verdict.next_attempt_at == T0 + H

    second = it.next_call(480)
    assert second.retry is not None and second.retry.attempt == 3
    assert second.retry.not_before == T0 + 3 * H

    third = it.next_call(180)
    assert third.verdict is not None and third.retry is None
    assert (third.verdict.status, third.verdict.final, third.verdict.attempt) == (
        "connected",
        True,
        3,
    )
    assert it.history is not None and [r.attempt for r in it.history.attempts] == [1, 2, 3]


def test_retry_times_follow_the_schedule_from_the_first_attempt(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    dues = []
    for _ in range(3):
        d = it.next_call(503)
        assert d.retry is not None
        dues.append(d.retry.not_before)
    assert dues == [T0 + 3 * H, T0 + timedelta(days=1), T0 + timedelta(days=2)]


def test_a_late_attempt_is_retried_no_earlier_than_now(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    clock.set(T0 + 5 * H)  # attempt 2 ran late (calling window); attempt 3's slot has passed
    d = it.call(signalling(480, attempt=2, started_at=clock.now()))
    assert d.retry is not None and d.retry.not_before == T0 + 5 * H


def test_after_the_last_attempt_the_lead_is_final_indeterminate(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    for _ in range(3):
        assert it.next_call(480).retry is not None
    last = it.next_call(480)
    assert last.retry is None and last.verdict is not None
    assert (last.verdict.status, last.verdict.final, last.verdict.attempt) == (
        "indeterminate",
        True,
        5,
    )
    assert "after 5 attempts" in last.verdict.detail
    finals = [d.verdict for d in it.decisions if d.verdict and d.verdict.final]
    assert len(finals) == 1


def test_max_attempts_and_schedule_are_configurable(rules: RuleSet, clock: ManualClock) -> None:
    policy = RetryPolicy(schedule=[timedelta(seconds=1)] * 5, max_attempts=2)
    it = lead(rules, policy, clock)
    first = it.call(signalling(480))
    assert first.retry is not None and first.retry.not_before == T0 + timedelta(seconds=1)
    last = it.next_call(480)
    assert last.verdict is not None and last.verdict.final


def test_the_horizon_caps_retries(rules: RuleSet, clock: ManualClock) -> None:
    policy = RetryPolicy(horizon=timedelta(hours=2))
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    last = it.next_call(480)  # attempt 3 would be due at +3 h, past the horizon
    assert last.verdict is not None and last.verdict.final


def test_a_duplicate_changes_nothing(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    sig = signalling(480, probe_id="prb_dup")
    it.call(sig)
    before = it.history
    again = it.call(sig)
    assert again.ignored == "duplicate"
    assert again.verdict is None and again.retry is None
    assert again.history == before


def test_the_same_attempt_again_under_another_probe_id_is_stale(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480, attempt=1))
    it.call(signalling(480, attempt=2))
    assert it.call(signalling(180, attempt=2)).ignored == "stale_attempt"
    assert it.call(signalling(180, attempt=1)).ignored == "stale_attempt"


def test_signalling_after_the_final_verdict_changes_nothing_but_repeats_it(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(180))
    before = it.history
    late = it.call(signalling(404, attempt=2))
    assert late.ignored == "after_final"
    assert late.retry is None and late.history == before
    assert late.verdict is not None
    assert (late.verdict.status, late.verdict.final) == ("connected", True)


def test_a_redelivered_event_gets_the_same_event_ids(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    sig = signalling(480)
    one = decide(None, sig, rules, policy, clock.now())
    two = decide(None, sig, rules, policy, clock.now())
    assert one.verdict is not None and two.verdict is not None
    assert one.retry is not None and two.retry is not None
    assert one.verdict.event_id == two.verdict.event_id
    assert one.retry.event_id == two.retry.event_id
    assert one.verdict.event_id != one.retry.event_id


# --- confirmation ---


def test_a_404_is_confirmed_on_another_trunk_before_it_is_final(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    first = it.call(signalling(404, trunk="alpha"))
    assert first.verdict is not None and first.retry is not None
    assert (first.verdict.status, first.verdict.final) == ("disconnected", False)
    assert (first.retry.reason, first.retry.attempt, first.retry.avoid_trunk) == (
        "confirm",
        2,
        "alpha",
    )
    assert first.retry.not_before == T0 + H

    second = it.next_call(404)
    assert second.verdict is not None and second.retry is None
    assert (second.verdict.status, second.verdict.final) == ("disconnected", True)
    assert second.verdict.detail == "SIP 404 Not Found (confirmed)"
    assert second.verdict.confidence > first.verdict.confidence
    assert second.verdict.evidence.trunk == "beta"


def test_tones_alone_are_confirmed(rules: RuleSet, policy: RetryPolicy, clock: ManualClock) -> None:
    it = lead(rules, policy, clock)
    first = it.call(signalling(183, early=media("sit", "intercept")))
    assert first.retry is not None and first.retry.reason == "confirm"
    second = it.next_call(404, cause=1)
    assert second.verdict is not None
    assert (second.verdict.status, second.verdict.final) == ("disconnected", True)
    assert second.verdict.detail == "Q.850 1 unallocated number (confirmed)"


def test_a_strong_disconnect_needs_no_confirmation(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(404, cause=1))
    assert d.verdict is not None and d.retry is None
    assert (d.verdict.status, d.verdict.final) == ("disconnected", True)
    assert d.verdict.detail == "Q.850 1 unallocated number"
    assert d.verdict.evidence.q850_cause == 1


def test_a_confirmed_disconnect_beats_a_single_one(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    single = lead(rules, policy, clock).call(signalling(410))
    it = lead(rules, policy, clock)
    it.call(signalling(404))
    confirmed = it.next_call(404)
    assert single.verdict is not None and confirmed.verdict is not None
    assert confirmed.verdict.confidence > single.verdict.confidence


def test_a_confirmation_that_rings_makes_the_lead_connected(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(404))
    second = it.next_call(180)
    assert second.verdict is not None
    assert (second.verdict.status, second.verdict.final) == ("connected", True)


def test_an_indeterminate_confirmation_keeps_waiting_for_one(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(404, trunk="alpha"))
    second = it.next_call(503, trunk="beta")
    assert second.verdict is not None and second.retry is not None
    assert (second.verdict.status, second.verdict.final) == ("indeterminate", False)
    assert second.retry.reason == "confirm"
    assert second.retry.avoid_trunk == "alpha"  # the trunk of the disconnect to confirm
    third = it.next_call(404)
    assert third.verdict is not None
    assert (third.verdict.status, third.verdict.final) == ("disconnected", True)


def test_an_unconfirmed_disconnect_ends_indeterminate(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    it.next_call(480)
    it.next_call(480)
    it.next_call(480)
    last = it.next_call(404)  # attempt 5: nothing left to confirm it with
    assert last.verdict is not None and last.retry is None
    assert (last.verdict.status, last.verdict.final) == ("indeterminate", True)
    assert last.verdict.detail == "unconfirmed: SIP 404 Not Found"


def test_a_confirm_delay_overrides_the_schedule(rules: RuleSet, clock: ManualClock) -> None:
    policy = RetryPolicy(confirm_delay=timedelta(minutes=10))
    d = lead(rules, policy, clock).call(signalling(404))
    assert d.retry is not None and d.retry.not_before == T0 + timedelta(minutes=10)


# --- trunk faults ---


def test_a_trunk_fault_retries_the_same_attempt_elsewhere_without_a_verdict(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    d = it.call(signalling(407, ended_by="auth_failed", trunk="alpha"))
    assert d.verdict is None and d.retry is not None
    assert (d.retry.reason, d.retry.attempt, d.retry.avoid_trunk) == ("trunk_fault", 1, "alpha")
    assert d.retry.not_before == T0
    after = it.next_call(180)
    assert after.verdict is not None
    assert (after.verdict.status, after.verdict.final, after.verdict.attempt) == (
        "connected",
        True,
        1,
    )


def test_trunk_faults_are_not_attempts(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    it.next_call(ended_by="transport_error", error="connection refused")
    d = it.next_call(480)  # attempt 2, re-dialled after the fault
    assert d.retry is not None and d.retry.attempt == 3
    assert it.history is not None
    assert it.history.decided_attempts() == {1, 2}


def test_repeated_trunk_faults_back_off(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    delays = []
    for n in range(5):
        d = it.call(signalling(503, error="channel limit", probe_id=f"prb_tf{n}"))
        assert d.retry is not None
        delays.append(d.retry.not_before - clock.now())
    assert delays == [
        timedelta(0),
        timedelta(0),
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
    ]


def test_a_lead_that_only_meets_trunk_faults_ends_at_the_horizon(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(401, probe_id="prb_a"))
    clock.advance(timedelta(hours=73))
    d = it.call(signalling(401, probe_id="prb_b", started_at=clock.now()))
    assert d.verdict is not None and d.retry is None
    assert (d.verdict.status, d.verdict.final) == ("indeterminate", True)
    assert d.verdict.detail.startswith("no trunk could test it")


# --- Retry-After ---


def test_a_retry_after_longer_than_the_schedule_delays_the_retry(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(503, retry_after=2 * 3600))
    assert d.retry is not None and d.verdict is not None
    assert d.retry.not_before == T0 + 2 * H
    assert d.verdict.next_attempt_at == T0 + 2 * H


def test_a_shorter_retry_after_leaves_the_schedule_alone(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(480, retry_after=60))
    assert d.retry is not None and d.retry.not_before == T0 + H


def test_a_retry_after_counts_from_now_on_later_attempts(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    it = lead(rules, policy, clock)
    it.call(signalling(480))
    d = it.next_call(480, retry_after=4 * 3600)  # attempt 2 at T0+1h; attempt 3 slot is T0+3h
    assert d.retry is not None and d.retry.not_before == T0 + 5 * H


def test_a_retry_after_beyond_the_horizon_ends_the_lead(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    d = lead(rules, policy, clock).call(signalling(503, retry_after=4 * 86400))
    assert d.retry is None and d.verdict is not None
    assert (d.verdict.status, d.verdict.final) == ("indeterminate", True)


def test_a_retry_after_also_holds_a_confirmation_back(rules: RuleSet, clock: ManualClock) -> None:
    policy = RetryPolicy(confirm_delay=timedelta(minutes=10))
    d = lead(rules, policy, clock).call(signalling(404, retry_after=1800))
    assert d.retry is not None and d.retry.reason == "confirm"
    assert d.retry.not_before == T0 + timedelta(minutes=30)


def test_a_retry_after_on_a_provisional_response_is_not_a_request_to_wait(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    sig = signalling(480)
    ringing = sig.responses[0].model_copy(update={"code": 183, "retry_after_seconds": 9999})
    sig = sig.model_copy(update={"responses": [ringing, *sig.responses]})
    d = lead(rules, policy, clock).call(sig)
    assert d.retry is not None and d.retry.not_before == T0 + H
