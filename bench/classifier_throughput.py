"""Classifier throughput: the Faust app against a pass-through Faust agent and a bare loop.

    uv run python bench/classifier_throughput.py [--events 20000]

The goal (issue 12) is the classifier at >= 0.8 of a pass-through Faust agent on the
same broker: a Faust worker (`--passthrough-worker`, run as its own process like the
classifier) whose agent takes the same batches and publishes each raw event as it came,
with the same producer settings. That is the ceiling Faust leaves; the bare aiokafka
loop shows what Faust itself costs. All runs get the same backlog of signalling events
(pre-published on their own topics, keyed by lead id, 4 partitions) on the same broker
and publish one verdict (the pass-through: one message) per event. A run's rate is
measured between the timestamps of its verdicts
(after the first 2%, a warm-up), so start-up (group join, table recovery) is
not counted. The classifier runs as the real `lc-classifier` process (log level
WARNING unless BENCH_LOG_LEVEL says otherwise); the bare loop decodes with
pydantic and publishes a verdict built from the event, with no rules, no table
and no error policy. Both producers batch alike (linger 5 ms, 256 KiB batches).
The classifier also publishes retries and its table's changelog (about 2.5
messages per event). Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts Tansu.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lc_common.events import (
    LEAD_VERDICTS,
    PROBE_RETRIES,
    PROBE_SIGNALLING,
    EarlyMediaV1,
    Evidence,
    LeadVerdictV1,
    ProbeSignallingV1,
    SipResponseV1,
)
from lc_common.kafka import ensure_topics
from lc_common.settings import ServiceSettings
from lc_localstack.peers import free_port, start_broker
from support.proc import CpuMeter, cores_text

BIN = Path(sys.executable).parent
TIMEOUT = 300.0


def backlog(n: int) -> list[ProbeSignallingV1]:
    """`n` calls of distinct leads: ringing, busy, 480, 404, intercept tones, answered."""
    shapes: list[tuple[list[int], str, EarlyMediaV1 | None]] = [
        ([100, 180, 487], "cancelled", None),
        ([100, 486], "final", None),
        ([100, 480], "final", None),
        ([100, 404], "final", None),
        (
            [100, 183, 487],
            "cancelled",
            EarlyMediaV1(listened_ms=3000, packets=150, finding="sit", sit_kind="intercept"),
        ),
        ([100, 180, 200], "answered", None),
    ]
    now = datetime.now(UTC)
    events = []
    for i in range(n):
        codes, ended_by, media = shapes[i % len(shapes)]
        events.append(
            ProbeSignallingV1(
                account_id="acc_bench",
                batch_id="bat_bench",
                lead_id=f"bat_bench:{i:09d}",
                probe_id=f"prb_{i}",
                e164=f"+6125550{i % 10000:04d}",
                attempt=1,
                trunk="alpha",
                call_id=f"call-{i}",
                started_at=now,
                duration_ms=800,
                responses=[
                    SipResponseV1(code=c, reason="", at_ms=100 * j) for j, c in enumerate(codes)
                ],
                final_code=codes[-1],
                ended_by=ended_by,
                early_media=media,
            )
        )
    return events


async def prepare(bootstrap: str, prefix: str, events: list[ProbeSignallingV1]) -> None:
    """Create the run's topics and publish its backlog."""
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap, topic_prefix=prefix)
    await ensure_topics(settings, [PROBE_SIGNALLING, LEAD_VERDICTS, PROBE_RETRIES])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262144)
    await producer.start()
    try:
        topic = prefix + PROBE_SIGNALLING.name
        futures = [await producer.send(topic, e.to_bytes(), key=e.lead_id.encode()) for e in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


Rate = tuple[float, float, dict[str, float]]


async def verdict_rate(bootstrap: str, prefix: str, n: int, meter: CpuMeter) -> Rate:
    """Wait for `n` verdicts on the run's topic; (events/s, seconds) between first and last,
    and the cores the metered processes used from the first verdict to the last."""
    consumer = AIOKafkaConsumer(
        prefix + LEAD_VERDICTS.name,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    stamps: list[int] = []
    try:
        async with asyncio.timeout(TIMEOUT):
            while len(stamps) < n:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                if batches and not stamps:
                    meter.restart()
                for records in batches.values():
                    stamps.extend(r.timestamp for r in records)
        cores = meter.cores()
    finally:
        await consumer.stop()
    # The first 2% are a warm-up (the group settles, the first fetches): not counted.
    stamps.sort()
    skip = n // 50
    seconds = max(1, stamps[-1] - stamps[skip]) / 1000
    return (n - 1 - skip) / seconds, seconds, cores


async def bare_loop(bootstrap: str, prefix: str, n: int) -> None:
    """Consume, decode with pydantic, publish a verdict; commit as the classifier would."""
    consumer = AIOKafkaConsumer(
        prefix + PROBE_SIGNALLING.name,
        bootstrap_servers=bootstrap,
        group_id=prefix + "bare",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    # The same producer batching as the classifier (linger 5 ms, 256 KiB batches).
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262144)
    await consumer.start()
    await producer.start()
    out = prefix + LEAD_VERDICTS.name
    done = 0
    try:
        async with asyncio.timeout(TIMEOUT):
            while done < n:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                futures = []
                for records in batches.values():
                    for record in records:
                        event = ProbeSignallingV1.model_validate_json(record.value or b"")
                        verdict = LeadVerdictV1(
                            account_id=event.account_id,
                            batch_id=event.batch_id,
                            lead_id=event.lead_id,
                            probe_id=event.probe_id,
                            attempt=event.attempt,
                            status="connected",
                            final=True,
                            detail="bench",
                            confidence=50,
                            evidence=Evidence(
                                trunk=event.trunk,
                                codes=[r.code for r in event.responses],
                                tested_at=event.started_at,
                            ),
                        )
                        futures.append(await producer.send(out, verdict.to_bytes(), key=record.key))
                        done += 1
                if futures:
                    await asyncio.gather(*futures)
                    await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


async def run_bare(bootstrap: str, events: list[ProbeSignallingV1], peers: dict[str, int]) -> Rate:
    prefix = f"bench-bare-{uuid.uuid4().hex[:8]}."
    await prepare(bootstrap, prefix, events)
    meter = CpuMeter({"this process (bare loop and meter)": os.getpid(), **peers})
    measure = asyncio.create_task(verdict_rate(bootstrap, prefix, len(events), meter))
    await bare_loop(bootstrap, prefix, len(events))
    return await measure


async def run_classifier(
    bootstrap: str,
    events: list[ProbeSignallingV1],
    peers: dict[str, int],
    passthrough: bool = False,
) -> Rate:
    """The real `lc-classifier` (or the pass-through worker) on its own topics."""
    prefix = f"bench-{'pass' if passthrough else 'faust'}-{uuid.uuid4().hex[:8]}."
    await prepare(bootstrap, prefix, events)
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-classifier-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        LC_TOPIC_PREFIX=prefix,
        LC_HTTP_PORT=str(port),
        LC_CLASSIFIER_DATA_DIR=str(workdir / "data"),
        LC_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    )
    log = open(workdir / "classifier.log", "wb")  # noqa: SIM115
    command = [str(BIN / "lc-classifier")]
    if passthrough:
        command = [sys.executable, __file__, "--passthrough-worker"]
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        meter = CpuMeter({"worker": proc.pid, **peers})
        measure = asyncio.create_task(verdict_rate(bootstrap, prefix, len(events), meter))
        while not measure.done():
            if proc.poll() is not None:
                measure.cancel()
                raise RuntimeError(f"lc-classifier exited; see {workdir / 'classifier.log'}")
            await asyncio.sleep(0.2)
        rate = await measure
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        dead = [ln for ln in metrics.splitlines() if ln.startswith("lc_classifier_dead_lettered")]
        if dead:
            print("  dead letters:", dead)
        return rate
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def cpu_us(cores: dict[str, float], name: str, rate: float) -> float:
    """Microseconds of CPU the process spent per event."""
    return cores[name] / rate * 1e6


def passthrough_worker() -> None:
    """A Faust worker that forwards every signalling event, raw, to `lead.verdicts`."""
    import faust

    from lc_classifier.bootstrap import faust_app
    from lc_classifier.config import ClassifierSettings

    settings = ClassifierSettings()
    app = faust_app(settings, settings.topic("passthrough"))
    source = app.topic(
        settings.topic(PROBE_SIGNALLING.name), key_serializer="raw", value_serializer="raw"
    )
    out = settings.topic(LEAD_VERDICTS.name)

    @app.agent(source, name="forward")
    async def forward(stream: Any) -> None:
        send = app.producer.send
        batches = stream.take_events(
            settings.classifier_batch_size, within=settings.classifier_batch_within
        )
        async for events in batches:
            for event in events:
                await send(out, event.message.key, event.message.value, None, None, None)

    settings.classifier_data_dir.mkdir(parents=True, exist_ok=True)
    # Run like `lc-classifier` runs its app.
    worker = faust.Worker(
        app,
        loop=asyncio.new_event_loop(),
        loglevel=settings.log_level,
        quiet=True,
        override_logging=False,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 20000)))
    parser.add_argument("--passthrough-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.passthrough_worker:
        return
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = start_broker()
        bootstrap = broker.address
    try:
        events = backlog(args.events)
        peers = {"broker": broker.process.pid} if broker else {}
        print(f"broker {bootstrap}, {args.events} signalling events per run")
        print("  (cores: CPU each process used while the verdicts came, 1.00 = one core busy)")
        started = time.perf_counter()
        bare, bare_s, cores = await run_bare(bootstrap, events, peers)
        print(f"  bare aiokafka loop : {bare:9.0f} events/s ({bare_s:.2f} s); {cores_text(cores)}")
        passing, passing_s, cores = await run_classifier(bootstrap, events, peers, True)
        print(
            f"  pass-through Faust : {passing:9.0f} events/s ({passing_s:.2f} s); "
            f"{cores_text(cores)}; CPU per event {cpu_us(cores, 'worker', passing):.0f} us"
        )
        faust_rate, faust_s, cores = await run_classifier(bootstrap, events, peers)
        print(
            f"  classifier (Faust) : {faust_rate:9.0f} events/s ({faust_s:.2f} s); "
            f"{cores_text(cores)}; CPU per event {cpu_us(cores, 'worker', faust_rate):.0f} us"
        )
        ratio = faust_rate / passing
        verdict = "meets" if ratio >= 0.8 else "BELOW"
        print(f"  classifier / pass-through: {ratio:.2f} ({verdict} the 0.8 goal)")
        print(f"  classifier / bare loop   : {faust_rate / bare:.2f}")
        print(f"  pass-through / bare loop : {passing / bare:.2f}")
        print(f"  total bench time   : {time.perf_counter() - started:.1f} s")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    if "--passthrough-worker" in sys.argv:
        sys.argv.remove("--passthrough-worker")
        passthrough_worker()
    else:
        asyncio.run(main())
