"""Fixtures of the classifier's unit tests."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lc_classifier.announcements import AnnouncementEntry, AnnouncementLibrary
from lc_classifier.domain import RetryPolicy
from lc_classifier.rules import RuleSet, load_rules
from lc_common.clock import ManualClock

# The tests import their builders (`classifier_factories`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def library() -> AnnouncementLibrary:
    """Two known announcements: a carrier's "not connected" and a "switched off" (a live line)."""
    from classifier_factories import NOT_CONNECTED, SWITCHED_OFF, recording, wire

    return AnnouncementLibrary(
        [
            AnnouncementEntry(id="telco-not-connected", fingerprint=wire(recording(NOT_CONNECTED))),
            AnnouncementEntry(
                id="telco-switched-off",
                status="connected",
                fingerprint=wire(recording(SWITCHED_OFF)),
            ),
        ]
    )


@pytest.fixture(scope="session")
def rules(library: AnnouncementLibrary) -> RuleSet:
    return load_rules().with_announcements(library)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy()
