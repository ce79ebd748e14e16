"""Settings: the shared retry policy plus the classifier's own delays, the web port."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from lc_classifier.bootstrap import retry_policy
from lc_classifier.config import ClassifierSettings

_NAMES = (
    "LC_HTTP_PORT",
    "LC_RETRY_SCHEDULE",
    "LC_RETRY_MAX_ATTEMPTS",
    "LC_RETRY_HORIZON",
    "LC_CLASSIFIER_CONFIRM_DELAY",
    "LC_CLASSIFIER_TRUNK_FAULT_BACKOFF",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
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
    assert policy.trunk_fault_backoff[-1] == timedelta(minutes=15)
    assert settings.classifier_history_retention == timedelta(days=42)


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_RETRY_SCHEDULE", "1s,1s,1s,1s,1s")
    monkeypatch.setenv("LC_RETRY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("LC_RETRY_HORIZON", "90s")
    monkeypatch.setenv("LC_CLASSIFIER_CONFIRM_DELAY", "10m")
    monkeypatch.setenv("LC_CLASSIFIER_TRUNK_FAULT_BACKOFF", "1s,2s")
    policy = retry_policy(ClassifierSettings())
    assert policy.schedule == [timedelta(seconds=1)] * 5
    assert policy.max_attempts == 3
    assert policy.horizon == timedelta(seconds=90)
    assert policy.confirm_delay == timedelta(minutes=10)
    assert policy.trunk_fault_backoff == [timedelta(seconds=1), timedelta(seconds=2)]


def test_an_empty_confirm_delay_means_the_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_CLASSIFIER_CONFIRM_DELAY", "")
    assert retry_policy(ClassifierSettings()).confirm_delay is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LC_RETRY_SCHEDULE", "tomorrow"),
        ("LC_RETRY_SCHEDULE", ""),
        ("LC_RETRY_MAX_ATTEMPTS", "0"),
        ("LC_CLASSIFIER_TRUNK_FAULT_BACKOFF", "soon"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        ClassifierSettings()
