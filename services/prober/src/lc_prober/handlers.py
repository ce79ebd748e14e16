"""Places one test call per probe request, within the trunk's channel and CPS limits."""

from __future__ import annotations

import time

import structlog
from aiolimiter import AsyncLimiter

from lc_common.events import PROBE_SIGNALLING, ProbeRequestV1
from lc_common.kafka import Publisher
from lc_common.trunks import Trunk
from lc_prober.metrics import CALLS, CALLS_IN_FLIGHT, PROBE_SECONDS, RESPONSES
from lc_prober.signalling import signalling_event
from lc_prober.sip.client import SipTrunkClient

log = structlog.get_logger(__name__)


class TrunkProber:
    """Dials requests for one trunk. Channels are bounded by the consumer's concurrency;
    the call rate by a leaky bucket (aiolimiter) of the trunk's CPS share."""

    def __init__(
        self, trunk: Trunk, client: SipTrunkClient, publisher: Publisher, cps: float
    ) -> None:
        self._trunk = trunk
        self._client = client
        self._publisher = publisher
        # max_rate calls per 1 s, no burst above one second's worth.
        self._rate = AsyncLimiter(max(cps, 0.1), 1.0)

    async def handle(self, request: ProbeRequestV1) -> None:
        trunk = self._trunk.name
        await self._rate.acquire()
        CALLS_IN_FLIGHT.labels(trunk).inc()
        started = time.perf_counter()
        try:
            call = await self._client.call(request.e164)
        finally:
            CALLS_IN_FLIGHT.labels(trunk).dec()
            PROBE_SECONDS.labels(trunk).observe(time.perf_counter() - started)
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
