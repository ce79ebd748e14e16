"""Two scheduler replicas on one store: only the lease holder dispatches; the other takes over."""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from scheduler_helpers import (
    StandInProber,
    all_final,
    final_verdict,
    lead,
    publisher,
    read,
    running,
)
from tests.support import until

from lc_common.events import LEAD_VERDICTS, LEADS_ACCEPTED

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def readyz(app: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        answer = await client.get("/readyz")
        assert answer.status_code == 200
        result: dict[str, Any] = answer.json()
        return result


# A clean stop releases the lease (unit tests; the recovery test relies on it); the
# crash is the case worth the time here: the lease has to run out on the real store.
@pytest.mark.parametrize("clean_stop", [False], ids=["crashed"])
async def test_only_the_lease_holder_dispatches_and_the_standby_takes_over(
    scheduler_settings: Any, clean_stop: bool
) -> None:
    settings = scheduler_settings(lease_ttl_seconds=4, lease_renew_seconds=0.5)
    leads = [lead("bat_l", i, f"+614{i:08d}") for i in range(12)]
    async with (
        publisher(settings) as pub,
        StandInProber(settings, ["alpha", "beta"]) as prober,
        AsyncExitStack() as first_running,
    ):
        prober.answer = False
        first = await first_running.enter_async_context(running(settings))
        async with running(settings, leader=False) as second:
            assert (await readyz(first))["role"] == "leader"
            await until(lambda: second.state.leadership.holder is not None, 10, "a look")
            standby = await readyz(second)
            assert standby["role"] == "standby"
            assert standby["lease_holder"] == first.state.leadership.owner
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in leads])
            # Mobiles go to beta only: 3 channels x 2 = 6 out, the other 6 wait.
            await until(lambda: len(prober.requests) == 6, 60, "six probes out")
            schedule = first.state.scheduler.schedule
            assert len(await read(schedule, lambda tx: tx.open_entries())) == 12
            assert second.state.scheduler is None and not second.state.leadership.is_leader
            if not clean_stop:
                # A crash: the lease is not given up and must run out first.
                first.state.leadership.lease = None
            await first_running.aclose()
            stopped = second.state.leadership.clock.now()
            await until(lambda: second.state.scheduler is not None, 30, "the standby took over")
            took = (second.state.leadership.lease.acquired_at - stopped).total_seconds()
            how = "released" if clean_stop else "crashed"
            print(f"takeover {took:.2f}s after the leader stopped ({how})")
            if not clean_stop:
                assert took >= 2.0  # not before the lease ran out (4 s after its last renewal)
            assert (await readyz(second))["role"] == "leader"
            assert REGISTRY.get_sample_value("lc_scheduler_leader") == 1.0
            # The calls in flight finish; the new leader dispatches the rest, each lead once.
            prober.answer = True
            held = list(prober.requests)
            await pub.publish_many(LEAD_VERDICTS, [(p.lead_id, final_verdict(p)) for p in held])
            await until(
                lambda: len({p.lead_id for p in prober.requests}) == 12, 60, "every lead dispatched"
            )
            await until(lambda: all_final(second.state.scheduler.schedule), 60, "all final")
            assert set(Counter(p.lead_id for p in prober.requests).values()) == {1}
