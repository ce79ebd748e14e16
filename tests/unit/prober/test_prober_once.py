"""What the prober's handler refuses to dial, decided before a call could start: a probe id
already started here, an expired request, any request once stopping, an unsafe number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY

from lc_common.clock import ManualClock
from lc_common.consuming.spec import PARTITION
from lc_common.errors import PoisonEvent
from lc_common.events import BatchEventV1, ProbeRequestV1
from lc_common.lanes import lane_shares
from lc_common.trunks import Trunk
from lc_prober.adapters.sender import SignallingSender
from lc_prober.adapters.sip.client import SipTrunkClient
from lc_prober.adapters.sip.config import TrunkConfig
from lc_prober.domain.health import TrunkHealth
from lc_prober.domain.once import StartedProbes
from lc_prober.domain.pauses import Pauses
from lc_prober.handlers import TrunkProber
from lc_prober.lanes import TrunkLanes

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TRUNK = Trunk(name="unit", host="127.0.0.1", channels=2, cps=2)


class NoSender:
    """Fails the test if anything is handed over for publishing."""

    def put(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing may be published for a request that is not dialled")


def prober(pauses: Pauses | None = None) -> TrunkProber:
    # The client is never started: a call would raise "client not started".
    client = SipTrunkClient(TrunkConfig(host="127.0.0.1"))
    lanes = TrunkLanes(TRUNK, lane_shares(TRUNK, 1), TrunkHealth())
    if pauses is None:
        pauses = Pauses()
        pauses.caught_up.set()
    return TrunkProber(
        TRUNK,
        client,
        cast(SignallingSender, NoSender()),
        lanes,
        pauses,
        clock=ManualClock(NOW),
    )


def request(**fields: Any) -> ProbeRequestV1:
    values: dict[str, Any] = {
        "account_id": "acc",
        "batch_id": "bat",
        "lead_id": "bat:1",
        "probe_id": "prb_1",
        "e164": "+61400000001",
        "attempt": 1,
        "trunk": "unit",
        **fields,
    }
    return ProbeRequestV1(**values)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"trunk": "unit", **labels}) or 0.0


async def test_an_expired_request_is_dropped_and_counted() -> None:
    before = metric("lc_probe_requests_expired_total")
    p = prober()
    await p.handle(request(expires_at=NOW))  # expiry is exclusive: at NOW it is over
    await p.handle(request(probe_id="prb_2", expires_at=NOW - timedelta(hours=1)))
    assert metric("lc_probe_requests_expired_total") - before == 2
    assert len(p.started) == 0


async def test_a_request_that_has_not_expired_goes_on_to_dial() -> None:
    PARTITION.set(0)  # what the consumer runner sets for the event's task
    p = prober()
    with pytest.raises(RuntimeError, match="client not started"):
        await p.handle(request(expires_at=NOW + timedelta(seconds=1)))
    assert "prb_1" in p.started  # recorded before the call, so never dialled twice


async def test_a_probe_id_started_here_is_not_dialled_again() -> None:
    before = metric("lc_probe_requests_not_dialled_total", reason="already_started")
    p = prober()
    p.started.add("prb_1")
    await p.handle(request())
    assert metric("lc_probe_requests_not_dialled_total", reason="already_started") - before == 1


async def test_nothing_is_dialled_once_stopping() -> None:
    p = prober()
    p.stop()
    await p.handle(request())
    assert len(p.started) == 0


async def test_an_unsafe_number_is_poison() -> None:
    # The event model refuses it at decode; a request built around the model must not dial.
    unsafe = ProbeRequestV1.model_construct(**{**request().model_dump(), "e164": "+61 4\r\nX: y"})
    with pytest.raises(PoisonEvent, match=r"E\.164"):
        await prober().handle(unsafe)


def test_started_probes_forget_the_oldest_beyond_capacity() -> None:
    started = StartedProbes(capacity=2)
    for probe_id in ("a", "b", "c"):
        started.add(probe_id)
    assert "a" not in started
    assert "b" in started and "c" in started
    started.add("b")  # seen again: now the newest
    started.add("d")
    assert "c" not in started
    assert {"b", "d"} <= {p for p in ("b", "c", "d") if p in started}
    with pytest.raises(ValueError):
        StartedProbes(capacity=0)


def paused(batch_id: str, at: datetime) -> BatchEventV1:
    return BatchEventV1(account_id="acc", batch_id=batch_id, kind="paused", occurred_at=at)


async def test_a_request_dispatched_before_its_batch_was_paused_is_void() -> None:
    before = metric("lc_probe_requests_not_dialled_total", reason="batch_paused")
    pauses = Pauses()
    pauses.caught_up.set()
    pauses.apply(paused("bat", NOW))
    pauses.apply(paused("bat", NOW - timedelta(hours=1)))  # an older pause changes nothing
    p = prober(pauses)
    await p.handle(request(dispatched_at=NOW - timedelta(seconds=1)))
    await p.handle(request(probe_id="prb_2", dispatched_at=NOW))  # at the pause: void too
    assert metric("lc_probe_requests_not_dialled_total", reason="batch_paused") - before == 2
    assert len(p.started) == 0


async def test_a_request_dispatched_after_the_pause_or_of_another_batch_is_dialled() -> None:
    PARTITION.set(0)
    pauses = Pauses()
    pauses.caught_up.set()
    pauses.apply(paused("bat", NOW))
    pauses.apply(BatchEventV1(account_id="acc", batch_id="bat", kind="resumed", occurred_at=NOW))
    p = prober(pauses)
    for probe_id, fields in (
        ("prb_after", {"dispatched_at": NOW + timedelta(seconds=1)}),
        ("prb_other", {"batch_id": "bot", "lead_id": "bot:1", "dispatched_at": NOW}),
    ):
        with pytest.raises(RuntimeError, match="client not started"):
            await p.handle(request(probe_id=probe_id, **fields))
        assert probe_id in p.started
