"""Transactional outbox: events written with the state they announce, relayed until delivered.

A service that changes a document and must announce it writes the event into that
document's `outbox` array in the same single-document write (`outbox_entry`, with
`$push`). An `OutboxRelay` then publishes every entry it finds and `$pull`s it by
its exact value (which holds the event id), retrying until the broker takes it. A
crash between the write and the publish only delays the event; a crash between the
publish and the pull publishes it again, which is harmless because every consumer is
idempotent (docs/invariants.md I7).

The relay wakes when told (`wake()`, right after a write) and also scans every
`scan_interval` seconds, which is what delivers events written by a process that
died before it could relay them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection

from lc_common.events.base import Event
from lc_common.events.registry import Topic
from lc_common.kafka import Publisher
from lc_common.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_RELAYED

log = structlog.get_logger(__name__)

OUTBOX_FIELD = "outbox"


def outbox_entry(event: Event, key: str) -> str:
    """The stored form of an event waiting in a document's `outbox`: its id, key and JSON.

    A string, not a sub-document: the relay pulls it by its exact value, and
    nx-27017 (the local store) turns sub-documents pushed into an array into text.
    """
    return json.dumps(
        {"event_id": str(event.event_id), "key": key, "event": event.model_dump(mode="json")}
    )


def outbox_event_id(entry: str) -> str:
    """The event id of a stored outbox entry."""
    return str(json.loads(entry)["event_id"])


# Documents with a non-empty outbox; `$expr` because `outbox.0` is not understood by
# every MongoDB-wire server this runs on.
_PENDING = {"$expr": {"$gt": [{"$size": {"$ifNull": [f"${OUTBOX_FIELD}", []]}}, 0]}}


class OutboxRelay:
    """Publishes the `outbox` entries of one collection's documents to one topic, then pulls them.

    Entries of one document are published in the order they were pushed; an entry
    is pulled only after the broker acknowledged it. Several relays (replicas) may
    run over the same collection: at worst an event is published twice.
    """

    def __init__(
        self,
        collection: AsyncCollection[Any],
        publisher: Publisher,
        topic: Topic,
        *,
        scan_interval: float = 5.0,
        retry_delay: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self._collection = collection
        self._publisher = publisher
        self._topic = topic
        self._scan_interval = scan_interval
        self._retry_delay = retry_delay
        self._batch_size = batch_size
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Ask for a relay pass now (after a write that pushed an event)."""
        self._woken.set()

    async def relay_once(self) -> int:
        """Publish and pull every pending entry found in one scan; how many were relayed.

        Raises what the broker or the store raised; the entries left stay for the next pass.
        """
        relayed = 0
        cursor = self._collection.find(_PENDING, {OUTBOX_FIELD: 1}).limit(self._batch_size)
        async for doc in cursor:
            for entry in doc.get(OUTBOX_FIELD) or []:
                stored = json.loads(entry)
                event = self._topic.model.model_validate(stored["event"])
                await self._publisher.publish(self._topic, event, key=stored["key"])
                await self._collection.update_one(
                    {"_id": doc["_id"]}, {"$pull": {OUTBOX_FIELD: entry}}
                )
                OUTBOX_RELAYED.labels(self._topic.name).inc()
                log.info(
                    "outbox_event_relayed", topic=self._topic.name, event_id=stored["event_id"]
                )
                relayed += 1
        return relayed

    async def run(self) -> None:
        """Relay forever: on every wake-up and every `scan_interval`; failures are retried."""
        while True:
            self._woken.clear()
            try:
                await self.relay_once()
            except Exception as exc:  # broker or store down: retried, never dropped
                OUTBOX_PUBLISH_FAILURES.labels(self._topic.name).inc()
                log.warning("outbox_relay_failed", topic=self._topic.name, error=repr(exc))
                await asyncio.sleep(self._retry_delay)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=self._scan_interval)
