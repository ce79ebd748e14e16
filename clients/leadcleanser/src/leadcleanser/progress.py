"""`--wait`: follow a batch until it is Finished or Failed, with a live progress bar.

The bar shows processed of accepted, the verdicts so far and an ETA from the
recent rate; a paused batch keeps being followed, its state shown, since it
resumes by itself (unpaused, or credit bought).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from leadcleanser.client import Client, ConnectionFailed, ServerError
from leadcleanser.output import format_duration, status_label

# Statuses a batch never leaves (but for Deleted, after the retention).
FINISHED = "finished"
ENDED = frozenset({"finished", "failed", "deleted"})
PAUSED = frozenset({"paused", "paused_no_credit"})
POLL_SECONDS = 1.5
# How long the API may stay unreachable while waiting before giving up.
PATIENCE_SECONDS = 120.0
# The ETA follows the rate over this much recent time, so it tracks a batch's pace.
RATE_WINDOW_SECONDS = 300.0


@dataclass
class Throughput:
    """Leads processed per second over a recent window, and what it says of the end."""

    window: float = RATE_WINDOW_SECONDS
    samples: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, at: float, processed: int) -> None:
        """Record `processed` leads seen at monotonic time `at`."""
        self.samples.append((at, processed))
        while len(self.samples) > 2 and at - self.samples[1][0] >= self.window:
            self.samples.popleft()

    def reset(self) -> None:
        """Forget the rate (after a pause, the old pace says nothing)."""
        self.samples.clear()

    def rate(self) -> float | None:
        """Leads per second over the window; None until two samples span some time."""
        if len(self.samples) < 2:
            return None
        (start, first), (end, last) = self.samples[0], self.samples[-1]
        if end <= start:
            return None
        return max(last - first, 0) / (end - start)

    def eta(self, remaining: int) -> float | None:
        """Seconds until `remaining` more leads are processed at the recent rate, or None."""
        if remaining <= 0:
            return 0.0
        rate = self.rate()
        if not rate:
            return None
        return remaining / rate


def eta_text(batch: dict[str, Any], throughput: Throughput) -> str:
    """What the ETA column shows for this state of the batch."""
    status = batch.get("status", "")
    if status in PAUSED:
        return "ETA: waits while " + status_label(status)
    if status == "importing":
        return "ETA: after the import"
    eta = throughput.eta(int(batch.get("remaining", 0)))
    return "ETA: " + (format_duration(eta) if eta is not None else "estimating")


def verdicts_text(batch: dict[str, Any]) -> str:
    """The verdict counters in one line: connected, disconnected, indeterminate, retry."""
    return (
        f"[green]{batch.get('connected', 0)} connected[/] · "
        f"[red]{batch.get('disconnected', 0)} disconnected[/] · "
        f"[yellow]{batch.get('indeterminate', 0)} indeterminate[/] · "
        f"{batch.get('retry', 0)} retry"
    )


def status_change_text(batch: dict[str, Any]) -> str | None:
    """The line printed when a waited batch enters a state the user should hear about."""
    status = batch.get("status")
    if status == "paused":
        return "The batch is paused: nothing is dialled until it is unpaused (still waiting)."
    if status == "paused_no_credit":
        return (
            "The batch is paused for lack of credit: it resumes by itself once credit is "
            "bought or granted (still waiting)."
        )
    if status == "failed":
        return f"The batch failed: {batch.get('failure_reason') or 'no reason given'}"
    if status == "deleted":
        return "The batch was deleted."
    return None


def follow(
    client: Client,
    batch_id: str,
    console: Console,
    *,
    interval: float = POLL_SECONDS,
    patience: float = PATIENCE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the batch every `interval` seconds until it ends; its last state.

    Draws the progress on `console` (stderr, so stdout stays the command's
    answer). Network failures and server errors are ridden out for up to
    `patience` seconds in a row, then re-raised; any other error is raised at once.
    """
    throughput = Throughput()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[verdicts]}"),
        TextColumn("{task.fields[eta]}"),
    )
    last_status: str | None = None
    failing_since: float | None = None
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(batch_id, total=None, verdicts="", eta="")
        while True:
            try:
                batch = client.batch(batch_id)
                failing_since = None
            except (ConnectionFailed, ServerError) as exc:
                now = clock()
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since >= patience:
                    raise
                bar.update(task, eta=f"[red]retrying: {exc.message}[/]")
                sleep(interval)
                continue
            status = str(batch.get("status", ""))
            if status in PAUSED:
                throughput.reset()
            else:
                throughput.add(clock(), int(batch.get("processed", 0)))
            accepted = int(batch.get("accepted", 0))
            bar.update(
                task,
                description=f"{batch_id} [bold]{status_label(status)}[/]",
                total=accepted if accepted or status != "importing" else None,
                completed=int(batch.get("processed", 0)),
                verdicts=verdicts_text(batch),
                eta=eta_text(batch, throughput),
            )
            if status != last_status:
                note = status_change_text(batch)
                if note:
                    bar.console.print(note)
                last_status = status
            if status in ENDED:
                return batch
            sleep(interval)
