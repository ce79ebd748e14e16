"""Places one test call per probe request, within its lane's channels and CPS.

Each attempt is one call (docs/invariants.md I2). The consumer runner commits a
request before this handler starts (`ConsumerSpec.commit_before_handle`) and never
retries it, so:

- the call is placed at most once per probe id: a request whose probe id this
  process already started is not dialled again (`StartedProbes`);
- the signalling is handed to the `SignallingSender`, which publishes it in batches
  without holding the call's channel for the acknowledgement; only publishing is
  retried (bounded, with back-off); if it still fails the process stops. That
  call's signalling is lost; the scheduler's sweep re-dispatches the lead after
  its probe timeout;
- a request of a batch paused after its dispatch is void (`Pauses`): not dialled,
  nothing published (the scheduler queues the lead again);
- a request whose `expires_at` has passed when its call would start is dropped
  (logged, counted): by then the scheduler has dispatched the lead again, or will;
- a request that would put an unsafe value on the wire (`UnsafeSipValue`) is poison:
  the runner parks it on the dead-letter topic;
- once `stop()` is called no call starts, and the calls in flight are cancelled.
"""

from __future__ import annotations

import asyncio
import time
from functools import cache

import structlog

from lc_common.clock import Clock, SystemClock
from lc_common.consumer import current_partition
from lc_common.errors import PoisonEvent
from lc_common.events import ProbeRequestV1
from lc_common.trunks import Trunk
from lc_prober.adapters.sip.result import CallResult
from lc_prober.domain.health import trunk_fault
from lc_prober.domain.once import StartedProbes
from lc_prober.domain.pauses import Pauses
from lc_prober.lanes import TrunkLanes
from lc_prober.metrics import (
    CALLS,
    CALLS_HUNG_UP,
    CALLS_IN_FLIGHT,
    CALLS_STARTED,
    PROBE_SECONDS,
    REQUESTS_EXPIRED,
    REQUESTS_NOT_DIALLED,
    RESPONSES,
    TRUNK_FAULTS,
)
from lc_prober.ports import Caller, SignallingOut
from lc_prober.signalling import signalling_event
from lc_sip.safety import UnsafeSipValue, require_e164

log = structlog.get_logger(__name__)

PUBLISH_ATTEMPTS = 8
"""Tries to publish a batch of signalling (about 15 s of back-off in all) before giving up."""


class TrunkProber:
    """Dials requests for one trunk. The consumer runner bounds each lane's channels (its
    partition's events in flight); here each call waits for its lane's start window."""

    def __init__(
        self,
        trunk: Trunk,
        client: Caller,
        sender: SignallingOut,
        lanes: TrunkLanes,
        pauses: Pauses,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._trunk = trunk
        self._client = client
        self._sender = sender
        self._lanes = lanes
        self._pauses = pauses
        self._clock = clock or SystemClock()
        self.started = StartedProbes()
        self.stopping = False
        # Label lookups take a lock and hash the labels; a call would do eight of them.
        name = trunk.name
        self._started = CALLS_STARTED.labels(name)
        self._in_flight = CALLS_IN_FLIGHT.labels(name)
        self._seconds = PROBE_SECONDS.labels(name)
        self._expired = REQUESTS_EXPIRED.labels(name)
        self._calls = cache(lambda ended_by: CALLS.labels(name, ended_by))
        self._responses = cache(lambda code: RESPONSES.labels(name, str(code)))

    def stop(self) -> None:
        """Start no more calls and end those in flight (CANCEL, or BYE if answered).

        The calls in flight still return and their signalling is published as usual.
        """
        self.stopping = True
        hung_up = self._client.hang_up_all()
        CALLS_HUNG_UP.labels(self._trunk.name).inc(hung_up)
        log.info("prober_stopping", trunk=self._trunk.name, calls_hung_up=hung_up)

    async def handle(self, request: ProbeRequestV1) -> None:
        """Dial the request's number at most once and publish the signalling."""
        try:
            require_e164(request.e164)
        except UnsafeSipValue as exc:
            raise PoisonEvent(str(exc)) from exc
        if not self._pauses.caught_up.is_set():
            await self._pauses.caught_up.wait()
        if self._skip(request):
            return
        await self._lanes.lane(current_partition()).starts.acquire()
        # The trunk may have started backing off while this call waited for its start.
        if (wait := self._lanes.health.retry_in) > 0:
            await asyncio.sleep(wait)
        if self._skip(request):
            return
        self.started.add(request.probe_id)
        call = await self._dial(request)
        self._sender.put(request.lead_id, signalling_event(request, call))

    def _skip(self, request: ProbeRequestV1) -> bool:
        """Whether the request must not be dialled now (logged and counted if so)."""
        reason = None
        if request.probe_id in self.started:
            reason = "already_started"
        elif self.stopping:
            reason = "stopping"
        elif self._pauses.voids(request):
            reason = "batch_paused"
        elif request.expires_at is not None and request.expires_at <= self._clock.now():
            self._expired.inc()
            log.warning("probe_request_expired", expires_at=request.expires_at.isoformat())
            return True
        if reason is None:
            return False
        REQUESTS_NOT_DIALLED.labels(self._trunk.name, reason).inc()
        log.warning("probe_request_not_dialled", reason=reason)
        return True

    async def _dial(self, request: ProbeRequestV1) -> CallResult:
        self._started.inc()
        self._in_flight.inc()
        started = time.perf_counter()
        try:
            call = await self._client.call(request.e164)
        except UnsafeSipValue as exc:
            raise PoisonEvent(str(exc)) from exc
        finally:
            self._in_flight.dec()
            self._seconds.observe(time.perf_counter() - started)
        fault = trunk_fault(call)
        if fault is not None:
            TRUNK_FAULTS.labels(self._trunk.name, fault).inc()
        self._lanes.health.record(fault)
        self._calls(call.ended_by).inc()
        for response in call.responses:
            self._responses(response.code).inc()
        log.debug(
            "probe_done",
            call_id=call.call_id,
            codes=list(call.codes),
            ended_by=call.ended_by,
            duration_ms=call.duration_ms,
        )
        return call
