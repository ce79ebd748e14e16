"""The classifier's event handling on its Faust app: the `classify` agent and its timers.

`install_agents` puts on an app (made and wired by `bootstrap.build`) the agent that
decides `probe.signalling` a batch at a time through the `SignallingPipeline` and hands
its messages to Faust's producer, the timer that prunes expired histories, and the
timer that re-creates the service's own topics when the broker lost them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, cast

import faust
import structlog
from prometheus_client import Counter as MetricCounter

from lc_classifier.config import ClassifierSettings
from lc_classifier.handlers import SignallingHandler
from lc_classifier.metrics import CHANGELOG_LOST
from lc_classifier.pipeline import Outgoing, SignallingPipeline
from lc_classifier.pruning import HistoryPruner
from lc_common.events import LEAD_VERDICTS, PROBE_RETRIES, PROBE_SIGNALLING
from lc_common.kafka import missing_topics, recreate_missing_topics

log = structlog.get_logger(__name__)

HISTORY_CHANGELOG = "classifier.lead_history.changelog"
OUTPUTS = (LEAD_VERDICTS, PROBE_RETRIES)


class ChangelogLost(RuntimeError):
    """The history table's changelog vanished with the broker: the worker ends to start afresh."""


def install_agents(
    app: faust.App,
    settings: ClassifierSettings,
    *,
    source: Any,
    table: Any,
    handler: SignallingHandler,
    pipeline: SignallingPipeline,
    sinks: Mapping[str, str],
    published: Mapping[str, MetricCounter],
) -> None:
    """Install the `classify` agent on `source` and the pruning and topic timers on `app`.

    `sinks` maps each outgoing message's topic (as the pipeline names it, with
    `HISTORY_CHANGELOG` for the table's changelog) to the topic's name on the broker;
    `published` holds the publish counter of each. The agent stops the worker when the
    producer refuses a message, so no batch is acknowledged with its verdicts lost.
    """
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

    changelog = table.changelog_topic.get_topic_name()

    @app.timer(settings.topic_check_seconds)  # type: ignore[untyped-decorator]
    async def keep_own_topics() -> None:
        await recreate_missing_topics(settings, [PROBE_SIGNALLING, *OUTPUTS])
        # Faust declares its changelog once, at start, and never again: after a broker
        # restarted empty its consumer spins on the missing topic and assigns nothing.
        # A fresh worker declares it again, so this one ends and its supervisor restarts it.
        try:
            lost = await missing_topics(settings, [changelog])
        except Exception as exc:  # the broker is down: look again next time
            log.warning("changelog_check_failed", error=repr(exc))
            return
        if lost:
            CHANGELOG_LOST.inc()
            log.error("changelog_lost", topic=changelog)
            await app.crash(ChangelogLost(f"{changelog} is gone from the broker"))
