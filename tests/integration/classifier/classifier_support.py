"""Helpers of the classifier's integration tests: the process, a publisher, a collector."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lc_localstack.peers import free_port

BIN = Path(sys.executable).parent


class ClassifierProcess:
    """`lc-classifier` run as the supervisor would run it, with the test's environment."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.runs = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"classifier-{self.runs}.log"

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until /readyz answers 200 (partitions assigned, tables recovered)."""
        self.runs += 1
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
        env.update(self.env)
        env.update(
            LC_HTTP_PORT=str(self.port),
            LC_CLASSIFIER_DATA_DIR=str(self.workdir / f"data-{self.runs}"),
            PYTHONUNBUFFERED="1",
        )
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed by the child's exit
        self.proc = subprocess.Popen(
            [str(BIN / "lc-classifier")], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lc-classifier exited {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"lc-classifier not ready after {timeout}s:\n{self.log()}")

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` s for the process to end by itself; its exit code, else None."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """SIGTERM, then wait; the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            return await client.get(path)

    async def metric(self, name: str, **labels: str) -> float:
        """One sample of the running process's /metrics (0 when absent)."""
        text = (await self.get("/metrics")).text
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            metric, _, rest = series.partition("{")
            if metric != name:
                continue
            got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
            if got == want:
                return float(value)
        return 0.0


@dataclass
class Received:
    """A message taken from one of the classifier's output topics."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)


class Topics:
    """Publishes to the test's input topic and collects the classifier's outputs."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        self.consumer = AIOKafkaConsumer(
            *(prefix + t for t in ("lead.verdicts", "probe.retries", "probe.signalling.dlq")),
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.received: list[Received] = []

    async def __aenter__(self) -> Topics:
        await self.producer.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def publish(self, value: bytes, key: bytes | None) -> None:
        await self.producer.send_and_wait(self.prefix + "probe.signalling", value, key=key)

    def of(self, topic: str) -> list[Received]:
        return [r for r in self.received if r.topic == topic]

    async def wait_for(
        self, condition: Callable[[Topics], Any], within: float = 30.0, what: str = ""
    ) -> None:
        """Collect until `condition(self)` is true; fail after `within` seconds."""
        deadline = asyncio.get_running_loop().time() + within
        while not condition(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}: {self.received}")
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    self.received.append(
                        Received(
                            r.topic.removeprefix(self.prefix),
                            r.key,
                            r.value,
                            {k: bytes(v) for k, v in r.headers},
                        )
                    )
