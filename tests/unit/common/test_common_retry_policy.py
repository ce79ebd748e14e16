"""The system's one retry policy: durations, due times, gaps, settings from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from lc_common.retry_policy import RetryPolicy, RetrySettings, parse_duration, parse_durations
from lc_common.settings import ServiceSettings

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


class _Settings(ServiceSettings, RetrySettings):
    """A service's settings with the retry mixin, as the classifier and scheduler have."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        (" 5m", timedelta(minutes=5)),
        ("1.5h", timedelta(minutes=90)),
        ("2d ", timedelta(days=2)),
        ("0s", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "5", "1w", "-1h", "h", ""])
def test_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_a_list_of_durations() -> None:
    assert parse_durations("1h,3h,1d,2d,3d") == [H, 3 * H, D, 2 * D, 3 * D]
    assert parse_durations("1h, ,2h,") == [H, 2 * H]


def test_defaults_are_the_design() -> None:
    policy = RetryPolicy()
    assert policy.schedule == [H, 3 * H, D, 2 * D, 3 * D]
    assert (policy.max_attempts, policy.horizon) == (5, 72 * H)


def test_due_counts_from_the_first_attempt() -> None:
    policy = RetryPolicy()
    late = T0 + 2 * H
    assert policy.due(T0, 2, T0) == T0 + H
    assert policy.due(T0, 3, late) == T0 + 3 * H
    assert policy.due(T0, 4, late) == T0 + D
    assert policy.due(T0, 5, late) == T0 + 2 * D
    # At most 5 attempts, whatever the schedule says.
    assert policy.due(T0, 6, late) is None
    # Never in the past.
    assert policy.due(T0, 2, T0 + 5 * H) == T0 + 5 * H
    assert policy.due(T0, 1, T0) is None


def test_nothing_beyond_the_horizon() -> None:
    policy = RetryPolicy(schedule=[H, 2 * D, 4 * D], max_attempts=10, horizon=72 * H)
    assert policy.due(T0, 3, T0) == T0 + 2 * D
    assert policy.due(T0, 4, T0) is None
    # Beyond the schedule's end there is no attempt either.
    assert policy.due(T0, 5, T0) is None


def test_a_minimum_delay_pushes_the_due_time_but_not_past_the_horizon() -> None:
    policy = RetryPolicy()
    assert policy.due(T0, 2, T0, at_least=2 * H) == T0 + 2 * H
    assert policy.due(T0, 2, T0, at_least=timedelta(minutes=5)) == T0 + H
    assert policy.due(T0, 2, T0, at_least=timedelta(0)) == T0 + H
    now = T0 + 70 * H
    assert policy.due(T0, 5, now, at_least=H) == now + H
    assert policy.due(T0, 5, now, at_least=3 * H) is None


def test_gaps_between_attempts() -> None:
    assert RetryPolicy().gaps() == [H, 2 * H, 21 * H, D]
    assert RetryPolicy(schedule=[H, 3 * H], max_attempts=5).gaps() == [H, 2 * H]
    assert RetryPolicy(schedule=[5 * H, H], max_attempts=3).gaps() == [5 * H, timedelta(0)]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_RETRY_SCHEDULE", "90s,5m,1h,2d")
    monkeypatch.setenv("LC_RETRY_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("LC_RETRY_HORIZON", "3d")
    policy = _Settings().retry_policy()
    assert policy.schedule == [timedelta(seconds=90), timedelta(minutes=5), H, 2 * D]
    assert (policy.max_attempts, policy.horizon) == (4, 3 * D)


def test_settings_default_to_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_RETRY_SCHEDULE", "LC_RETRY_MAX_ATTEMPTS", "LC_RETRY_HORIZON"):
        monkeypatch.delenv(name, raising=False)
    assert _Settings().retry_policy() == RetryPolicy()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LC_RETRY_SCHEDULE", "1h,later"),
        ("LC_RETRY_SCHEDULE", ","),
        ("LC_RETRY_MAX_ATTEMPTS", "0"),
        ("LC_RETRY_HORIZON", "forever"),
    ],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        _Settings()
