"""Histories past the retention period leave the table and its changelog (real process, broker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from classifier_support import ClassifierProcess, Topics
from test_classifier_service import call, send, until_metric, verdicts

pytestmark = pytest.mark.kafka


async def test_an_expired_history_is_pruned_for_good(
    classifier_env: dict[str, str], kafka_bootstrap: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **classifier_env,
        "LC_CLASSIFIER_HISTORY_RETENTION": "2s",
        "LC_CLASSIFIER_HISTORY_SWEEP_INTERVAL": "1s",
    }
    classifier = ClassifierProcess(env, tmp_path)
    classifier.start()
    try:
        lead = "bat_old:000000001"
        ringing = call(lead, "p1", 100, 180)
        async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
            await send(topics, ringing)
            await topics.wait_for(lambda t: len(verdicts(t, lead)) == 1)
            await until_metric(classifier, "lc_classifier_histories_pruned_total", 1)

            # A fresh process recovers the table from its changelog: the tombstone
            # keeps the lead out. (Long retention now: nothing is pruned meanwhile.)
            assert classifier.stop() == 0
            classifier.env = {**env, "LC_CLASSIFIER_HISTORY_RETENTION": "42d"}
            classifier.start()

            # Were the history still there, this would be ignored as a duplicate.
            await send(topics, ringing)
            await topics.wait_for(lambda t: len(verdicts(t, lead)) == 2)
            assert await classifier.metric("lc_classifier_ignored_total", reason="duplicate") == 0
    finally:
        classifier.stop()
