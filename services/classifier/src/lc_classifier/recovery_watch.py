"""Ends a worker whose table recovery has stopped making progress.

Faust restores the history table from its changelog before consuming; when the
broker lost the changelog (restarted empty) the worker still waits for offsets
the new topic will never reach, and recovery hangs for good (faust-streaming
issues #74 and #432 report the same shape). No setting of Faust's bounds that
wait, so the classifier watches it: a recovery that has made no progress for
`stall_after` seconds exits the worker, and its supervisor (Kubernetes, `lc-stack
supervise`) starts a fresh one, which recovers from what the changelog holds now.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import faust
import structlog

from lc_classifier.metrics import RECOVERY_STALLS

log = structlog.get_logger(__name__)

RECOVERY_CHECK_SECONDS = 5.0


class RecoveryStalled(RuntimeError):
    """The history table's recovery made no progress: the worker ends to start afresh."""


@dataclass
class RecoveryWatch:
    """Decides, from periodic observations, when a recovery has stalled."""

    stall_after: float
    _since: float | None = None
    _last: object = None

    def observe(self, in_recovery: bool, last_progress: object, now: float) -> bool:
        """Record one look at the recovery; True once it has stalled.

        `last_progress` marks the recovery's latest step (when it last applied a
        changelog event); a new mark restarts the clock, so a long but moving recovery
        never counts as stalled. The changes still to read are no measure: a recovery
        that rebalances again recounts them, up or down, without reading anything.
        """
        if not in_recovery:
            self._since, self._last = None, None
            return False
        if self._since is None or last_progress != self._last:
            self._since, self._last = now, last_progress
            return False
        return now - self._since >= self.stall_after


def recovery_progress(recovery: object) -> object:
    """Faust's own mark of the last changelog event its recovery applied (None before any).

    Faust (0.15) declares the attribute on the class but sets it only when a recovery
    starts, so a worker looked at before its first recovery has none yet.
    """
    return getattr(recovery, "_last_active_event_processed_at", None)


async def watch_recovery(
    app: faust.App, watch: RecoveryWatch, check_every: float = RECOVERY_CHECK_SECONDS
) -> None:
    """Crash the worker of `app` when its table recovery stalls (as `watch` decides).

    Run on the worker's loop beside the app, not as a Faust timer: Faust starts
    its timers once the app has started, which a first recovery that hangs
    never lets it finish. A watchdog that fails crashes the worker too: a worker
    left unwatched could hang for good without a sign.
    """
    try:
        while True:
            await asyncio.sleep(check_every)
            recovery = getattr(app.tables, "recovery", None)
            if recovery is None:
                continue
            progress = recovery_progress(recovery)
            if watch.observe(app.in_recovery, progress, time.monotonic()):
                remaining = recovery.active_remaining_total()
                RECOVERY_STALLS.inc()
                log.error("recovery_stalled", remaining=remaining, stall_after=watch.stall_after)
                await app.crash(RecoveryStalled(f"no progress with {remaining} changes remaining"))
                return
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("recovery_watch_failed")
        await app.crash(exc)
