"""Places one test call per probe request, within its lane's channels and CPS."""

from __future__ import annotations

import asyncio
import time

import structlog

from lc_common.consumer import current_partition
from lc_common.events import PROBE_SIGNALLING, ProbeRequestV1
from lc_common.kafka import Publisher
from lc_common.trunks import Trunk
from lc_prober.health import trunk_fault
from lc_prober.lanes import TrunkLanes
from lc_prober.metrics import (
    CALLS,
    CALLS_IN_FLIGHT,
    CALLS_STARTED,
    PROBE_SECONDS,
    RESPONSES,
    TRUNK_FAULTS,
)
from lc_prober.signalling import signalling_event
from lc_prober.sip.client import SipTrunkClient

log = structlog.get_logger(__name__)


class TrunkProber:
    """Dials requests for one trunk. The consumer runner bounds each lane's channels (its
    partition's events in flight); here each call waits for its lane's start window."""

    def __init__(
        self, trunk: Trunk, client: SipTrunkClient, publisher: Publisher, lanes: TrunkLanes
    ) -> None:
        self._trunk = trunk
        self._client = client
        self._publisher = publisher
        self._lanes = lanes

    async def handle(self, request: ProbeRequestV1) -> None:
        """Dial the request's number once and publish the signalling."""
        trunk = self._trunk.name
        await self._lanes.lane(current_partition()).starts.acquire()
        # The trunk may have started backing off while this call waited for its start.
        if (wait := self._lanes.health.retry_in) > 0:
            await asyncio.sleep(wait)
        CALLS_STARTED.labels(trunk).inc()
        CALLS_IN_FLIGHT.labels(trunk).inc()
        started = time.perf_counter()
        try:
            call = await self._client.call(request.e164)
        finally:
            CALLS_IN_FLIGHT.labels(trunk).dec()
            PROBE_SECONDS.labels(trunk).observe(time.perf_counter() - started)
        fault = trunk_fault(call)
        if fault is not None:
            TRUNK_FAULTS.labels(trunk, fault).inc()
        self._lanes.health.record(fault)
        CALLS.labels(trunk, call.ended_by).inc()
        for response in call.responses:
            RESPONSES.labels(trunk, str(response.code)).inc()
        log.info(
            "probe_done",
            call_id=call.call_id,
            codes=list(call.codes),
            ended_by=call.ended_by,
            duration_ms=call.duration_ms,
        )
        await self._publisher.publish(
            PROBE_SIGNALLING, signalling_event(request, call), key=request.lead_id
        )
