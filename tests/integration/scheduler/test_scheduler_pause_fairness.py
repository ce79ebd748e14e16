"""Pause and resume through the broker; a small batch after a large one finishes first."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from scheduler_helpers import StandInProber, all_final, lead, paused, publisher, read, running
from tests.support import until

from lc_common.events import BATCH_EVENTS, LEADS_ACCEPTED, BatchEventV1

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


def mobiles(batch: str, n: int, start: int = 0, account: str = "acc_1") -> list:
    return [lead(batch, start + i, f"+614{start + i:08d}", account) for i in range(n)]


async def test_pause_stops_dispatch_and_resume_finishes_the_batch(
    scheduler_settings: Any,
) -> None:
    settings = scheduler_settings()
    leads = mobiles("bat_p", 40)
    async with running(settings) as app, publisher(settings) as pub:
        scheduler = app.state.scheduler
        async with StandInProber(settings, ["alpha", "beta"]) as prober:
            prober.answer = False  # hold the first probes in flight
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in leads])
            # Mobiles go to beta only: 3 channels x 2 = 6 outstanding, no more.
            await until(lambda: len(prober.requests) == 6, 60, "six probes in flight")
            paused_at = time.monotonic()
            pause = BatchEventV1(account_id="acc_1", batch_id="bat_p", kind="paused")
            await pub.publish(BATCH_EVENTS, pause, key="bat_p")
            await until(
                lambda: read(scheduler.schedule, lambda tx: paused(tx, "bat_p")),
                60,
                "pause applied",
            )
            took = time.monotonic() - paused_at
            print(f"pause applied {took:.2f}s after the event")
            assert took < 60
            in_flight = {p.lead_id for p in prober.requests}
            # In-flight calls finish...
            prober.answer = True
            from scheduler_helpers import final_verdict

            from lc_common.events import LEAD_VERDICTS

            await pub.publish_many(
                LEAD_VERDICTS, [(p.lead_id, final_verdict(p)) for p in prober.requests]
            )
            await until(
                lambda: read(scheduler.schedule, lambda tx: not tx.outstanding("beta")),
                60,
                "in-flight answered",
            )
            # ...and nothing more goes out while paused, however many rounds run.
            for _ in range(3):
                assert await scheduler.dispatcher.run_round() == 0
            assert {p.lead_id for p in prober.requests} == in_flight
            resume = BatchEventV1(account_id="acc_1", batch_id="bat_p", kind="resumed")
            await pub.publish(BATCH_EVENTS, resume, key="bat_p")
            await until(
                lambda: len({p.lead_id for p in prober.requests}) == 40, 60, "all dispatched"
            )
            await until(lambda: all_final(scheduler.schedule), 60, "all final")
            # Resumed where it stopped: no lead was dialled twice.
            assert len(prober.requests) == 40


async def test_small_batch_after_large_batch_finishes_first(
    scheduler_settings: Any, tmp_path: Path
) -> None:
    large_n = int(os.environ.get("LC_TEST_FAIRNESS_LARGE", "5000"))
    small_n = 500
    trunks = tmp_path / "big-trunks.yaml"
    trunks.write_text(
        "- {name: alpha, host: 127.0.0.1, channels: 20, cps: 50}\n"
        "- {name: beta, host: 127.0.0.1, channels: 30, cps: 50}\n"
    )
    settings = scheduler_settings(trunks_file=trunks)
    large = mobiles("bat_large", large_n, account="acc_big")
    small = mobiles("bat_small", small_n, start=large_n, account="acc_small")
    async with running(settings) as app, publisher(settings) as pub:
        scheduler = app.state.scheduler
        async with StandInProber(settings, ["alpha", "beta"]) as prober:
            started = time.monotonic()
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in large])
            submitted_small = time.monotonic()
            await pub.publish_many(LEADS_ACCEPTED, [(e.lead_id, e) for e in small])
            await until(
                lambda: prober.per_batch["bat_small"] == small_n, 600, "small batch answered"
            )
            await until(
                lambda: prober.per_batch["bat_large"] == large_n, 1200, "large batch answered"
            )
            small_first = prober.first_at["bat_small"] - started
            small_done = prober.answered_at["bat_small"] - started
            large_done = prober.answered_at["bat_large"] - started
            print(
                f"fairness: large batch ({large_n} leads) finished {large_done:.1f}s, "
                f"small batch ({small_n} leads, submitted at "
                f"{submitted_small - started:.1f}s, first dialled {small_first:.1f}s) "
                f"finished {small_done:.1f}s after start"
            )
            assert small_done < large_done
            await until(lambda: all_final(scheduler.schedule), 60, "all final")
            assert len(prober.requests) == large_n + small_n
