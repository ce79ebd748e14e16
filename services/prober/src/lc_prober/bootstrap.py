"""Builds one SIP client, one trunk's lanes and one consumer per trunk this prober serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import structlog

from lc_common.consumer import ConsumerRunner, ConsumerSpec, Lanes
from lc_common.events import (
    BATCH_EVENTS,
    PROBE_SIGNALLING,
    ProbeRequestV1,
    Topic,
    probe_requests,
)
from lc_common.kafka import Publisher, ensure_topics, keep_topics, partition_count
from lc_common.lanes import lane_shares
from lc_common.service import Workers
from lc_common.trunks import Trunk, load_trunks, require_caller_ids
from lc_prober.adapters.pauses import read_pauses
from lc_prober.adapters.sender import SignallingSender
from lc_prober.adapters.sip.client import SipTrunkClient
from lc_prober.adapters.sip.config import CallPolicy, TrunkConfig
from lc_prober.config import ProberSettings
from lc_prober.domain.health import HealthChange, TrunkHealth
from lc_prober.domain.pauses import Pauses
from lc_prober.handlers import PUBLISH_ATTEMPTS, TrunkProber
from lc_prober.lanes import TrunkLanes
from lc_prober.metrics import PUBLISH_RETRIES, TRUNK_BACKOFFS, TRUNK_HEALTHY

log = structlog.get_logger(__name__)


@dataclass
class ProberRuntime:
    """The running prober: its trunks, their lanes and their consumers."""

    trunks: list[Trunk]
    runners: list[ConsumerRunner[ProbeRequestV1]]
    lanes: dict[str, TrunkLanes]
    probers: dict[str, TrunkProber]
    pauses: Pauses

    def stop_calls(self) -> None:
        """Take no more requests, start no more calls, CANCEL (or BYE) those in flight."""
        for name, prober in self.probers.items():
            self.lanes[name].stop()
            prober.stop()

    def status(self) -> dict[str, dict[str, Any]]:
        """Per trunk: health, back-off left and the lanes served here."""
        return {
            name: {
                "health": lanes.health.state,
                "reason": lanes.health.reason,
                "retry_in_seconds": round(lanes.health.retry_in, 1),
                "lanes": sorted(lanes.owned),
            }
            for name, lanes in self.lanes.items()
        }

    async def ready(self) -> None:
        """Raise until every trunk's consumer has partitions, and while a trunk backs off."""
        if not all(r.assigned for r in self.runners):
            raise RuntimeError("waiting for partition assignment")
        if not self.pauses.caught_up.is_set():
            raise RuntimeError("reading the batches' pauses")
        unhealthy = {n: s for n, s in self.status().items() if s["health"] != "healthy"}
        if unhealthy:
            raise RuntimeError(f"trunks not healthy: {unhealthy}")


def client_config(trunk: Trunk, settings: ProberSettings) -> TrunkConfig:
    """The SIP client configuration for one trunk."""
    return TrunkConfig(
        host=trunk.host,
        port=trunk.port,
        transport=trunk.transport,
        local_host=settings.sip_bind_host,
        username=trunk.username,
        password=trunk.password.get_secret_value() if trunk.password else None,
        from_user=trunk.caller_id or settings.from_user,
        caller_id=trunk.caller_id,
        contact_host=settings.contact_host,
        policy=CallPolicy(
            ring_seconds=settings.ring_seconds, early_media_seconds=settings.early_media_seconds
        ),
    )


def trunk_health(trunk: Trunk, settings: ProberSettings) -> TrunkHealth:
    """The trunk's breaker, exporting and logging each change."""
    TRUNK_HEALTHY.labels(trunk.name).set(1)

    def changed(change: HealthChange) -> None:
        TRUNK_HEALTHY.labels(trunk.name).set(1 if change.state == "healthy" else 0)
        if change.state == "backing_off":
            TRUNK_BACKOFFS.labels(trunk.name).inc()
            log.warning(
                "trunk_unhealthy",
                trunk=trunk.name,
                fault=change.reason,
                backoff_seconds=change.backoff_seconds,
            )
        else:
            log.info("trunk_health", trunk=trunk.name, state=change.state, reason=change.reason)

    return TrunkHealth(
        threshold=settings.health_threshold,
        base=settings.health_backoff_seconds,
        cap=settings.health_backoff_max_seconds,
        on_change=changed,
    )


async def trunk_lanes(trunk: Trunk, topic: Topic, settings: ProberSettings) -> TrunkLanes:
    """The lanes of a trunk, from the partitions its topic really has."""
    partitions = await partition_count(settings, topic)
    if partitions != topic.partitions:
        log.warning(
            "lanes_differ_from_wanted",
            trunk=trunk.name,
            partitions=partitions,
            wanted=topic.partitions,
        )
    return TrunkLanes(trunk, lane_shares(trunk, partitions), trunk_health(trunk, settings))


@asynccontextmanager
async def build(
    settings: ProberSettings, workers: Workers, *, publisher: Publisher | None = None
) -> AsyncIterator[ProberRuntime]:
    """Start a SIP client and a lane-limited consumer per trunk; close them all on exit.

    Requests are committed before they are dialled (at most one call per request).
    On exit (SIGTERM) no call starts any more, the calls in flight are cancelled and
    their signalling published, then the consumers and clients close. `publisher`
    replaces the real one (tests inject faults); it is started and stopped here.
    Each call's signalling is published by its trunk's `SignallingSender` in batches;
    on exit every call that ended has its signalling on the broker before the
    publisher stops. Requests of a batch paused after their dispatch are dropped
    (`Pauses`, read from `batch.events`). In production every trunk needs a
    `caller_id` (ValueError otherwise).
    """
    trunks = [t for t in load_trunks(settings.trunks_file) if settings.trunk in ("", t.name)]
    if not trunks:
        raise ValueError(f"trunk {settings.trunk!r} is not in {settings.trunks_file}")
    if settings.environment == "production":
        require_caller_ids(trunks)
    topics = {t.name: probe_requests(t) for t in trunks}
    all_topics = [PROBE_SIGNALLING, BATCH_EVENTS, *topics.values()]
    await ensure_topics(settings, all_topics)
    async with AsyncExitStack() as stack:
        publisher = publisher or Publisher(settings)
        await publisher.start()
        stack.push_async_callback(publisher.stop)
        runners: list[ConsumerRunner[ProbeRequestV1]] = []
        all_lanes: dict[str, TrunkLanes] = {}
        probers: dict[str, TrunkProber] = {}
        senders: list[SignallingSender] = []
        pauses = Pauses()
        workers.start("prober:pauses", read_pauses(settings, pauses))
        workers.start("prober:topics", keep_topics(settings, all_topics))
        for trunk in trunks:
            lanes = await trunk_lanes(trunk, topics[trunk.name], settings)
            client = SipTrunkClient(client_config(trunk, settings))
            await client.start()
            stack.push_async_callback(client.close)
            sender = signalling_sender(trunk, publisher)
            senders.append(sender)
            # Closed before the publisher stops (callbacks run last-in, first-out).
            stack.push_async_callback(sender.close)
            workers.start(f"prober:signalling:{trunk.name}", _fail_with(sender))
            prober = TrunkProber(trunk, client, sender, lanes, pauses)
            spec = ConsumerSpec.of(
                "prober",
                topics[trunk.name],
                prober.handle,
                strategy=Lanes(
                    lanes,
                    concurrency=trunk.channels,
                    commit_before_handle=True,
                    # The next round's requests fetched while this round's calls run.
                    prefetch=3,
                ),
                fetch_max_wait_ms=20,
            )
            runner = ConsumerRunner(settings, spec, publisher)
            runners.append(runner)
            all_lanes[trunk.name] = lanes
            probers[trunk.name] = prober
            workers.start(f"prober:{trunk.name}", runner.run())
        runtime = ProberRuntime(trunks, runners, all_lanes, probers, pauses)
        try:
            yield runtime
        finally:
            runtime.stop_calls()
            await workers.stop()


def signalling_sender(trunk: Trunk, publisher: Publisher) -> SignallingSender:
    """The trunk's signalling sender, started, counting its retries."""
    retries = PUBLISH_RETRIES.labels(trunk.name)

    def retried(attempt: int, error: BaseException) -> None:
        retries.inc()
        log.warning(
            "signalling_publish_retry", trunk=trunk.name, attempt=attempt, error=repr(error)
        )

    sender = SignallingSender(
        publisher, attempts=PUBLISH_ATTEMPTS, backoff_max=5.0, on_retry=retried
    )
    sender.start()
    return sender


async def _fail_with(sender: SignallingSender) -> None:
    """A worker that fails (bringing the process down) when the sender gives up."""
    await asyncio.shield(sender.failed)
    raise RuntimeError("publishing the signalling kept failing")
