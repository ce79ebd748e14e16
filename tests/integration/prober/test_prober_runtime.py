"""The prober runtime on the real broker against the carrier simulator: lanes shared by two
runtimes, poison requests parked, and a failing trunk backing off and recovering."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prober_support import TopicReader, lead_ids, publish, request, running_prober, write_trunks
from prometheus_client import REGISTRY
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_common.events import PROBE_SIGNALLING
from lc_common.kafka import Publisher
from lc_prober.config import ProberSettings

pytestmark = [pytest.mark.kafka, pytest.mark.sip, pytest.mark.timeout(120)]

SIM_TIMERS = SimTimers(t1=0.05, t2=0.4)
RING = {"rules": [{"behaviour": "ring", "delay_ms": [0, 20]}]}


def settings_for(trunks: Path, **overrides: object) -> ProberSettings:
    return ProberSettings(
        trunks_file=trunks, sip_bind_host="127.0.0.1", early_media_seconds=1.0, **overrides
    )


async def test_two_runtimes_sharing_a_trunk_never_exceed_its_channels(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    # The simulator has exactly the trunk's channels: one call more would get 503.
    async with CarrierSimulator({**RING, "channels": 4}, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=4, cps=100)
        settings = settings_for(trunks, ring_seconds=0.15)
        async with running_prober(settings) as first, running_prober(settings) as second:
            lanes = (first.lanes["sim"], second.lanes["sim"])
            await until(lambda: all(lane.owned for lane in lanes), within=60)
            assert lanes[0].owned.isdisjoint(lanes[1].owned)
            assert lanes[0].owned | lanes[1].owned == {0, 1, 2, 3}
            async with TopicReader(settings, PROBE_SIGNALLING.name) as reader:
                await publish(settings, [request(i) for i in range(80)])
                await until(lambda: len(lead_ids(reader)) == 80, within=60)
        assert sum(sim.stats.calls.values()) >= 80
        assert sim.stats.channel_rejects == 0
        assert sim.stats.max_concurrent == 4  # the channels were all used, never more


async def test_an_undecodable_request_is_parked_and_the_prober_goes_on(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(RING, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=2, cps=50)
        settings = settings_for(trunks)
        async with running_prober(settings) as runtime:
            await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
            async with (
                TopicReader(settings, PROBE_SIGNALLING.name) as signalling,
                TopicReader(settings, "probe.requests.sim.dlq") as dlq,
            ):
                await publish(settings, [request(0)])
                publisher = Publisher(settings)
                await publisher.start()
                await publisher.producer.send_and_wait(
                    settings.topic("probe.requests.sim"), b"\x00not a request", key=b"bat:x"
                )
                await publisher.stop()
                await publish(settings, [request(i) for i in range(1, 6)])
                await until(lambda: len(lead_ids(signalling)) == 6 and len(dlq.records) == 1)
        (parked,) = dlq.records
        assert parked.value == b"\x00not a request"
        assert dict(parked.headers)["lc-dlq-reason"] == b"undecodable"
        assert sum(sim.stats.calls.values()) == 6


async def test_a_failing_trunk_backs_off_without_dialling_and_recovers(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    storm = {"rules": [{"behaviour": "service_unavailable"}]}
    async with CarrierSimulator(storm, timers=SIM_TIMERS) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=2, cps=50)
        settings = settings_for(trunks, health_threshold=3, health_backoff_seconds=1.5)
        async with running_prober(settings) as runtime:
            health = runtime.lanes["sim"].health
            await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
            await runtime.ready()
            async with TopicReader(settings, PROBE_SIGNALLING.name) as reader:
                await publish(settings, [request(i) for i in range(30)])
                await until(lambda: health.state == "backing_off")
                resume_at = time.monotonic() + health.retry_in
                dialled = len(sim.stats.started)
                assert dialled < 30
                assert REGISTRY.get_sample_value("lc_probe_trunk_healthy", {"trunk": "sim"}) == 0
                with pytest.raises(RuntimeError, match="backing_off"):
                    await runtime.ready()
                sim.reload(RING)  # the carrier comes back
                await until(lambda: health.state == "healthy")
                await until(lambda: len(lead_ids(reader)) == 30)
                await runtime.ready()
        assert sim.stats.started[dialled] >= resume_at - 0.01  # nothing dialled meanwhile
        assert sim.stats.responses[503] == dialled
        assert REGISTRY.get_sample_value("lc_probe_trunk_healthy", {"trunk": "sim"}) == 1
