"""Every topic: its name, schema, producer and consumers.

The one place to look to see who talks to whom. Names are logical: the broker
topic carries the deployment's prefix (`ServiceSettings.topic`). Each topic has
a dead-letter twin, `<name>.dlq`, where the consumer runner parks poison events.
"""

from __future__ import annotations

from dataclasses import dataclass

from lc_common.events.base import Event
from lc_common.events.batches import BatchEventV1, CreditEventV1
from lc_common.events.leads import LeadAcceptedV1, LeadsDispatchedV1, LeadVerdictV1
from lc_common.events.probes import ProbeRequestV1, ProbeRetryV1, ProbeSignallingV1
from lc_common.lanes import lane_count
from lc_common.trunks import Trunk

PROBE_REQUESTS_PREFIX = "probe.requests."


@dataclass(frozen=True)
class Topic:
    """A logical topic and its contract."""

    name: str
    model: type[Event]
    producer: str
    consumers: tuple[str, ...]
    partitions: int = 4
    key: str = "lead_id"

    @property
    def dlq(self) -> str:
        """The dead-letter topic for this one."""
        return f"{self.name}.dlq"


# Keyed by batch: a batch's leads share a partition, so a small batch on another
# partition is read at once instead of behind every lead of a big one (fairness).
LEADS_ACCEPTED = Topic(
    "leads.accepted", LeadAcceptedV1, "ingest", ("scheduler",), partitions=8, key="batch_id"
)
LEADS_DISPATCHED = Topic(
    "leads.dispatched", LeadsDispatchedV1, "scheduler", ("ingest",), key="batch_id"
)
PROBE_SIGNALLING = Topic("probe.signalling", ProbeSignallingV1, "prober", ("classifier",))
LEAD_VERDICTS = Topic(
    "lead.verdicts", LeadVerdictV1, "classifier", ("ingest", "scheduler", "billing", "notifier")
)
PROBE_RETRIES = Topic("probe.retries", ProbeRetryV1, "classifier", ("scheduler",))
BATCH_EVENTS = Topic(
    "batch.events", BatchEventV1, "ingest", ("scheduler", "notifier", "prober"), key="batch_id"
)
BILLING_EVENTS = Topic(
    "billing.events",
    CreditEventV1,
    "billing",
    ("ingest", "scheduler", "notifier"),
    partitions=1,
    key="account_id",
)

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        LEADS_ACCEPTED,
        LEADS_DISPATCHED,
        PROBE_SIGNALLING,
        LEAD_VERDICTS,
        PROBE_RETRIES,
        BATCH_EVENTS,
        BILLING_EVENTS,
    )
}


def probe_requests(trunk: str | Trunk) -> Topic:
    """The request topic of one trunk; its consumer group is that trunk's probers.

    Given the trunk itself (not only its name) the topic carries the trunk's lane
    count as its partitions (`lc_common.lanes`), which is what creating it should use.
    """
    if isinstance(trunk, Trunk):
        name, partitions = trunk.name, lane_count(trunk)
    else:
        name, partitions = trunk, Topic.partitions
    return Topic(
        f"{PROBE_REQUESTS_PREFIX}{name}",
        ProbeRequestV1,
        "scheduler",
        (f"prober:{name}",),
        partitions=partitions,
    )
