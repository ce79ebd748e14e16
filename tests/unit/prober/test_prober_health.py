"""The trunk breaker against a controllable clock: back-off, doubling, cap, recovery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lc_prober.adapters.sip.result import CallResult, EndedBy, ResponseRecord
from lc_prober.domain.health import HealthChange, TrunkHealth, trunk_fault


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list[HealthChange] | None = None) -> TrunkHealth:
    return TrunkHealth(
        threshold=3,
        base=1.0,
        cap=4.0,
        clock=clock,
        on_change=None if changes is None else changes.append,
    )


def test_faults_in_a_row_back_off_and_a_normal_answer_resets_the_count() -> None:
    clock = Clock()
    health = breaker(clock)
    for fault in ("503", "503", None, "503", "503"):
        health.record(fault)
    assert health.state == "healthy"
    health.record("auth_failed")
    assert health.state == "backing_off"
    assert health.reason == "auth_failed"
    assert health.retry_in == pytest.approx(1.0)


def test_back_off_ends_in_a_trial_that_recovers_on_a_normal_answer() -> None:
    clock = Clock()
    changes: list[HealthChange] = []
    health = breaker(clock, changes)
    for _ in range(3):
        health.record("no_response")
    clock.now += 0.99
    assert health.state == "backing_off"
    health.record("no_response")  # a call from before the back-off: ignored
    clock.now += 0.01
    assert health.state == "probing"
    health.record(None)
    assert health.state == "healthy"
    assert [c.state for c in changes] == ["backing_off", "probing", "healthy"]
    assert changes[0].backoff_seconds == 1.0


def test_failed_trials_double_the_back_off_up_to_the_cap_and_recovery_resets_it() -> None:
    clock = Clock()
    changes: list[HealthChange] = []
    health = breaker(clock, changes)
    for _ in range(3):
        health.record("transport_error")
    for _ in range(4):
        clock.now += health.retry_in
        assert health.state == "probing"
        health.record("transport_error")  # one failed trial is enough
    backoffs = [c.backoff_seconds for c in changes if c.state == "backing_off"]
    assert backoffs == [1.0, 2.0, 4.0, 4.0, 4.0]
    clock.now += health.retry_in
    health.record(None)
    for _ in range(3):
        health.record("503")
    assert health.retry_in == pytest.approx(1.0)


def call(ended_by: EndedBy, *codes: int) -> CallResult:
    return CallResult(
        call_id="c",
        number="+61212345678",
        started_at=datetime.now(UTC),
        duration_ms=10,
        responses=tuple(ResponseRecord(code=c, reason="", at_ms=0) for c in codes),
        final_code=codes[-1] if codes and codes[-1] >= 200 else None,
        ended_by=ended_by,
    )


@pytest.mark.parametrize(
    ("result", "fault"),
    [
        (call("auth_failed", 407, 407), "auth_failed"),
        (call("auth_failed", 401), "auth_failed"),
        (call("no_response"), "no_response"),
        (call("transport_error"), "transport_error"),
        (call("final", 100, 503), "503"),
        (call("no_response", 100), None),  # it answered, then went quiet: the lead's call
        (call("cancelled", 100, 180, 487), None),
        (call("final", 100, 404), None),
        (call("final", 100, 480), None),
        (call("answered", 100, 180, 200), None),
    ],
)
def test_what_counts_against_the_trunk(result: CallResult, fault: str | None) -> None:
    assert trunk_fault(result) == fault


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        TrunkHealth(threshold=0)
