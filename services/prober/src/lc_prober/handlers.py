"""Places one test call per probe request, within its lane's channels and CPS."""

from __future__ import annotations

import asyncio
import time
from functools import cache

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
        # Label lookups take a lock and hash the labels; a call would do eight of them.
        name = trunk.name
        self._started = CALLS_STARTED.labels(name)
        self._in_flight = CALLS_IN_FLIGHT.labels(name)
        self._seconds = PROBE_SECONDS.labels(name)
        self._calls = cache(lambda ended_by: CALLS.labels(name, ended_by))
        self._responses = cache(lambda code: RESPONSES.labels(name, str(code)))

    async def handle(self, request: ProbeRequestV1) -> None:
        """Dial the request's number once and publish the signalling."""
        trunk = self._trunk.name
        await self._lanes.lane(current_partition()).starts.acquire()
        # The trunk may have started backing off while this call waited for its start.
        if (wait := self._lanes.health.retry_in) > 0:
            await asyncio.sleep(wait)
        self._started.inc()
        self._in_flight.inc()
        started = time.perf_counter()
        try:
            call = await self._client.call(request.e164)
        finally:
            self._in_flight.dec()
            self._seconds.observe(time.perf_counter() - started)
        fault = trunk_fault(call)
        if fault is not None:
            TRUNK_FAULTS.labels(trunk, fault).inc()
        self._lanes.health.record(fault)
        self._calls(call.ended_by).inc()
        for response in call.responses:
            self._responses(response.code).inc()
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
