"""Which histories outlived the retention: the table's own times, this worker's partitions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiokafka.partitioner import DefaultPartitioner
from classifier_factories import T0, signalling

from lc_classifier.domain import RetryPolicy, decide
from lc_classifier.history import LeadHistory
from lc_classifier.pruning import default_partition
from lc_classifier.retention import Expired, expired
from lc_classifier.rules import RuleSet

KEEP = timedelta(days=42)
DAY = timedelta(days=1)


def _stored(
    rules: RuleSet, policy: RetryPolicy, lead_id: str, *, at: datetime = T0, partition: int = 1
) -> bytes:
    decision = decide(
        None, signalling(180, lead_id=lead_id), rules, policy, at, partition=partition
    )
    return decision.history.model_dump_json(exclude_none=True).encode()


def _expired(entries: list[tuple[str, bytes | str]], now: datetime, **kw: object) -> list[Expired]:
    options: dict[str, object] = {
        "keep": KEEP,
        "partitions": {0, 1, 2, 3},
        "partition_of": lambda _: 0,
    }
    options.update(kw)
    return list(expired(entries, now=now, **options))  # type: ignore[arg-type]


def test_a_history_untouched_for_the_retention_period_expires(
    rules: RuleSet, policy: RetryPolicy
) -> None:
    entries = [
        ("bat_1:old", _stored(rules, policy, "bat_1:old")),
        ("bat_1:new", _stored(rules, policy, "bat_1:new", at=T0 + 10 * DAY)),
    ]
    assert _expired(entries, T0 + KEEP - timedelta(seconds=1)) == []
    assert _expired(entries, T0 + KEEP + timedelta(seconds=1)) == [Expired("bat_1:old", 1)]
    assert _expired(entries, T0 + KEEP + 11 * DAY) == [
        Expired("bat_1:old", 1),
        Expired("bat_1:new", 1),
    ]


def test_the_stamp_is_the_last_change_not_the_first_call(
    rules: RuleSet, policy: RetryPolicy
) -> None:
    first = decide(None, signalling(480), rules, policy, T0, partition=2)
    later = T0 + 3 * DAY
    again = decide(
        first.history, signalling(480, attempt=2, started_at=later), rules, policy, later
    )
    stored = again.history.model_dump_json().encode()
    assert _expired([("bat_1:lead", stored)], T0 + KEEP + DAY) == []
    # The partition stays with the history once known.
    assert _expired([("bat_1:lead", stored)], later + KEEP + DAY) == [Expired("bat_1:lead", 2)]


def test_only_this_workers_partitions(rules: RuleSet, policy: RetryPolicy) -> None:
    entries = [
        (f"bat_1:L{p}", _stored(rules, policy, f"bat_1:L{p}", partition=p)) for p in range(4)
    ]
    found = _expired(entries, T0 + 2 * KEEP, partitions={1, 3})
    assert found == [Expired("bat_1:L1", 1), Expired("bat_1:L3", 3)]


def test_older_entries_are_dated_by_their_calls_and_placed_by_the_partitioner(
    rules: RuleSet, policy: RetryPolicy
) -> None:
    history = LeadHistory.model_validate_json(_stored(rules, policy, "bat_1:legacy"))
    legacy = history.model_dump_json(exclude={"updated_at", "partition", "batch_id"})
    assert "updated_at" not in legacy
    entries: list[tuple[str, bytes | str]] = [("bat_1:legacy", legacy)]
    assert _expired(entries, T0 + KEEP - DAY, partition_of=lambda _: 3) == []
    assert _expired(entries, T0 + KEEP + DAY, partition_of=lambda _: 3) == [
        Expired("bat_1:legacy", 3)
    ]
    assert _expired(entries, T0 + KEEP + DAY, partition_of=lambda _: 3, partitions={0}) == []


@pytest.mark.parametrize("stored", [b"not json", b'{"lead_id": "x", "attempts": []}'])
def test_an_unreadable_or_undated_entry_is_pruned(stored: bytes) -> None:
    assert _expired([("x", stored)], T0) == [Expired("x", 0)]


def test_the_default_partition_is_kafkas() -> None:
    # The same partition as aiokafka's (and the Java client's) default partitioner.
    partition_of = default_partition(4)
    assert {partition_of(f"bat_1:{i:09d}") for i in range(200)} == {0, 1, 2, 3}
    chooser = DefaultPartitioner()
    for i in range(50):
        key = f"bat_1:{i:09d}"
        assert partition_of(key) == chooser(key.encode(), [0, 1, 2, 3], [0, 1, 2, 3])
