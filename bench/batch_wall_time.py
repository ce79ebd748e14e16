"""A batch at the speed of its trunks: upload to Finished through every real process.

    uv run python bench/batch_wall_time.py [--leads 3000] [--leads 10000] [--pause-check]

What is real: every service as its own process (gateway, ingest, scheduler,
prober, classifier, billing, notifier, started as tests/e2e/stack.py does, on free
ports), its own broker (Tansu) and store (nx-27017), and the carrier simulator
with its default rules (sim/carrier/rules.yaml), run in this process so its
counters can be read. The trunks are those of deploy/local/trunks.yaml pointed at
the simulator. Each batch is uploaded through the gateway's API by an account
granted enough credit and polled until Finished.

The numbers end in 0, 1, 2 or 9 (the simulator rings or answers: final on the
first attempt). The figure is the wall time from upload to Finished over the
physical limit `N / sum(cps)`; channel utilisation is the simulator's calls in
progress, sampled every 50 ms while the batch runs, over the sum of channels.

`--pause-check` also pauses a batch while it runs and reports the last call of
that batch the simulator saw start after the PATCH (goal: within 5 s), then
unpauses it and awaits Finished.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.stack import Stack, start_stack

from lc_carrier_sim import CarrierSimulator
from lc_localstack.peers import free_port, start_broker, start_store

TRUNKS_FILE = Path("deploy/local/trunks.yaml")
LAST_DIGITS = "0129"  # ring or answer: final on the first attempt
TIMEOUT = 3600.0


def local_trunks(sip_port: int) -> tuple[str, int, float]:
    """The local trunks pointed at the simulator: YAML text, sum of channels, sum of CPS."""
    trunks = yaml.safe_load(TRUNKS_FILE.read_text())
    for trunk in trunks:
        trunk["host"], trunk["port"] = "127.0.0.1", sip_port
    return (
        yaml.safe_dump(trunks),
        sum(int(t["channels"]) for t in trunks),
        sum(float(t["cps"]) for t in trunks),
    )


def leads_csv(count: int, series: int) -> bytes:
    """`count` distinct AU mobile numbers whose last digit is one of LAST_DIGITS."""
    lines = ["name,phone"]
    for i in range(count):
        lines.append(f"lead {i},04{series}{i // 4:05d}{LAST_DIGITS[i % 4]}")
    return ("\n".join(lines) + "\n").encode()


async def run_batch(
    api: httpx.AsyncClient,
    sim: CarrierSimulator,
    count: int,
    series: int,
    channels: int,
    cps: float,
    pause_check: bool,
) -> dict[str, float]:
    """Upload one batch, await Finished; its figures."""
    started_before = len(sim.stats.started)
    samples: list[int] = []
    began = time.monotonic()
    created = await api.post(
        "/api/v1/batches",
        files={"file": (f"bench-{count}.csv", leads_csv(count, series), "text/csv")},
        data={
            "name": f"bench {count}",
            "reference": f"bench-{count}",
            "phone_column": "phone",
            "default_region": "AU",
        },
    )
    created.raise_for_status()
    batch_id = created.json()["id"]
    figures: dict[str, float] = {}
    paused = False
    batch: dict[str, object] = {}
    async with asyncio.timeout(TIMEOUT):
        while True:
            for _ in range(10):
                if len(sim.stats.started) > started_before:
                    samples.append(sim.stats.active)
                await asyncio.sleep(0.05)
            batch = (await api.get(f"/api/v1/batches/{batch_id}")).json()
            if batch["status"] == "finished":
                break
            if pause_check and not paused and int(str(batch["processed"])) >= count // 4:
                figures.update(await pause_and_resume(api, sim, batch_id))
                paused = True
    # A pause check's paused time is not the trunks' doing.
    if batch["accepted"] != count:
        raise RuntimeError(f"{count} leads uploaded, {batch['accepted']} accepted: {batch}")
    elapsed = time.monotonic() - began - figures.get("paused_seconds", 0.0)
    limit = count / cps
    figures.update(
        leads=count,
        seconds=elapsed,
        limit=limit,
        ratio=elapsed / limit,
        busy=statistics.fmean(samples) / channels if samples else 0.0,
        calls=len(sim.stats.started) - started_before,
        max_concurrent=sim.stats.max_concurrent,
        connected=float(str(batch["connected"])),
    )
    return figures


async def pause_and_resume(
    api: httpx.AsyncClient, sim: CarrierSimulator, batch_id: str
) -> dict[str, float]:
    """Pause the batch, watch the simulator for 15 s, unpause; the last start after the PATCH."""
    answer = await api.patch(f"/api/v1/batches/{batch_id}", json={"paused": True})
    answer.raise_for_status()
    patched = time.monotonic()
    await asyncio.sleep(15)
    late = [t - patched for t in sim.stats.started if t > patched]
    answer = await api.patch(f"/api/v1/batches/{batch_id}", json={"paused": False})
    answer.raise_for_status()
    return {
        "pause_last_start": max(late, default=0.0),
        "pause_starts_after": len(late),
        "paused_seconds": time.monotonic() - patched,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, action="append", help="batch sizes (3000, 10000)")
    parser.add_argument("--pause-check", action="store_true")
    args = parser.parse_args()
    # SIGTERM ends the run like Ctrl-C: the stack, the broker and the store are stopped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    sizes = args.leads or [3000, 10000]
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-wall-"))
    broker = start_broker(log_path=workdir / "broker.log")
    store = start_store(workdir / "store")
    tag = uuid.uuid4().hex[:8]
    peer_env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.address,
        "MONGODB_URI": store.address,
        "LC_ENVIRONMENT": "test",
        "LC_TOPIC_PREFIX": f"b{tag}.",
        "LC_MONGODB_DATABASE": f"b{tag}",
    }
    sip_port = free_port()
    trunks, channels, cps = local_trunks(sip_port)
    stack: Stack | None = None
    try:
        async with CarrierSimulator(
            "sim/carrier/rules.yaml", port=sip_port, transport="udp", seed=1
        ) as sim:
            stack = await asyncio.to_thread(
                start_stack,
                workdir,
                peer_env,
                trunks=trunks,
                sip_port=sip_port,
                start_carrier=False,
                extra_env={
                    "LC_DISPATCH_INTERVAL_SECONDS": "0.5",
                    "LC_EARLY_MEDIA_SECONDS": "3",
                    "LC_LOG_LEVEL": "WARNING",
                },
            )
            account = await asyncio.to_thread(
                stack.create_account,
                "Bench Centre",
                "bench@example.com",
                "bench-password",
                2 * sum(sizes) + 100,
            )
            print(
                f"local trunks: {channels} channels, {cps:g} cps in all; "
                f"numbers ending in {', '.join(LAST_DIGITS)}"
            )
            async with httpx.AsyncClient(
                base_url=stack.url("gateway"),
                headers={"Authorization": f"Bearer {account['api_key']}"},
                timeout=120,
            ) as api:
                for series, count in enumerate(sizes, start=10):
                    f = await run_batch(api, sim, count, series, channels, cps, args.pause_check)
                    goal = 1.2 if count < 10000 else 1.1
                    print(
                        f"  {count:6d} leads: {f['seconds']:7.1f} s upload->Finished, limit "
                        f"{f['limit']:.1f} s: {f['ratio']:.2f}x (goal <= {goal}x); channels busy "
                        f"{f['busy']:.3f}; {f['calls']:.0f} calls; max concurrent "
                        f"{f['max_concurrent']:.0f} (limit {channels})"
                    )
                    if "pause_last_start" in f:
                        print(
                            f"         pause: {f['pause_starts_after']:.0f} calls started after "
                            f"the PATCH, the last {f['pause_last_start']:.1f} s after "
                            "(goal <= 5 s)"
                        )
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)
        store.stop()
        broker.stop()
    print(f"  logs: {workdir}")


if __name__ == "__main__":
    asyncio.run(main())
