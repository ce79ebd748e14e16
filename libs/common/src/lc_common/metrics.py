"""Metrics every service shares: the consumer runner's and the publisher's."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "lc_events_consumed_total",
    "Events taken from a topic, by outcome (ok, dead_lettered).",
    ["topic", "group", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "lc_events_dead_lettered_total",
    "Events parked on a dead-letter topic, by reason (undecodable, poison).",
    ["topic", "reason"],
)
HANDLER_RETRIES = Counter(
    "lc_handler_retries_total",
    "Transient handler failures that were retried.",
    ["topic"],
)
HANDLE_SECONDS = Histogram(
    "lc_event_handle_seconds",
    "Time to handle one event.",
    ["topic"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOPICS_RECREATED = Counter(
    "lc_topics_recreated_total",
    "Topics found missing (a broker restarted empty) and created again.",
)
POSITIONS_PAST_END = Counter(
    "lc_consumer_positions_past_end_total",
    "Partitions whose consumer position was past the end (a broker that came back"
    " empty) and went back to the start, by topic.",
    ["topic"],
)
COMMIT_FAILURES = Counter(
    "lc_consumer_commit_failures_total",
    "Offset commits the group refused (a rebalance, or the broker lost the group); the"
    " events stay uncommitted and are delivered again, by topic.",
    ["topic"],
)
GROUP_OFFSETS_ADOPTED = Counter(
    "lc_consumer_group_offsets_adopted_total",
    "Partitions whose committed offset a renamed consumer group took over from its"
    " legacy group on start (`lc_common.consuming.adopt`), by group.",
    ["group"],
)
ASSIGNED_PARTITIONS = Gauge(
    "lc_consumer_assigned_partitions",
    "Partitions this consumer holds now (0 while its group is joining or rebalancing).",
    ["topic", "group"],
)
IN_FLIGHT = Gauge("lc_consumer_in_flight", "Events being handled right now.", ["topic"])
EVENTS_PUBLISHED = Counter("lc_events_published_total", "Events sent to a topic.", ["topic"])
OUTBOX_RELAYED = Counter(
    "lc_outbox_relayed_total",
    "Outbox events published by a relay and removed from their document, by topic.",
    ["topic"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "lc_outbox_relay_failures_total",
    "Relay passes that failed (broker or store down) and will be retried, by topic.",
    ["topic"],
)
