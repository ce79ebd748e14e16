"""What a stuck process is doing, on request: `kill -USR1 <pid>` logs every asyncio task's stack.

A service that stops making progress without crashing (a consumer waiting on a broker
that came back empty, a lock never released) shows nothing in its logs; its tasks'
stacks say where each one waits. Operators send SIGUSR1 (`kubectl exec ... kill -USR1 1`);
the dump is one `asyncio_tasks` log event. SIGUSR2 dumps the threads' Python stacks
to stderr (`faulthandler`), for a loop that is itself blocked.
"""

from __future__ import annotations

import asyncio
import faulthandler
import io
import signal

import structlog

log = structlog.get_logger(__name__)

STACK_LIMIT = 12


def task_stacks(limit: int = STACK_LIMIT) -> dict[str, str]:
    """Each running task of this loop, by name: where it waits (innermost `limit` frames)."""
    stacks = {}
    for task in asyncio.all_tasks():
        buffer = io.StringIO()
        task.print_stack(limit=limit, file=buffer)
        stacks[task.get_name()] = buffer.getvalue()
    return stacks


def log_task_stacks() -> None:
    """Log every task's stack as one `asyncio_tasks` event."""
    stacks = task_stacks()
    log.warning("asyncio_tasks", count=len(stacks), tasks=stacks)


def install_dump_signals() -> None:
    """SIGUSR1 → `log_task_stacks` on the running loop; SIGUSR2 → thread stacks on stderr."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, log_task_stacks)
    faulthandler.register(signal.SIGUSR2, all_threads=True)
