"""Every consumer group, by consuming service and topic, checked against the registry.

The names follow four patterns (`ingest`, `scheduler.leads-accepted`,
`notifier.final`, `prober.<trunk>`) and are kept as they are: a group's name is
where its committed offsets live, and a renamed group starts from `earliest`, so
its consumers would handle their whole topic again (the prober would dial every
request still on its topic a second time). A rename needs a startup migration of
the committed offsets first; until then this table is the one place that says
which group reads what, and `tests/unit/common/test_common_consumer_groups.py`
keeps it true to the registry's `consumers`.

Names are logical: the broker's group carries the deployment's prefix
(`ServiceSettings.topic`).
"""

from __future__ import annotations

from lc_common.events.registry import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    LEADS_DISPATCHED,
    PROBE_REQUESTS_PREFIX,
    PROBE_RETRIES,
    PROBE_SIGNALLING,
)

CONSUMER_GROUPS: dict[tuple[str, str], str] = {
    ("ingest", LEADS_DISPATCHED.name): "ingest",
    ("ingest", LEAD_VERDICTS.name): "ingest",
    ("ingest", BILLING_EVENTS.name): "ingest",
    ("scheduler", LEADS_ACCEPTED.name): "scheduler.leads-accepted",
    ("scheduler", PROBE_RETRIES.name): "scheduler.probe-retries",
    ("scheduler", LEAD_VERDICTS.name): "scheduler.lead-verdicts",
    ("scheduler", BATCH_EVENTS.name): "scheduler.batch-events",
    ("scheduler", BILLING_EVENTS.name): "scheduler.billing-events",
    ("billing", LEAD_VERDICTS.name): "billing",
    ("notifier", BATCH_EVENTS.name): "notifier.final",
    ("notifier", LEAD_VERDICTS.name): "notifier.activity",
    ("notifier", BILLING_EVENTS.name): "notifier.credit",
    # The classifier is a Faust app: its group is its app id (LC_CLASSIFIER_APP_ID).
    ("classifier", PROBE_SIGNALLING.name): "classifier",
}
"""(service, topic) -> group, for every consumer the registry names but two: the
prober's pause reader of `batch.events` has no group (every prober reads every
pause), and each trunk's request topic is read by `prober.<trunk>`."""

UNGROUPED: frozenset[tuple[str, str]] = frozenset({("prober", BATCH_EVENTS.name)})
"""Consumers the registry names that read without a consumer group."""


def consumer_group(service: str, topic: str) -> str:
    """The group of `service`'s consumer of `topic` (KeyError if it has none)."""
    if topic.startswith(PROBE_REQUESTS_PREFIX) and service == "prober":
        return f"prober.{topic.removeprefix(PROBE_REQUESTS_PREFIX)}"
    return CONSUMER_GROUPS[(service, topic)]
