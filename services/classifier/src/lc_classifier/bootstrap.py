"""The one place where the classifier's real parts are built and wired: the Faust app.

`build` gives a Faust app consuming `probe.signalling` (raw bytes, so a
malformed event is dead-lettered rather than crashed on), keeping each lead's
attempt history in a table keyed by lead id (in memory, recovered from its
changelog topic), and publishing to `lead.verdicts`, `probe.retries` and
`probe.signalling.dlq`. Its web server serves `/healthz`, `/readyz` and
`/metrics` (`lc_classifier.api`). Tests call it with a manual clock or other rules.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

import faust
import structlog

from lc_classifier.announcements import load_library
from lc_classifier.api import install_pages
from lc_classifier.broker_auth import broker_credentials
from lc_classifier.config import ClassifierSettings
from lc_classifier.domain import RetryPolicy
from lc_classifier.handlers import SignallingHandler
from lc_classifier.metrics import RECOVERY_STALLS
from lc_classifier.pipeline import Outgoing, SignallingPipeline
from lc_classifier.pruning import HistoryPruner
from lc_classifier.recovery_watch import RecoveryWatch
from lc_classifier.rules import RuleSet, load_rules
from lc_common.clock import Clock, SystemClock
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING
from lc_common.kafka import recreate_missing_topics
from lc_common.metrics import EVENTS_PUBLISHED

log = structlog.get_logger(__name__)

HISTORY_TABLE = "lead_history"
HISTORY_CHANGELOG = "classifier.lead_history.changelog"
PRODUCER_MAX_BATCH_BYTES = 262_144
OUTPUTS = (LEAD_VERDICTS, PROBE_RETRIES)
RECOVERY_CHECK_SECONDS = 5.0


class RecoveryStalled(RuntimeError):
    """The history table's recovery made no progress: the worker ends to start afresh."""


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

    async def watch_recovery(self) -> None:
        """Crash the worker when its table recovery stalls (`recovery_watch`).

        Run on the worker's loop beside the app, not as a Faust timer: Faust starts
        its timers once the app has started, which a first recovery that hangs
        never lets it finish.
        """
        while True:
            await asyncio.sleep(RECOVERY_CHECK_SECONDS)
            recovery = getattr(self.app.tables, "recovery", None)
            if recovery is None:
                continue
            # Faust's own mark of the last changelog event it applied (None before any).
            progress = recovery._last_active_event_processed_at
            if self.watch.observe(self.app.in_recovery, progress, time.monotonic()):
                remaining = recovery.active_remaining_total()
                RECOVERY_STALLS.inc()
                log.error(
                    "recovery_stalled", remaining=remaining, stall_after=self.watch.stall_after
                )
                await self.app.crash(
                    RecoveryStalled(f"no progress with {remaining} changes remaining")
                )
                return


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

    batch_size = settings.classifier_batch_size
    batch_within = settings.classifier_batch_within

    @app.agent(source, name="classify")
    async def classify(stream: faust.StreamT[bytes]) -> None:
        producer = app.producer
        # The table's store exists once the worker runs (made earlier, it would
        # belong to no running service and hang the worker's shutdown).
        handler.histories = table.data
        # A batch at a time: Faust acknowledges the batch once this body is done
        # with it, so every message of the batch is handed to the producer first.
        batches = cast(Any, stream).take_events(batch_size, within=batch_within)  # not on StreamT
        async for events in batches:
            out: list[Outgoing] = []
            pipeline.process_batch(
                (
                    (m.key, m.value, m.partition, m.offset)
                    for m in (event.message for event in events)
                ),
                out,
            )
            send = producer.send
            try:
                for message in out:
                    await send(
                        sinks[message.topic],
                        message.key,
                        message.value,
                        message.partition,
                        None,
                        message.headers,
                    )
            except Exception as exc:
                # The producer refused: stop the worker (its supervisor restarts it)
                # rather than let Faust acknowledge events whose verdicts are lost.
                log.exception("publish_failed")
                await app.crash(exc)
                raise
            for topic, count in Counter(message.topic for message in out).items():
                published[topic].inc(count)

    source_topic = settings.topic(PROBE_SIGNALLING.name)

    @app.timer(settings.classifier_history_sweep_interval.total_seconds())  # type: ignore[untyped-decorator]
    async def prune_histories() -> None:
        if app.rebalancing or app.in_recovery:
            return
        active = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == source_topic
        }
        if not active:
            return
        pruner = HistoryPruner(
            producer=app.producer,
            changelog=sinks[HISTORY_CHANGELOG],
            clock=handler.clock,
            keep=settings.classifier_history_retention,
            partitions=PROBE_SIGNALLING.partitions,
        )
        await pruner.sweep(table.data, active)

    @app.timer(settings.topic_check_seconds)  # type: ignore[untyped-decorator]
    async def keep_own_topics() -> None:
        await recreate_missing_topics(settings, [PROBE_SIGNALLING, *OUTPUTS])

    install_pages(app)

    return Classifier(
        app=app,
        table=table,
        pipeline=pipeline,
        watch=RecoveryWatch(settings.classifier_recovery_stall_seconds),
    )
