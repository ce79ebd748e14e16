"""Every consumer group, by consuming service and topic: one rule, `<service>.<topic>`.

A group is named after the service and the topic it reads, the topic's dots as
dashes: `scheduler.leads-accepted`, `notifier.batch-events`,
`prober.probe-requests-sim-a`. One group per input, so a rebalance of one input
never stops another, and an operator reads from the name what lags.

Groups named before the rule (`ingest`, `billing`, `notifier.final`,
`prober.<trunk>`) are in `LEGACY_GROUPS`: a group's name is where its committed
offsets live, and a renamed group would start from `earliest` (the prober would
dial every request still on its topic again). So the consumer runner adopts the
legacy group's offsets on start (`lc_common.consuming.adopt`) before it joins the
new group, and a deployment moves over without handling anything twice.

One exception: the classifier's group is its Faust app id (`classifier`), which
also names its table's changelog topic; renaming it would drop the table.

Names are logical: the broker's group carries the deployment's prefix
(`ServiceSettings.topic`). `tests/unit/common/test_common_consumer_groups.py`
keeps this module true to the registry's `consumers`.
"""

from __future__ import annotations

from lc_common.events.registry import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_DISPATCHED,
    PROBE_REQUESTS_PREFIX,
    PROBE_SIGNALLING,
    TOPICS,
)

FAUST_GROUPS: dict[tuple[str, str], str] = {
    # The classifier is a Faust app: its group is its app id (LC_CLASSIFIER_APP_ID).
    ("classifier", PROBE_SIGNALLING.name): "classifier",
}
"""Groups outside the rule: Faust names them, and the name is also its changelog's."""

UNGROUPED: frozenset[tuple[str, str]] = frozenset({("prober", BATCH_EVENTS.name)})
"""Consumers the registry names that read without a consumer group (every prober
reads every pause)."""

LEGACY_GROUPS: dict[tuple[str, str], str] = {
    ("ingest", LEADS_DISPATCHED.name): "ingest",
    ("ingest", LEAD_VERDICTS.name): "ingest",
    ("ingest", BILLING_EVENTS.name): "ingest",
    ("billing", LEAD_VERDICTS.name): "billing",
    ("notifier", BATCH_EVENTS.name): "notifier.final",
    ("notifier", LEAD_VERDICTS.name): "notifier.activity",
    ("notifier", BILLING_EVENTS.name): "notifier.credit",
}
"""(service, topic) -> the group that read it before the naming rule; each trunk's
requests were read by `prober.<trunk>`."""


def consumer_group(service: str, topic: str) -> str:
    """The group of `service`'s consumer of `topic` (KeyError if the registry names none)."""
    if (service, topic) in FAUST_GROUPS:
        return FAUST_GROUPS[(service, topic)]
    registered = TOPICS.get(topic)
    consumers = registered.consumers if registered else ()
    is_prober = service == "prober" and topic.startswith(PROBE_REQUESTS_PREFIX)
    if (service not in consumers and not is_prober) or (service, topic) in UNGROUPED:
        raise KeyError(f"the registry names no grouped consumer of {topic} in {service}")
    return f"{service}.{topic.replace('.', '-')}"


def legacy_group(service: str, topic: str) -> str | None:
    """The group that read `topic` for `service` before the naming rule, if it differed."""
    if service == "prober" and topic.startswith(PROBE_REQUESTS_PREFIX):
        return f"prober.{topic.removeprefix(PROBE_REQUESTS_PREFIX)}"
    return LEGACY_GROUPS.get((service, topic))
