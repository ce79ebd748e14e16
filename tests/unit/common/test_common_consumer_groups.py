"""The consumer groups' table against the event registry: every consumer the registry
names has its group (or reads without one), and no group reads a topic for a service the
registry does not name as its consumer. The names are pinned: renaming one makes its
consumers read their whole topic again."""

from __future__ import annotations

import pytest

from lc_common.consuming.groups import CONSUMER_GROUPS, UNGROUPED, consumer_group
from lc_common.events.registry import TOPICS, probe_requests


def test_every_registered_consumer_has_a_group_or_reads_without_one() -> None:
    named = {(service, name) for name, topic in TOPICS.items() for service in topic.consumers}
    assert named == set(CONSUMER_GROUPS) | UNGROUPED


def test_the_group_names_are_the_ones_with_committed_offsets() -> None:
    assert consumer_group("ingest", "lead.verdicts") == "ingest"
    assert consumer_group("scheduler", "leads.accepted") == "scheduler.leads-accepted"
    assert consumer_group("billing", "lead.verdicts") == "billing"
    assert consumer_group("notifier", "batch.events") == "notifier.final"
    assert consumer_group("notifier", "lead.verdicts") == "notifier.activity"
    assert consumer_group("notifier", "billing.events") == "notifier.credit"
    assert consumer_group("classifier", "probe.signalling") == "classifier"


def test_each_trunks_requests_are_read_by_that_trunks_probers() -> None:
    topic = probe_requests("alpha")
    assert topic.consumers == ("prober:alpha",)
    assert consumer_group("prober", topic.name) == "prober.alpha"


def test_a_consumer_the_registry_does_not_name_has_no_group() -> None:
    with pytest.raises(KeyError):
        consumer_group("billing", "batch.events")
