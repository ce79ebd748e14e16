"""`commit_within`: a commit that never completes (aiokafka retrying a retriable error
without end) becomes `CommitStuck` instead of hanging the consumer."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from lc_common.consuming.offsets import CommitStuck, commit_within

TP = TopicPartition("probe.requests.sim", 5)


class Committer:
    """Stands in for the consumer's `commit` alone: this is the wrapper's logic."""

    def __init__(self, hangs: bool) -> None:
        self.hangs = hangs
        self.committed: dict[TopicPartition, Any] = {}

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.hangs:
            await asyncio.Event().wait()
        self.committed.update(offsets)


async def test_a_commit_that_never_ends_is_stuck() -> None:
    with pytest.raises(CommitStuck):
        await commit_within(cast(AIOKafkaConsumer, Committer(hangs=True)), {TP: 7}, 0.05)


async def test_a_commit_that_ends_is_made_with_the_offsets() -> None:
    committer = Committer(hangs=False)
    await commit_within(cast(AIOKafkaConsumer, committer), {TP: 7}, 1.0)
    assert committer.committed[TP].offset == 7
