"""Peers the prober benchmarks start and stop themselves: the simulator, SIPp, a prober."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

BIN = Path(sys.executable).parent


def free_udp_port() -> int:
    """A UDP (and TCP) port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return int(udp.getsockname()[1])


def _answers_options(port: int) -> bool:
    request = (
        f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbenchping\r\n"
        "From: <sip:bench@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\n"
        "Call-ID: bench-ping\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(request, ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@contextlib.contextmanager
def simulator(rules: dict[str, Any], workdir: Path) -> Iterator[int]:
    """Run `lc-carrier-sim` (UDP) with these rules in its own process; yield its port."""
    rules_file = workdir / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rules))
    port = free_udp_port()
    log = open(workdir / "sim.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            *(str(BIN / "lc-carrier-sim"), "--port", str(port), "--transport", "udp"),
            *("--rules", str(rules_file), "--log-level", "WARNING", "--seed", "1"),
        ],
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while not _answers_options(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start; see {workdir / 'sim.log'}")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def sipp_uac_rate(port: int, calls: int, concurrency: int, workdir: Path) -> tuple[float, int]:
    """SIPp's built-in UAC (INVITE, 200, ACK, BYE) against 127.0.0.1:port, at most
    `concurrency` calls at once and as fast as it can; (calls/s, failed calls)."""
    if shutil.which("sipp") is None:
        raise RuntimeError("SIPp is not installed (make system-deps)")
    command = ["sipp", "-sn", "uac", f"127.0.0.1:{port}", "-s", "61400000000"]
    command += ["-i", "127.0.0.1", "-p", str(free_udp_port()), "-l", str(concurrency)]
    command += ["-r", "100000", "-m", str(calls), "-nostdin", "-timeout", "300s"]
    command += ["-trace_stat", "-stf", "stats.csv", "-fd", "1000"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    failed = 0
    stats = workdir / "stats.csv"
    if stats.exists():
        rows = stats.read_text().splitlines()
        header, last = rows[0].split(";"), rows[-1].split(";")
        failed = int(last[header.index("FailedCall(C)")])
    elif done.returncode != 0:
        raise RuntimeError(f"sipp failed: {done.stderr.decode()[-500:]}")
    return calls / elapsed, failed


def clean_env() -> dict[str, str]:
    """This process's environment without LC_ settings (each run sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LC_")}


async def publish_probe_backlog(settings: Any, numbers: int, trunk: str = "bench") -> None:
    """Publish `numbers` probe requests for `trunk` at once: the prober's backlog."""
    from lc_common.events import ProbeRequestV1
    from lc_common.kafka import Publisher

    publisher = Publisher(settings)
    await publisher.start()
    try:
        requests = [
            ProbeRequestV1(
                account_id="acc",
                batch_id="bat",
                lead_id=f"bat:{i:07d}",
                probe_id=f"prb_{i}",
                e164=f"+614{i:08d}",
                attempt=1,
                trunk=trunk,
            )
            for i in range(numbers)
        ]
        await publisher.publish_many(f"probe.requests.{trunk}", [(r.lead_id, r) for r in requests])
    finally:
        await publisher.stop()
