"""Every Prometheus metric of the classifier, in one place."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

VERDICTS = Counter(
    "lc_classifier_verdicts_total",
    "Verdicts published on lead.verdicts, by status and whether final.",
    ["status", "final"],
)
RETRIES = Counter(
    "lc_classifier_retries_total",
    "Retry requests published on probe.retries, by reason (indeterminate, confirm, trunk_fault).",
    ["reason"],
)
TRUNK_FAULTS = Counter(
    "lc_classifier_trunk_faults_total",
    "Calls that failed because of the trunk, not the lead (operators: alert on the rate).",
    ["trunk", "rule"],
)
DEAD_LETTERED = Counter(
    "lc_classifier_dead_lettered_total",
    "Signalling events parked on probe.signalling.dlq, by reason (undecodable, poison).",
    ["reason"],
)
IGNORED = Counter(
    "lc_classifier_ignored_total",
    "Signalling events that changed nothing (duplicate, stale_attempt, after_final).",
    ["reason"],
)
FINAL_REEMITTED = Counter(
    "lc_classifier_final_reemitted_total",
    "Final verdicts published again for a call made after the lead was final (a scheduler "
    "that lost the verdict closes the lead).",
)
REKEYED = Counter(
    "lc_classifier_rekeyed_total",
    "Signalling events that arrived not keyed by lead id and were re-published keyed by it.",
)
PROCESSING_SECONDS = Histogram(
    "lc_classifier_processing_seconds",
    "Time to decode and decide one signalling event (observed once per batch: its mean).",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1),
)
SIGNALLING_AGE_SECONDS = Histogram(
    "lc_classifier_signalling_age_seconds",
    "Time from the signalling event's publication to its verdict.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
HISTORIES_PRUNED = Counter(
    "lc_classifier_histories_pruned_total",
    "Attempt histories removed from the table after the retention period.",
)
HISTORIES_HELD = Gauge(
    "lc_classifier_histories",
    "Attempt histories held by this worker (active and standby partitions), at the last sweep.",
)
RECOVERY_STALLS = Counter(
    "lc_classifier_recovery_stalls_total",
    "Table recoveries that made no progress for LC_CLASSIFIER_RECOVERY_STALL_SECONDS and"
    " ended the worker (a changelog lost with the broker).",
)
CHANGELOG_LOST = Counter(
    "lc_classifier_changelog_lost_total",
    "Times the history table's changelog was found gone from the broker (restarted empty)"
    " and the worker ended so that a fresh one declares it again.",
)
