"""Fault tooling: the peers a fault run owns, and the faults it injects.

Each fault run starts its own broker (Tansu, memory) and store (nx-27017, a
SQLite folder) on free ports, so it can lose the broker's data or restart the
store without touching the session's peers that other tests use. Services are
killed, stopped and restarted through `tests.e2e.stack.Stack`.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from lc_localstack.peers import broker_command, free_port, store_command, wait_for_port
from tests.e2e.stack import Stack

UNDECODABLE = b"\x00\xffnot json"
# Well-formed JSON that no event model accepts (no ids, impossible values).
INVALID_EVENT = {"schema_version": 1, "event_id": "poison", "lead_id": "not a lead", "attempt": -1}


@dataclass
class OwnPeers:
    """A broker and a store on fixed ports for one run, restartable in place."""

    workdir: Path
    broker_port: int
    store_port: int
    broker: subprocess.Popen[bytes] | None = None
    store: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, workdir: Path) -> OwnPeers:
        peers = cls(workdir, free_port(), free_port())
        peers.start_broker()
        peers.start_store()
        return peers

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    @property
    def env(self) -> dict[str, str]:
        """What the services need to reach these peers (one database and no topic prefix)."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "MONGODB_URI": f"mongodb://127.0.0.1:{self.store_port}",
            "LC_ENVIRONMENT": "test",
            "LC_TOPIC_PREFIX": "",
            "LC_MONGODB_DATABASE": "faults",
        }

    def start_broker(self) -> None:
        log = (self.workdir / "tansu.log").open("ab")
        self.broker = subprocess.Popen(
            broker_command(self.broker_port), stdout=log, stderr=subprocess.STDOUT
        )
        wait_for_port("127.0.0.1", self.broker_port)

    def start_store(self) -> None:
        self.store = subprocess.Popen(
            store_command(self.store_port, self.workdir / "store"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for_port("127.0.0.1", self.store_port)

    def lose_broker(self) -> None:
        """kill -9 the broker and start it empty (memory storage) on the same port."""
        assert self.broker is not None
        self.broker.kill()
        self.broker.wait()
        self.start_broker()

    async def restart_store(self, down_for: float) -> None:
        """Stop the store, keep it down `down_for` seconds, start it on the same files."""
        assert self.store is not None
        self.store.terminate()
        self.store.wait(timeout=30)
        await asyncio.sleep(down_for)
        self.start_store()

    def stop(self) -> None:
        for proc in (self.broker, self.store):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


async def kill_and_restart(stack: Stack, name: str, pause: float = 2.0) -> None:
    """kill -9 a process, wait `pause` seconds, start it again (what a supervisor does)."""
    stack.kill(name)
    await asyncio.sleep(pause)
    await asyncio.to_thread(stack.restart, name)


async def stop_for(stack: Stack, name: str, seconds: float) -> None:
    """SIGSTOP a process for `seconds`, then SIGCONT it."""
    stack.signal(name, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        stack.signal(name, signal.SIGCONT)


async def hang_smtp(stack: Stack, seconds: float) -> None:
    """Replace the mailbox by a server that accepts connections and never answers, for a while."""
    port = stack.ports["smtp"]
    stack.kill("mailbox")
    held: list[asyncio.StreamWriter] = []

    async def mute(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(mute, "127.0.0.1", port, reuse_address=True)
    try:
        await asyncio.sleep(seconds)
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()
    stack.restart("mailbox", ready=False)
    await asyncio.to_thread(wait_for_port, "127.0.0.1", port)


async def carrier_command(stack: Stack, command: str) -> dict[str, Any]:
    """Ask the controlled carrier simulator (`tests/faults/carrier.py`) one thing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", stack.ports["carrier-control"])
    try:
        writer.write(command.encode() + b"\n")
        await writer.drain()
        answer: dict[str, Any] = json.loads(await reader.readline())
        return answer
    finally:
        writer.close()


async def _records(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic from its start to its end as of now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        # Fresh metadata: a consumer that never subscribed may know only some partitions.
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        found: list[Any] = []
        async with asyncio.timeout(60):
            while True:
                positions = [await consumer.position(tp) for tp in tps]
                if all(at >= ends[tp] for at, tp in zip(positions, tps, strict=True)):
                    break
                for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                    found.extend(r for r in records if r.offset < ends[tp])
        return found
    finally:
        await consumer.stop()


async def replay(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Publish again every record of each topic, as it was (key, value, headers)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    replayed = {}
    try:
        for topic in topics:
            records = await _records(bootstrap, topic)
            for r in records:
                await producer.send(
                    topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers)
                )
            await producer.flush()
            replayed[topic] = len(records)
    finally:
        await producer.stop()
    return replayed


async def poison(bootstrap: str, topics: list[str]) -> None:
    """Send an undecodable message and an impossible event to each topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic in topics:
            await producer.send_and_wait(topic, UNDECODABLE, key=b"garbage")
            await producer.send_and_wait(topic, json.dumps(INVALID_EVENT).encode(), key=b"poison")
    finally:
        await producer.stop()


async def count_records(bootstrap: str, topics: list[str], within: float = 30.0) -> dict[str, int]:
    """How many records each topic holds now (a `.dlq` twin: how many were parked).

    Read by one consumer subscribed to them all under a group of its own, from the
    earliest offset, as the services' own dead-letter tests do (the group's
    assignment names every partition, whatever metadata this client had), until
    nothing new arrives for 3 s after the assignment.
    """
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"faults-count-{new_tag()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    counts = dict.fromkeys(topics, 0)
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + within
        quiet_since: float | None = None
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                counts[tp.topic] += len(records)
            if batch or not consumer.assignment():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= 3:
                break
    finally:
        await consumer.stop()
    return counts


def new_tag() -> str:
    return uuid.uuid4().hex[:8]
