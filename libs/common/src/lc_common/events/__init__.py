"""Event contracts: one pydantic model per topic and schema version."""

from lc_common.events.base import Event, LeadEvent
from lc_common.events.batches import BatchEventKind, BatchEventV1, BatchStatus, CreditEventV1
from lc_common.events.leads import (
    DispatchedLead,
    Evidence,
    LeadAcceptedV1,
    LeadsDispatchedV1,
    LeadStatus,
    LeadVerdictV1,
)
from lc_common.events.probes import (
    EarlyMediaV1,
    EndedBy,
    ProbeRequestV1,
    ProbeRetryV1,
    ProbeSignallingV1,
    RetryReason,
    SipResponseV1,
)
from lc_common.events.registry import (
    BATCH_EVENTS,
    BILLING_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    LEADS_DISPATCHED,
    PROBE_RETRIES,
    PROBE_SIGNALLING,
    TOPICS,
    Topic,
    probe_requests,
)

__all__ = [
    "BATCH_EVENTS",
    "BILLING_EVENTS",
    "LEADS_ACCEPTED",
    "LEADS_DISPATCHED",
    "LEAD_VERDICTS",
    "PROBE_RETRIES",
    "PROBE_SIGNALLING",
    "TOPICS",
    "BatchEventKind",
    "BatchEventV1",
    "BatchStatus",
    "CreditEventV1",
    "DispatchedLead",
    "EarlyMediaV1",
    "EndedBy",
    "Event",
    "Evidence",
    "LeadAcceptedV1",
    "LeadEvent",
    "LeadStatus",
    "LeadVerdictV1",
    "LeadsDispatchedV1",
    "ProbeRequestV1",
    "ProbeRetryV1",
    "ProbeSignallingV1",
    "RetryReason",
    "SipResponseV1",
    "Topic",
    "probe_requests",
]
