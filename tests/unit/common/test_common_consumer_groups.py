"""Consumer groups against the event registry: every consumer the registry names has
a group named `<service>.<topic>` (or reads without one, or is Faust's), and a group
renamed by the rule names the legacy group whose offsets it adopts."""

from __future__ import annotations

import pytest

from lc_common.consuming.groups import (
    FAUST_GROUPS,
    LEGACY_GROUPS,
    UNGROUPED,
    consumer_group,
    legacy_group,
)
from lc_common.consuming.spec import ConsumerSpec
from lc_common.events.registry import LEAD_VERDICTS, TOPICS, probe_requests


async def _nothing(event: object) -> None:
    return None


def test_every_registered_consumer_follows_the_rule_reads_without_a_group_or_is_faust() -> None:
    named = {(service, name) for name, topic in TOPICS.items() for service in topic.consumers}
    ruled = named - UNGROUPED - set(FAUST_GROUPS)
    assert ruled, "the registry names no consumer"
    for service, topic in ruled:
        assert consumer_group(service, topic) == f"{service}.{topic.replace('.', '-')}"
    assert set(FAUST_GROUPS) <= named and named >= UNGROUPED


def test_the_groups_named_before_the_rule_are_adopted_from() -> None:
    assert consumer_group("ingest", "lead.verdicts") == "ingest.lead-verdicts"
    assert legacy_group("ingest", "lead.verdicts") == "ingest"
    assert legacy_group("billing", "lead.verdicts") == "billing"
    assert legacy_group("notifier", "batch.events") == "notifier.final"
    assert legacy_group("notifier", "lead.verdicts") == "notifier.activity"
    assert legacy_group("notifier", "billing.events") == "notifier.credit"
    assert legacy_group("scheduler", "leads.accepted") is None  # named so already
    assert consumer_group("classifier", "probe.signalling") == "classifier"
    for (service, topic), old in LEGACY_GROUPS.items():
        assert consumer_group(service, topic) != old


def test_each_trunks_requests_are_read_by_that_trunks_probers() -> None:
    topic = probe_requests("alpha")
    assert topic.consumers == ("prober:alpha",)
    assert consumer_group("prober", topic.name) == "prober.probe-requests-alpha"
    assert legacy_group("prober", topic.name) == "prober.alpha"


def test_a_consumer_the_registry_does_not_name_has_no_group() -> None:
    with pytest.raises(KeyError):
        consumer_group("billing", "batch.events")
    with pytest.raises(KeyError):
        consumer_group("prober", "batch.events")  # every prober reads every pause


def test_a_spec_of_a_service_carries_its_group_and_legacy_group() -> None:
    spec = ConsumerSpec.of("billing", LEAD_VERDICTS, _nothing)
    assert (spec.group, spec.legacy_group) == ("billing.lead-verdicts", "billing")
    spec = ConsumerSpec.of("scheduler", LEAD_VERDICTS, _nothing)
    assert (spec.group, spec.legacy_group) == ("scheduler.lead-verdicts", None)
