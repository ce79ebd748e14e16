"""Prober call rate: the prober's call engine against SIPp as a UAC, same simulator, same box.

    uv run python bench/prober_call_rate.py [--calls 20000] [--concurrency 200] [--no-topic]

The carrier simulator runs in its own process and answers every call at once
(100, 180, 200; then the caller's ACK and BYE, 200). Each caller keeps
`concurrency` calls in flight and starts the next as soon as one ends, so the
rate is the most it sustains:

- SIPp's built-in `uac` scenario (C++, the reference);
- the prober's call engine (`SipTrunkClient`, production settings: SDP offer with
  an RTP socket per call, RFC 3261 timers, structlog JSON at INFO, where the engine
  logs nothing per call) in a process of its own, logs to a file;
- unless --no-topic: the whole `lc-prober` process fed from `probe.requests.<trunk>`
  on a local broker (lanes, CPS windows, one signalling event published per call),
  its rate taken from the timestamps of the signalling events (one `probe_done` line
  per call at INFO).

A rate is taken after the first 5% of calls (warm-up). The ratio prober ÷ SIPp
has a goal of 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from support.proc import CpuMeter, children_cpu_seconds, cores_text
from support.sim_peers import BIN, clean_env, publish_probe_backlog, simulator, sipp_uac_rate

RULES = {"channels": 1_000_000, "rules": [{"behaviour": "answer"}]}


async def engine(port: int, calls: int, concurrency: int) -> dict[str, float]:
    """The call engine alone: `concurrency` workers calling back to back."""
    from lc_common.logging import configure_logging
    from lc_prober.adapters.sip import CallPolicy, SipTrunkClient, TrunkConfig

    configure_logging("prober", "INFO")
    # ring_seconds: wait for the 200 like SIPp does instead of cancelling at the 180.
    config = TrunkConfig(
        host="127.0.0.1", port=port, local_host="127.0.0.1", policy=CallPolicy(ring_seconds=10)
    )
    stamps: list[float] = []
    failed = 0
    remaining = calls

    async def worker(client: SipTrunkClient) -> None:
        nonlocal remaining, failed
        while remaining > 0:
            remaining -= 1
            result = await client.call(f"+614{remaining:08d}")
            if result.ended_by != "answered":
                failed += 1
            stamps.append(time.perf_counter())

    async with SipTrunkClient(config) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    skip = calls // 20
    return {"rate": (calls - 1 - skip) / (stamps[-1] - stamps[skip]), "failed": failed}


def run_engine(port: int, calls: int, concurrency: int, workdir: Path) -> dict[str, float]:
    """Run `engine` in a process of its own (as SIPp runs in its own)."""
    result = workdir / "engine.json"
    cpu_before = children_cpu_seconds()
    with open(workdir / "engine.log", "wb") as log:
        subprocess.run(
            [
                *(sys.executable, __file__, "--engine-port", str(port), "--calls", str(calls)),
                *("--concurrency", str(concurrency), "--result", str(result)),
            ],
            stdout=log,
            stderr=log,
            check=True,
            timeout=600,
        )
    data: dict[str, float] = json.loads(result.read_text())
    data["cpu_seconds"] = children_cpu_seconds() - cpu_before
    return data


async def topic_rate(
    sim_port: int, calls: int, workdir: Path
) -> tuple[float, int, dict[str, float]]:
    """The whole prober process fed from its request topic; (calls/s, lanes, the cores
    the prober and the broker used from the first call's signalling to the last)."""
    from aiokafka import AIOKafkaConsumer

    from lc_common.events import PROBE_SIGNALLING
    from lc_common.lanes import lane_count
    from lc_common.settings import ServiceSettings
    from lc_common.trunks import Trunk
    from lc_localstack.peers import free_port, start_broker

    trunk = Trunk(name="bench", host="127.0.0.1", port=sim_port, channels=200, cps=5000)
    (workdir / "trunks.yaml").write_text(
        f"- {{name: bench, host: 127.0.0.1, port: {sim_port}, channels: 200, cps: 5000}}\n"
    )
    broker = start_broker(log_path=workdir / "broker.log")
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    settings = ServiceSettings(kafka_bootstrap_servers=broker.address, topic_prefix=prefix)
    env = clean_env()
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=broker.address,
        LC_TOPIC_PREFIX=prefix,
        LC_HTTP_PORT=str(free_port()),
        LC_TRUNKS_FILE=str(workdir / "trunks.yaml"),
        LC_SIP_BIND_HOST="127.0.0.1",
        LC_RING_SECONDS="10",
        LC_LOG_LEVEL="INFO",
    )
    log = open(workdir / "prober.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(BIN / "lc-prober")], env=env, stdout=log, stderr=log)
    consumer = AIOKafkaConsumer(
        prefix + PROBE_SIGNALLING.name,
        bootstrap_servers=broker.address,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await asyncio.sleep(3)  # the prober creates its topics and joins its group
        await publish_probe_backlog(settings, calls)
        await consumer.start()
        meter = CpuMeter({"lc-prober": proc.pid, "broker": broker.process.pid})
        stamps: list[int] = []
        async with asyncio.timeout(600):
            while len(stamps) < calls:
                if proc.poll() is not None:
                    raise RuntimeError(f"lc-prober exited; see {workdir / 'prober.log'}")
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                if batches and not stamps:
                    meter.restart()
                for records in batches.values():
                    stamps.extend(r.timestamp for r in records)
        cores = meter.cores()
        stamps.sort()
        skip = calls // 20
        rate = (calls - 1 - skip) / ((stamps[-1] - stamps[skip]) / 1000)
        return rate, lane_count(trunk), cores
    finally:
        await consumer.stop()
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        broker.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--no-topic", action="store_true")
    parser.add_argument("--engine-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_port:  # the child process of run_engine
        result = await engine(args.engine_port, args.calls, args.concurrency)
        args.result.write_text(json.dumps(result))
        return
    workdir = Path(tempfile.mkdtemp(prefix="lc-bench-call-rate-"))
    print(f"{args.calls} calls per run, {args.concurrency} in flight, answered at once")
    print("  (CPU per call: of the caller's process over its whole run, start-up included)")
    with simulator(RULES, workdir) as port:
        cpu_before = children_cpu_seconds()
        sipp_rate, sipp_failed = sipp_uac_rate(port, args.calls, args.concurrency, workdir)
        sipp_us = (children_cpu_seconds() - cpu_before) / args.calls * 1e6
        print(
            f"  SIPp uac           : {sipp_rate:8.0f} calls/s ({sipp_failed} failed); "
            f"CPU per call {sipp_us:.0f} us"
        )
        result = run_engine(port, args.calls, args.concurrency, workdir)
        rate, failed = result["rate"], result["failed"]
        engine_us = result["cpu_seconds"] / args.calls * 1e6
        print(
            f"  prober call engine : {rate:8.0f} calls/s ({failed:.0f} failed); "
            f"CPU per call {engine_us:.0f} us"
        )
        ratio = rate / sipp_rate
        verdict = "meets" if ratio >= 0.5 else "BELOW"
        print(f"  ratio engine/SIPp  : {ratio:8.2f} ({verdict} the 0.5 goal)")
        if not args.no_topic:
            whole, lanes, cores = await topic_rate(port, args.calls, workdir)
            print(
                f"  lc-prober on topic : {whole:8.0f} calls/s (200 channels, {lanes} lanes); "
                f"CPU per call {cores['lc-prober'] / whole * 1e6:.0f} us while calling; "
                f"cores: {cores_text(cores)}"
            )
            print(f"  ratio process/SIPp : {whole / sipp_rate:8.2f}")
    print(f"  logs: {workdir}")


if __name__ == "__main__":
    asyncio.run(main())
