"""Builds one SIP client and one consumer per trunk this prober serves."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from lc_common.consumer import ConsumerRunner, ConsumerSpec
from lc_common.events import PROBE_SIGNALLING, ProbeRequestV1, probe_requests
from lc_common.kafka import Publisher, ensure_topics
from lc_common.service import Workers
from lc_common.trunks import Trunk, load_trunks
from lc_prober.config import ProberSettings
from lc_prober.handlers import TrunkProber
from lc_prober.metrics import CHANNEL_LIMIT, CPS_LIMIT, TRUNK_HEALTHY
from lc_prober.sip.client import SipTrunkClient
from lc_prober.sip.config import CallPolicy, TrunkConfig


@dataclass
class ProberRuntime:
    """The running prober: its trunks and their consumers."""

    trunks: list[Trunk]
    runners: list[ConsumerRunner[ProbeRequestV1]]

    async def ready(self) -> None:
        """Raise until every trunk's consumer has partitions assigned."""
        if not all(r.assigned for r in self.runners):
            raise RuntimeError("waiting for partition assignment")


def client_config(trunk: Trunk, settings: ProberSettings) -> TrunkConfig:
    """The SIP client configuration for one trunk."""
    return TrunkConfig(
        host=trunk.host,
        port=trunk.port,
        transport=trunk.transport,
        local_host=settings.sip_bind_host,
        username=trunk.username,
        password=trunk.password.get_secret_value() if trunk.password else None,
        from_user=settings.from_user,
        contact_host=settings.contact_host,
        policy=CallPolicy(
            ring_seconds=settings.ring_seconds, early_media_seconds=settings.early_media_seconds
        ),
    )


@asynccontextmanager
async def build_runtime(settings: ProberSettings, workers: Workers) -> AsyncIterator[ProberRuntime]:
    """Start a SIP client and a consumer per trunk; close them all on exit."""
    trunks = [t for t in load_trunks(settings.trunks_file) if settings.trunk in ("", t.name)]
    if not trunks:
        raise ValueError(f"trunk {settings.trunk!r} is not in {settings.trunks_file}")
    await ensure_topics(settings, [PROBE_SIGNALLING, *(probe_requests(t.name) for t in trunks)])
    async with AsyncExitStack() as stack:
        publisher = Publisher(settings)
        await publisher.start()
        stack.push_async_callback(publisher.stop)
        runners: list[ConsumerRunner[ProbeRequestV1]] = []
        for trunk in trunks:
            client = SipTrunkClient(client_config(trunk, settings))
            await client.start()
            stack.push_async_callback(client.close)
            channels = max(1, math.floor(trunk.channels / settings.replicas))
            cps = trunk.cps / settings.replicas
            CHANNEL_LIMIT.labels(trunk.name).set(channels)
            CPS_LIMIT.labels(trunk.name).set(cps)
            TRUNK_HEALTHY.labels(trunk.name).set(1)
            prober = TrunkProber(trunk, client, publisher, cps)
            topic = probe_requests(trunk.name)
            runner = ConsumerRunner(
                settings,
                ConsumerSpec(topic, f"prober.{trunk.name}", prober.handle, concurrency=channels),
                publisher,
            )
            runners.append(runner)
            workers.start(f"prober:{trunk.name}", runner.run())
        try:
            yield ProberRuntime(trunks, runners)
        finally:
            await workers.stop()
