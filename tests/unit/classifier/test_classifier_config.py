"""Settings: durations, the retry policy they describe, the web port."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from lc_classifier.bootstrap import retry_policy
from lc_classifier.config import ClassifierSettings, parse_duration, parse_durations


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration(" 5m") == timedelta(minutes=5)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_durations("1h,3h,1d,2d,3d")[-1] == timedelta(days=3)
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LC_HTTP_PORT", "LC_CLASSIFIER_RETRY_SCHEDULE", "LC_CLASSIFIER_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    settings = ClassifierSettings()
    assert settings.http_port == 8004
    policy = retry_policy(settings)
    assert policy.schedule == [
        timedelta(hours=1),
        timedelta(hours=3),
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),
    ]
    assert policy.max_attempts == 5
    assert policy.horizon == timedelta(hours=72)
    assert policy.confirm_delay is None


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_CLASSIFIER_RETRY_SCHEDULE", "1s,1s,1s,1s,1s")
    monkeypatch.setenv("LC_CLASSIFIER_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("LC_CLASSIFIER_CONFIRM_DELAY", "10m")
    policy = retry_policy(ClassifierSettings())
    assert policy.schedule == [timedelta(seconds=1)] * 5
    assert policy.max_attempts == 3
    assert policy.confirm_delay == timedelta(minutes=10)


def test_a_bad_schedule_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_CLASSIFIER_RETRY_SCHEDULE", "tomorrow")
    with pytest.raises(ValidationError):
        ClassifierSettings()
