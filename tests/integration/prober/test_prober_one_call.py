"""Each attempt is one call (docs/invariants.md I2), on the real broker against the carrier
simulator: a failed publish is retried without re-dialling, a request is committed before
its call starts (so a prober killed mid-call leaves nothing for another to ring again), an
expired request is never dialled, and a graceful stop CANCELs the calls in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from prober_support import TopicReader, publish, request, running_prober, signalled, write_trunks
from prometheus_client import REGISTRY
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_common.events import PROBE_SIGNALLING, Event, Topic, probe_requests
from lc_common.kafka import Publisher, ensure_topics
from lc_common.settings import ServiceSettings
from lc_common.trunks import load_trunks
from lc_prober.adapters.sip.call import HUNG_UP
from lc_prober.config import ProberSettings

pytestmark = [pytest.mark.kafka, pytest.mark.sip, pytest.mark.timeout(150)]

SIM_TIMERS = SimTimers(t1=0.05, t2=0.4)
QUICK = {"rules": [{"behaviour": "ring", "delay_ms": [0, 20]}]}
# Rings for a minute unless cancelled; the prober would let it ring for 60 s.
LONG_RING = {"rules": [{"behaviour": "ring", "max_ring_ms": 60_000}]}


def settings_for(trunks: Path, **overrides: Any) -> ProberSettings:
    return ProberSettings(
        trunks_file=trunks, sip_bind_host="127.0.0.1", early_media_seconds=1.0, **overrides
    )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class FlakyPublisher(Publisher):
    """The real publisher, except that its first `failures` publications fail."""

    def __init__(self, settings: ServiceSettings, failures: int) -> None:
        super().__init__(settings)
        self.failures = failures
        self.attempts = 0

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise KafkaConnectionError("broker unreachable (injected)")
        return await super().publish_many(topic, events)


async def committed_offset(settings: ServiceSettings, group: str, topic: str) -> int:
    """The group's committed offset of partition 0 of the topic (-1: none).

    Asked as the group's consumers ask it at start (OffsetFetch), without joining it.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.topic(group),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        offset = await consumer.committed(TopicPartition(settings.topic(topic), 0))
    finally:
        await consumer.stop()
    return -1 if offset is None else int(offset)


async def test_a_failed_publish_is_retried_and_the_number_rung_once(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(QUICK, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=1, cps=10)
        settings = settings_for(trunks)
        flaky = FlakyPublisher(settings, failures=3)
        retried = metric("lc_probe_publish_retries_total", trunk="sim")
        async with (
            running_prober(settings, publisher=flaky) as runtime,
            TopicReader(settings, PROBE_SIGNALLING.name) as reader,
        ):
            await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
            first = request(1)
            await publish(settings, [first])
            await until(lambda: len(reader.records) == 1, within=30, what="the signalling")
        assert sim.stats.calls[first.e164] == 1
        assert flaky.attempts == 4
        assert [e.probe_id for e in signalled(reader)] == [first.probe_id]
        assert metric("lc_probe_publish_retries_total", trunk="sim") - retried == 3


async def test_an_expired_request_is_never_dialled(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(QUICK, timers=SIM_TIMERS) as sim:
        # One channel: one lane, so requests are taken in the order they were published.
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=1, cps=10)
        settings = settings_for(trunks)
        expired_before = metric("lc_probe_requests_expired_total", trunk="sim")
        now = datetime.now(UTC)
        expired = request(1, expires_at=now - timedelta(seconds=1))
        fresh = request(2, expires_at=now + timedelta(minutes=5))
        async with (
            running_prober(settings) as runtime,
            TopicReader(settings, PROBE_SIGNALLING.name) as reader,
        ):
            await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
            await publish(settings, [expired, fresh])
            await until(lambda: len(reader.records) >= 1, within=30, what="the fresh signalling")

            async def both_committed() -> bool:
                return (
                    await committed_offset(
                        settings, "prober.probe-requests-sim", "probe.requests.sim"
                    )
                    == 2
                )

            await until(both_committed, what="both requests committed")
        assert [e.lead_id for e in signalled(reader)] == [fresh.lead_id]
        assert sim.stats.calls[expired.e164] == 0
        assert sim.stats.calls[fresh.e164] == 1
        assert metric("lc_probe_requests_expired_total", trunk="sim") - expired_before == 1


async def test_a_graceful_stop_cancels_the_call_in_flight(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(LONG_RING, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=1, cps=10)
        settings = settings_for(trunks, ring_seconds=60)
        ringing = request(1)
        # Read from before the prober starts; a lookup creates no topic (lc_common.kafka_lookups).
        await ensure_topics(settings, [PROBE_SIGNALLING])
        async with TopicReader(settings, PROBE_SIGNALLING.name) as reader:
            async with running_prober(settings) as runtime:
                await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
                await publish(settings, [ringing])
                await until(lambda: sim.stats.active == 1, what="the call ringing")
                assert sim.stats.cancels == 0
                stopping = time.monotonic()
            stopped_in = time.monotonic() - stopping
            # Published before the runtime closed: the reader sees it without waiting long.
            await until(lambda: len(reader.records) == 1, within=10, what="its signalling")
        assert sim.stats.cancels == 1
        assert stopped_in < 10  # not the 60 s the call would have rung
        (event,) = signalled(reader)
        assert (event.probe_id, event.ended_by, event.error) == (
            ringing.probe_id,
            "cancelled",
            HUNG_UP,
        )
        assert sim.stats.calls[ringing.e164] == 1


def prober_process(env: dict[str, str], trunks: Path, log: Path) -> subprocess.Popen[bytes]:
    """`lc-prober` in a process of its own (so that it can be killed with SIGKILL)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    full = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    full.update(
        env,
        LC_HTTP_PORT=str(port),
        LC_TRUNKS_FILE=str(trunks),
        LC_SIP_BIND_HOST="127.0.0.1",
        LC_RING_SECONDS="60",
        LC_LOG_LEVEL="INFO",
    )
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "lc-prober")], env=full, stdout=out, stderr=out
        )


async def test_a_request_of_a_prober_killed_mid_call_is_not_dialled_again(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(LONG_RING, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=1, cps=10)
        settings = settings_for(trunks, ring_seconds=0.1)
        ringing, marker = request(1), request(2)
        # The topic as the prober makes it (one lane), before a publication could make it.
        await ensure_topics(settings, [probe_requests(load_trunks(trunks)[0])])
        killed = prober_process(service_env, trunks, tmp_path / "killed.log")
        try:
            await publish(settings, [ringing])

            def ringing_there() -> bool:
                assert killed.poll() is None, f"lc-prober exited; see {tmp_path}/killed.log"
                return sim.stats.active == 1

            await until(ringing_there, within=60, what="the call ringing")
            # Committed before the call started, not when it ends.
            offset = await committed_offset(
                settings, "prober.probe-requests-sim", "probe.requests.sim"
            )
            assert offset == 1
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=10)
        async with (
            TopicReader(settings, PROBE_SIGNALLING.name) as reader,
            running_prober(settings) as successor,
        ):
            # The successor gets the lane once the killed member's session has expired.
            await until(lambda: bool(successor.lanes["sim"].owned), within=90)
            await publish(settings, [marker])
            await until(lambda: len(reader.records) == 1, within=30, what="the marker's signalling")
        assert [e.lead_id for e in signalled(reader)] == [marker.lead_id]
        assert sim.stats.calls[ringing.e164] == 1  # rung by the killed prober only
        assert sim.stats.calls[marker.e164] == 1
