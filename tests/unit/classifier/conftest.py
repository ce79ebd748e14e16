"""Fixtures of the classifier's unit tests."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lc_classifier.domain import RetryPolicy
from lc_classifier.rules import RuleSet, load_rules
from lc_common.clock import ManualClock

# The tests import their builders (`classifier_factories`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy()
