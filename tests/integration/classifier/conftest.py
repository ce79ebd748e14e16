"""Fixtures of the classifier's integration tests: the real `lc-classifier` as a subprocess."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests import their helpers (`classifier_support`) from this folder.
sys.path.insert(0, str(Path(__file__).parent))

from classifier_support import ClassifierProcess


@pytest.fixture
def classifier_env(kafka_bootstrap: str, isolation: dict[str, str]) -> dict[str, str]:
    """The environment of a classifier on this test's own topics and consumer group."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "LC_TOPIC_PREFIX": isolation["LC_TOPIC_PREFIX"],
        "LC_ENVIRONMENT": "test",
        "LC_RETRY_SCHEDULE": "1h,3h,1d,2d,3d",
    }


@pytest.fixture
def classifier(classifier_env: dict[str, str], tmp_path: Path) -> Iterator[ClassifierProcess]:
    """A running, ready classifier; stopped (and its log shown on failure) afterwards."""
    process = ClassifierProcess(classifier_env, tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()
