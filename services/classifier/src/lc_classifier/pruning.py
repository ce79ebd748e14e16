"""The history table's sweep: drop what outlived the retention period, here and in the changelog."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import structlog
from aiokafka.partitioner import murmur2

from lc_classifier import metrics
from lc_classifier.pipeline import table_key
from lc_classifier.retention import expired
from lc_common.clock import Clock

log = structlog.get_logger(__name__)

_CHUNK = 1000


def default_partition(partitions: int) -> Any:
    """The producers' default partitioner (Kafka's murmur2) for lead ids."""

    def partition_of(lead_id: str) -> int:
        return int((murmur2(lead_id.encode()) & 0x7FFFFFFF) % partitions)

    return partition_of


class HistoryPruner:
    """Sweeps this worker's active partitions of the history table.

    Each expired entry gets a tombstone on the table's changelog (so recovery
    does not bring it back) and leaves the store. The sweep yields to the event
    loop between chunks, so the stream keeps flowing while a large table is read.
    """

    def __init__(
        self,
        *,
        producer: Any,
        changelog: str,
        clock: Clock,
        keep: timedelta,
        partitions: int,
    ) -> None:
        self.producer = producer
        self.changelog = changelog
        self.clock = clock
        self.keep = keep
        self.partition_of = default_partition(partitions)

    async def sweep(self, store: MutableMapping[str, Any], active: set[int]) -> int:
        """Prune the expired entries of `active` partitions from `store`; how many went."""
        entries = list(store.items())
        metrics.HISTORIES_HELD.set(len(entries))
        pruned = 0
        for start in range(0, len(entries), _CHUNK):
            chunk = entries[start : start + _CHUNK]
            values = dict(chunk)
            found = expired(
                chunk,
                now=self.clock.now(),
                keep=self.keep,
                partitions=active,
                partition_of=self.partition_of,
            )
            for entry in found:
                # Written again since the snapshot (a new call of the lead): keep it.
                if store.get(entry.lead_id) is not values[entry.lead_id]:
                    continue
                del store[entry.lead_id]
                await self.producer.send(
                    self.changelog, table_key(entry.lead_id), None, entry.partition, None, None
                )
                pruned += 1
            await asyncio.sleep(0)
        if pruned:
            metrics.HISTORIES_PRUNED.inc(pruned)
            metrics.HISTORIES_HELD.set(len(entries) - pruned)
            log.info("histories_pruned", count=pruned, held=len(entries) - pruned)
        return pruned
