"""SIGUSR1 logs where each asyncio task waits."""

from __future__ import annotations

import asyncio
import os
import signal

import structlog.testing
from tests.support import until

from lc_common.diagnostics import install_dump_signals, task_stacks


async def _waits_for(event: asyncio.Event) -> None:
    await event.wait()


async def test_task_stacks_name_each_task_and_where_it_waits() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_waits_for(event), name="waiter")
    await asyncio.sleep(0)
    stacks = task_stacks()
    event.set()
    await task
    assert "_waits_for" in stacks["waiter"]


async def test_sigusr1_logs_the_tasks() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_waits_for(event), name="stuck-consumer")
    install_dump_signals()
    loop = asyncio.get_running_loop()
    try:
        with structlog.testing.capture_logs() as logs:
            os.kill(os.getpid(), signal.SIGUSR1)
            await until(lambda: bool(logs), 5, "the task dump")
        dump = next(entry for entry in logs if entry["event"] == "asyncio_tasks")
        assert "stuck-consumer" in dump["tasks"]
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
        event.set()
        await task
