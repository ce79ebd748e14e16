"""Trunk utilisation: how busy the prober keeps a trunk's channels while there is work.

    uv run python bench/trunk_utilisation.py [--numbers 10000] [--channels 200] [--cps 200]

A real `lc-prober` process (its own), fed through `probe.requests.<trunk>` on a local
broker (started here) and its lanes, dials a backlog of numbers on one trunk. The
carrier simulator runs in this process: every number rings after 1-4 s (uniform)
and the prober cancels at the first 180, so a call holds a channel for 1-4 s. The
trunk's CPS is set high enough that channels are the binding limit, and the
simulator has exactly the trunk's channels (one call more would get 503 cause 34).

Measured at the simulator, which is what the carrier sees:
- channels busy: the simulator's dialogs in progress (INVITE received until the ACK
  of its final, or the BYE), sampled every 50 ms from the first INVITE until the
  last number of the backlog was dialled (after that there is no backlog); the
  mean over those samples divided by the channel limit (goal >= 0.95);
- the most dialogs at once, and the most new calls in any 1 s window (sliding, over
  every call's arrival time), against the trunk's limits (never over).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from bisect import bisect_left
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from lc_carrier_sim import CarrierSimulator
from lc_common.events import PROBE_SIGNALLING
from lc_common.lanes import lane_count
from lc_common.settings import ServiceSettings
from lc_common.trunks import Trunk
from lc_localstack.peers import free_port, start_broker
from support.sim_peers import BIN, clean_env, publish_probe_backlog

TIMEOUT = 1800.0


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most stamps in any half-open window [t, t + window)."""
    ordered = sorted(stamps)
    return max((bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0)


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the prober's /readyz answers 200 (its lanes are assigned)."""
    async with httpx.AsyncClient() as client, asyncio.timeout(120):
        while True:
            if proc.poll() is not None:
                raise RuntimeError("lc-prober exited before it was ready")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


async def signalled(settings: ServiceSettings, numbers: int) -> None:
    """Until a signalling event for every number was published."""
    consumer = AIOKafkaConsumer(
        settings.topic(PROBE_SIGNALLING.name),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: set[bytes] = set()
    try:
        while len(seen) < numbers:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            seen.update(r.key for records in batches.values() for r in records if r.key)
    finally:
        await consumer.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--cps", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-utilisation-"))
    trunk = Trunk(name="bench", host="127.0.0.1", channels=args.channels, cps=args.cps)
    rules = {"channels": args.channels, "rules": [{"behaviour": "ring", "delay_ms": [1000, 4000]}]}
    broker = start_broker(log_path=workdir / "broker.log")
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    settings = ServiceSettings(kafka_bootstrap_servers=broker.address, topic_prefix=prefix)
    print(
        f"{args.numbers} numbers, trunk {args.channels} channels / {args.cps} cps in "
        f"{lane_count(trunk)} lanes, ringing after 1-4 s, cancelled at the 180"
    )
    try:
        async with CarrierSimulator(rules, seed=1) as sim:
            (workdir / "trunks.yaml").write_text(
                f"- {{name: bench, host: 127.0.0.1, port: {sim.port}, "
                f"channels: {args.channels}, cps: {args.cps}}}\n"
            )
            http_port = free_port()
            env = clean_env()
            env.update(
                KAFKA_BOOTSTRAP_SERVERS=broker.address,
                LC_TOPIC_PREFIX=prefix,
                LC_HTTP_PORT=str(http_port),
                LC_TRUNKS_FILE=str(workdir / "trunks.yaml"),
                LC_SIP_BIND_HOST="127.0.0.1",
                LC_LOG_LEVEL="INFO",
            )
            log = open(workdir / "prober.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen([str(BIN / "lc-prober")], env=env, stdout=log, stderr=log)
            try:
                await wait_ready(http_port, proc)
                await publish_probe_backlog(settings, args.numbers)
                samples: list[int] = []
                started = time.perf_counter()
                done = asyncio.create_task(signalled(settings, args.numbers))
                async with asyncio.timeout(TIMEOUT):
                    while len(sim.stats.started) < args.numbers:
                        if sim.stats.started:
                            samples.append(sim.stats.active)
                        await asyncio.sleep(0.05)
                    backlog_seconds = sim.stats.started[-1] - sim.stats.started[0]
                    await done
                elapsed = time.perf_counter() - started
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                log.close()
            stats = sim.stats
            busy = statistics.fmean(samples) / args.channels
            verdict = "meets" if busy >= 0.95 else "BELOW"
            calls = sum(stats.calls.values())
            lines = [
                f"run                 : {elapsed:7.1f} s; "
                f"backlog dialled in {backlog_seconds:.1f} s",
                f"calls at simulator  : {calls:7d} ({stats.channel_rejects} 503 over the limit)",
                f"channels busy       : {busy:7.3f} of the limit while there was backlog "
                f"({verdict} the 0.95 goal; {len(samples)} samples)",
                f"max concurrent calls: {stats.max_concurrent:7d} (limit {args.channels})",
                f"max calls in 1 s    : {max_in_window(stats.started):7d} (limit {args.cps})",
            ]
            print("\n".join("  " + line for line in lines))
    finally:
        broker.stop()
    print(f"  logs: {workdir}")


if __name__ == "__main__":
    asyncio.run(main())
