"""Fairness at scale: a 500-lead batch submitted after a 200,000-lead batch finishes first.

    uv run python bench/scheduler_fairness.py [--large 200000] [--small 500]
        [--channels 1000] [--cps 400] [--call-seconds 3.0] [--budget 1500]

What is real: the broker (Tansu, or KAFKA_BOOTSTRAP_SERVERS), the store
(nx-27017, or MONGODB_URI), the scheduler, run as the `lc-scheduler` process
on one trunk of `--channels` channels, and billing (`lc-billing`), from which
the scheduler reserves a unit of credit for every lead before it dispatches it
(each account is granted enough credit for its batch).

What is stood in:
- ingest: this script publishes the `leads.accepted` events itself, as ingest's
  importer would: all of batch A (account A), then all of batch B (account B);
- prober + classifier: one small process (this file with `--stand-in`) consumes
  the trunk's probe requests and treats each as a call on the trunk: at most
  `--channels` at once, at most `--cps` new ones per second, each lasting a
  random 0.5x-1.5x of `--call-seconds`, then publishes a final `connected`
  verdict on `lead.verdicts`. No SIP, no rules: only the pacing of a real trunk.

Times are seconds after the first lead of A was published. B's finish is when
the stand-in answered B's last lead. If A cannot finish within `--budget`
seconds of run time, its progress and an extrapolated finish (at the rate of the
last minute) are printed, labelled as such. The default trunk (1,000 channels,
about 330 calls/s) lets A finish in about 11 minutes on a 2-core machine; with
200 channels A takes about 50 minutes and is extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lc_common.events import (
    BATCH_EVENTS,
    LEAD_VERDICTS,
    LEADS_ACCEPTED,
    PROBE_RETRIES,
    Evidence,
    LeadAcceptedV1,
    LeadVerdictV1,
    ProbeRequestV1,
    probe_requests,
)
from lc_common.kafka import ensure_topics
from lc_common.settings import ServiceSettings
from lc_localstack.peers import Peer, free_port, start_broker, start_store

BIN = Path(sys.executable).parent
TRUNK = "bench"
LARGE, SMALL = "bat_large", "bat_small"
INTERNAL_TOKEN = "bench-internal-token"


# The stand-in for prober + classifier (a process of its own).


async def stand_in(
    bootstrap: str, prefix: str, channels: int, cps: float, call_seconds: float, status: Path
) -> None:
    """Answer probe requests like a trunk of `channels` channels; write progress to `status`."""
    consumer = AIOKafkaConsumer(
        prefix + probe_requests(TRUNK).name,
        bootstrap_servers=bootstrap,
        group_id=prefix + "stand-in",
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    free = asyncio.Semaphore(channels)
    rng = random.Random(7)
    answered: Counter[str] = Counter()
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    calls: set[asyncio.Task[None]] = set()
    next_start = time.time()

    async def call(probe: ProbeRequestV1, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            verdict = LeadVerdictV1(
                account_id=probe.account_id,
                batch_id=probe.batch_id,
                lead_id=probe.lead_id,
                probe_id=probe.probe_id,
                attempt=probe.attempt,
                status="connected",
                final=True,
                chargeable=True,
                detail="SIP 180 Ringing (stand-in)",
                confidence=90,
                evidence=Evidence(trunk=probe.trunk, codes=[100, 180], tested_at=datetime.now(UTC)),
            )
            await producer.send(
                prefix + LEAD_VERDICTS.name, verdict.to_bytes(), key=probe.lead_id.encode()
            )
            answered[probe.batch_id] += 1
            last[probe.batch_id] = time.time()
        finally:
            free.release()

    async def report() -> None:
        while True:
            body = {"answered": answered, "first": first, "last": last, "busy": len(calls)}
            status.with_suffix(".tmp").write_text(json.dumps(body))
            status.with_suffix(".tmp").replace(status)
            await asyncio.sleep(0.5)

    reporter = asyncio.create_task(report())
    try:
        async for record in consumer:
            probe = ProbeRequestV1.model_validate_json(record.value or b"")
            await free.acquire()
            # CPS: new calls start no closer together than 1/cps seconds.
            next_start = max(next_start + 1 / cps, time.time())
            if next_start > time.time():
                await asyncio.sleep(next_start - time.time())
            first.setdefault(probe.batch_id, time.time())
            task = asyncio.create_task(call(probe, call_seconds * rng.uniform(0.5, 1.5)))
            calls.add(task)
            task.add_done_callback(calls.discard)
    finally:
        reporter.cancel()
        await producer.stop()
        await consumer.stop()


# The bench itself.


def leads(batch: str, account: str, n: int, start: int) -> list[bytes]:
    """`n` accepted leads (AU mobiles, distinct numbers), as ingest would publish them."""
    return [
        LeadAcceptedV1(
            account_id=account,
            batch_id=batch,
            lead_id=f"{batch}:{i:09d}",
            e164=f"+614{start + i:08d}",
            region="AU",
        ).to_bytes()
        for i in range(n)
    ]


async def publish(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        futures = []
        for value in values:
            key = json.loads(value)[LEADS_ACCEPTED.key].encode()
            futures.append(await producer.send(topic, value, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def scheduler_consumed(url: str) -> float:
    """How many `leads.accepted` events the scheduler has handled (its /metrics)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("lc_events_consumed_total{") and 'topic="leads.accepted"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def intake_assigned(client: httpx.AsyncClient, url: str) -> float:
    """How many `leads.accepted` partitions the scheduler's consumer holds (its /metrics)."""
    text = (await client.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith("lc_consumer_assigned_partitions{") and (
            'topic="leads.accepted"' in line
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def wait_leader(url: str, proc: subprocess.Popen[bytes], within: float = 120) -> None:
    """Until the scheduler leads and its intake consumer holds every partition: a running
    scheduler has joined its groups long before a batch comes (the join takes 15 s here)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("lc-scheduler exited; see its log")
            try:
                answer = await client.get(f"{url}/readyz")
                if (
                    answer.status_code == 200
                    and answer.json().get("role") == "leader"
                    and await intake_assigned(client, url) == LEADS_ACCEPTED.partitions
                ):
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("lc-scheduler did not take the lease")


async def grant_credit(
    url: str, proc: subprocess.Popen[bytes], units: dict[str, int], within: float = 120
) -> None:
    """Once billing is ready, grant each account its units."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("lc-billing exited; see its log")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("lc-billing did not become ready")
            await asyncio.sleep(0.5)
        for account_id, amount in units.items():
            answer = await client.post(
                f"{url}/internal/v1/grants",
                json={"units": amount, "description": "bench credit"},
                headers={"X-LC-Internal-Token": INTERNAL_TOKEN, "X-LC-Account-Id": account_id},
            )
            answer.raise_for_status()


def read_status(path: Path) -> dict[str, dict[str, float]]:
    try:
        data: dict[str, dict[str, float]] = json.loads(path.read_text())
        return data
    except (FileNotFoundError, json.JSONDecodeError):
        return {"answered": {}, "first": {}, "last": {}}


async def bench(args: argparse.Namespace) -> None:
    peers: list[Peer] = []
    work = Path(tempfile.mkdtemp(prefix="lc-bench-fairness-"))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongodb = os.environ.get("MONGODB_URI")
    if not bootstrap:
        peers.append(start_broker(log_path=work / "tansu.log"))
        bootstrap = peers[-1].address
    if not mongodb:
        (work / "store").mkdir()
        peers.append(start_store(work / "store"))
        mongodb = peers[-1].address
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix)
    await ensure_topics(
        settings,
        [LEADS_ACCEPTED, LEAD_VERDICTS, PROBE_RETRIES, BATCH_EVENTS, probe_requests(TRUNK)],
    )
    trunks = work / "trunks.yaml"
    trunks.write_text(
        f"- {{name: {TRUNK}, host: 127.0.0.1, channels: {args.channels}, cps: {args.cps}}}\n"
    )
    port, billing_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        MONGODB_URI=mongodb,
        LC_TOPIC_PREFIX=prefix,
        LC_MONGODB_DATABASE=prefix.strip(".").replace("-", "_"),
        LC_HTTP_PORT=str(port),
        LC_TRUNKS_FILE=str(trunks),
        LC_REDRIVE_ON_STARTUP="false",
        LC_CALLING_WINDOWS_ENFORCED="false",
        LC_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        LC_INTERNAL_TOKEN=INTERNAL_TOKEN,
        LC_BILLING_URL=f"http://127.0.0.1:{billing_port}",
    )
    status = work / "stand-in.json"
    names = ("scheduler.log", "stand-in.log", "billing.log")
    logs = [open(work / name, "wb") for name in names]  # noqa: SIM115
    billing = subprocess.Popen(
        [str(BIN / "lc-billing")],
        env={**env, "LC_HTTP_PORT": str(billing_port)},
        stdout=logs[2],
        stderr=logs[2],
    )
    scheduler = subprocess.Popen(
        [str(BIN / "lc-scheduler")], env=env, stdout=logs[0], stderr=logs[0]
    )
    standin = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--stand-in",
            bootstrap,
            prefix,
            str(status),
            f"--channels={args.channels}",
            f"--cps={args.cps}",
            f"--call-seconds={args.call_seconds}",
        ],
        stdout=logs[1],
        stderr=logs[1],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await grant_credit(
            f"http://127.0.0.1:{billing_port}",
            billing,
            {"acc_large": args.large, "acc_small": args.small},
        )
        await wait_leader(url, scheduler)
        large = leads(LARGE, "acc_large", args.large, 0)
        small = leads(SMALL, "acc_small", args.small, args.large)
        topic = prefix + LEADS_ACCEPTED.name
        t0 = time.time()
        await publish(bootstrap, topic, large)
        small_at = time.time() - t0
        await publish(bootstrap, topic, small)
        total = args.large + args.small
        intake_done: float | None = None
        rates: list[tuple[float, float]] = []
        while True:
            await asyncio.sleep(1)
            now = time.time() - t0
            if scheduler.poll() is not None or standin.poll() is not None:
                raise RuntimeError(f"a process exited early; logs in {work}")
            if intake_done is None and await scheduler_consumed(url) >= total:
                intake_done = now
            s = read_status(status)
            done_large = s["answered"].get(LARGE, 0)
            rates.append((now, done_large))
            small_done = s["answered"].get(SMALL, 0) >= args.small
            if small_done and (done_large >= args.large or now > args.budget):
                break
            if now > args.budget + 600:
                raise RuntimeError(f"batch B did not finish in time; logs in {work}")
        print(
            "stands in for ingest (this script publishes leads.accepted) and for prober + "
            f"classifier (one process: {args.channels} channels, {args.cps:g} CPS, calls of "
            f"{args.call_seconds * 0.5:g}-{args.call_seconds * 1.5:g} s, each answered with a "
            "final 'connected' verdict); real: broker, store, lc-scheduler"
        )
        print(
            f"batch A: {args.large} leads published 0.0-{small_at:.1f} s; "
            f"batch B: {args.small} leads published from {small_at:.1f} s"
        )
        if intake_done is not None:
            print(
                f"scheduler intake: all {total} accepted leads read by {intake_done:.1f} s "
                f"({total / intake_done:.0f} leads/s)"
            )
        b_first = s["first"][SMALL] - t0
        b_last = s["last"][SMALL] - t0
        print(
            f"batch B: first dialled at {b_first:.1f} s ({b_first - small_at:.1f} s after its "
            f"submission; goal <= 10 s), finished at {b_last:.1f} s "
            f"({b_last - small_at:.1f} s after its submission)"
        )
        if done_large >= args.large:
            print(f"batch A: finished at {s['last'][LARGE] - t0:.1f} s")
        else:
            now, done = rates[-1]
            since = next(r for r in rates if r[0] >= now - 60)
            rate = (done - since[1]) / max(1.0, now - since[0])
            eta = now + (args.large - done) / rate if rate > 0 else float("inf")
            print(
                f"batch A: NOT finished within the {args.budget:g} s budget: {int(done)} of "
                f"{args.large} answered at {now:.1f} s ({rate:.1f} leads/s over the last "
                f"minute); EXTRAPOLATED finish at {eta:.0f} s"
            )
    finally:
        for proc in (standin, scheduler, billing):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        for peer in peers:
            peer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--cps", type=float, default=400.0)
    parser.add_argument("--call-seconds", type=float, default=3.0)
    parser.add_argument("--budget", type=float, default=1500.0, help="seconds of run time")
    parser.add_argument("--stand-in", nargs=3, metavar=("BOOTSTRAP", "PREFIX", "STATUS"))
    args = parser.parse_args()
    if args.stand_in:
        bootstrap, prefix, status = args.stand_in
        asyncio.run(
            stand_in(bootstrap, prefix, args.channels, args.cps, args.call_seconds, Path(status))
        )
        return
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
