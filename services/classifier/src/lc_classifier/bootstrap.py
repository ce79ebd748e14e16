"""The one place where the classifier's real parts are built and wired: the Faust app.

`build` gives a Faust app consuming `probe.signalling` (raw bytes, so a
malformed event is dead-lettered rather than crashed on), keeping each lead's
attempt history in a table keyed by lead id (in memory, recovered from its
changelog topic), and publishing to `lead.verdicts`, `probe.retries` and
`probe.signalling.dlq`. Its web server serves `/healthz`, `/readyz` and
`/metrics` (`lc_classifier.api`); its agent and timers are `lc_classifier.agents`.
Wiring only: the rules live in the domain, the event handling in `handlers`,
`pipeline` and `agents`. Tests call it with a manual clock or other rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from lc_classifier.agents import HISTORY_CHANGELOG, install_agents
from lc_classifier.announcements import load_library
from lc_classifier.api import install_pages
from lc_classifier.broker_auth import broker_credentials
from lc_classifier.config import ClassifierSettings
from lc_classifier.domain import RetryPolicy
from lc_classifier.handlers import SignallingHandler
from lc_classifier.pipeline import SignallingPipeline
from lc_classifier.recovery_watch import RecoveryWatch
from lc_classifier.rules import RuleSet, load_rules
from lc_common.clock import Clock, SystemClock
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING
from lc_common.metrics import EVENTS_PUBLISHED

HISTORY_TABLE = "lead_history"
PRODUCER_MAX_BATCH_BYTES = 262_144


def retry_policy(settings: ClassifierSettings) -> RetryPolicy:
    """The retry policy the settings describe."""
    shared = settings.retry_policy()
    return RetryPolicy(
        schedule=shared.schedule,
        max_attempts=shared.max_attempts,
        horizon=shared.horizon,
        trunk_fault_backoff=settings.classifier_trunk_fault_backoff,
        confirm_delay=settings.classifier_confirm_delay,
    )


@dataclass
class Classifier:
    """The wired service: the Faust app and the parts tests may want to look at."""

    app: faust.App
    table: Any
    pipeline: SignallingPipeline
    watch: RecoveryWatch


def faust_app(settings: ClassifierSettings, app_id: str) -> faust.App:
    """A Faust app configured as the classifier runs it (broker, timeouts, producer
    batching, web port); the benchmark's pass-through agent runs on the same."""
    return faust.App(
        app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=broker_credentials(settings),
        store="memory://",
        datadir=str(settings.classifier_data_dir),
        autodiscover=False,
        topic_partitions=PROBE_SIGNALLING.partitions,
        topic_replication_factor=1,
        # No leader election: nothing here runs on the leader only, and one internal
        # topic fewer to lose with the broker (its changelog is watched, see agents).
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        consumer_metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
        producer_metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
        broker_session_timeout=settings.classifier_session_timeout,
        broker_rebalance_timeout=settings.classifier_session_timeout,
        broker_heartbeat_interval=min(3.0, settings.classifier_session_timeout / 3),
        stream_buffer_maxsize=settings.classifier_stream_buffer,
        # About 2.5 messages per event: larger batches, fewer produce requests.
        producer_linger_ms=5,
        producer_max_batch_size=PRODUCER_MAX_BATCH_BYTES,
        web_enabled=True,
        web_host=settings.http_host,
        web_bind=settings.http_host,
        web_port=settings.http_port,
    )


def build(
    settings: ClassifierSettings,
    *,
    clock: Clock | None = None,
    rules: RuleSet | None = None,
) -> Classifier:
    """Build the Faust app of the classifier (not started)."""
    rules = rules or load_rules(settings.classifier_rules_file)
    if len(rules.announcements) == 0:
        rules = rules.with_announcements(load_library(settings.classifier_announcements_dir))
    app_id = settings.topic(settings.classifier_app_id)
    app = faust_app(settings, app_id)
    source = app.topic(
        settings.topic(PROBE_SIGNALLING.name),
        key_serializer="raw",
        value_serializer="raw",
        partitions=PROBE_SIGNALLING.partitions,
    )
    # Outputs go to Faust's producer directly rather than through Topic objects
    # (no per-message future and buffer task: about twice the throughput); Faust
    # still flushes that producer before it commits the source offsets, so the
    # at-least-once guarantee holds. The topics exist already (`ensure_topics`).
    sinks = {
        name: settings.topic(name)
        for name in (LEAD_VERDICTS.name, PROBE_RETRIES.name, PROBE_SIGNALLING.name)
    }
    sinks[PROBE_SIGNALLING.dlq] = settings.topic(PROBE_SIGNALLING.dlq)
    published = {name: EVENTS_PUBLISHED.labels(name) for name in sinks}
    table = app.Table(
        HISTORY_TABLE,
        partitions=PROBE_SIGNALLING.partitions,
        schema=faust.Schema(
            key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"
        ),
        help="Attempt history of each lead (JSON), keyed by lead id.",
    )
    # The handler reads and writes the table's store directly and the pipeline
    # sends each change to the table's changelog itself (see `SignallingPipeline`):
    # the same changelog records Faust would write, on the same partition, so
    # recovery and standbys work unchanged.
    sinks[HISTORY_CHANGELOG] = table.changelog_topic.get_topic_name()
    published[HISTORY_CHANGELOG] = EVENTS_PUBLISHED.labels(HISTORY_CHANGELOG)
    handler = SignallingHandler(rules, retry_policy(settings), clock or SystemClock(), {})
    pipeline = SignallingPipeline(
        handler,
        group=app_id,
        changelog=HISTORY_CHANGELOG,
        source_topic=settings.topic(PROBE_SIGNALLING.name),
    )

    install_agents(
        app,
        settings,
        source=source,
        table=table,
        handler=handler,
        pipeline=pipeline,
        sinks=sinks,
        published=published,
    )
    install_pages(app)

    return Classifier(
        app=app,
        table=table,
        pipeline=pipeline,
        watch=RecoveryWatch(settings.classifier_recovery_stall_seconds),
    )
