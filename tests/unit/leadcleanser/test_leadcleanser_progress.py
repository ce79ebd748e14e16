"""`--wait`: the ETA, the state lines, and following a batch to its end."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from leadcleanser.client import ConnectionFailed, NotFound, ServerError
from leadcleanser.progress import Throughput, eta_text, follow, status_change_text


def test_the_eta_follows_the_recent_rate() -> None:
    throughput = Throughput(window=60)
    assert throughput.eta(100) is None
    throughput.add(0, 0)
    throughput.add(10, 20)
    assert throughput.rate() == 2.0
    assert throughput.eta(100) == 50.0
    assert throughput.eta(0) == 0.0


def test_old_samples_leave_the_window() -> None:
    throughput = Throughput(window=60)
    throughput.add(0, 0)
    throughput.add(10, 1000)  # a fast start
    for at in range(20, 200, 10):
        throughput.add(at, 1000 + (at - 10))  # then 1 lead a second
    assert throughput.rate() == pytest.approx(1.0)


def test_no_progress_gives_no_eta_and_a_pause_forgets_the_rate() -> None:
    throughput = Throughput()
    throughput.add(0, 5)
    throughput.add(5, 5)
    assert throughput.eta(10) is None
    throughput.add(10, 15)
    throughput.reset()
    assert throughput.rate() is None


def batch(status: str, **counters: int) -> dict[str, Any]:
    return {"id": "bat_1", "status": status, "accepted": 10, "processed": 0, **counters}


def test_the_eta_column_says_why_there_is_none() -> None:
    assert eta_text(batch("paused_no_credit"), Throughput()) == (
        "ETA: waits while paused (no credit)"
    )
    assert eta_text(batch("importing"), Throughput()) == "ETA: after the import"
    assert eta_text(batch("running", remaining=4), Throughput()) == "ETA: estimating"
    throughput = Throughput()
    throughput.add(0, 0)
    throughput.add(2, 6)
    assert eta_text(batch("running", remaining=6), throughput) == "ETA: 2s"


def test_pauses_and_failures_are_announced() -> None:
    assert "unpaused" in (status_change_text(batch("paused")) or "")
    assert "credit" in (status_change_text(batch("paused_no_credit")) or "")
    failed = batch("failed", failure_reason="no phone column 'tel'")
    assert status_change_text(failed) == "The batch failed: no phone column 'tel'"
    assert status_change_text(batch("running")) is None


class Answers:
    """A stand-in for the API client answering `batch` from a script of states or errors."""

    def __init__(self, script: list[dict[str, Any] | Exception]) -> None:
        self.script: Iterator[dict[str, Any] | Exception] = iter(script)
        self.calls = 0

    def batch(self, batch_id: str) -> dict[str, Any]:
        self.calls += 1
        answer = next(self.script)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(script: list[dict[str, Any] | Exception], patience: float = 10) -> tuple[Any, str]:
    clock = Clock()
    console = Console(file=io.StringIO(), width=200)
    result = follow(
        Answers(script),  # type: ignore[arg-type]
        "bat_1",
        console,
        interval=2,
        patience=patience,
        clock=clock,
        sleep=clock.sleep,
    )
    return result, console.file.getvalue()  # type: ignore[attr-defined]


def test_following_rides_out_pauses_and_outages_until_finished() -> None:
    final, shown = run(
        [
            batch("importing", accepted=0),
            batch("running", processed=2),
            ConnectionFailed("connection_failed", "refused"),
            batch("paused_no_credit", processed=4),
            ServerError(503, "service_unavailable", "later"),
            batch("running", processed=6),
            batch("finished", processed=10, remaining=0),
        ]
    )
    assert final["status"] == "finished"
    assert "lack of credit" in shown


def test_following_ends_on_failure() -> None:
    final, shown = run([batch("importing"), batch("failed", failure_reason="unreadable file")])
    assert final["status"] == "failed"
    assert "unreadable file" in shown


def test_following_gives_up_after_its_patience() -> None:
    down = ConnectionFailed("connection_failed", "refused")
    with pytest.raises(ConnectionFailed):
        run([batch("running"), down, down, down, down, down, down, down], patience=10)


def test_an_unknown_batch_is_not_waited_for() -> None:
    with pytest.raises(NotFound):
        run([NotFound(404, "batch_not_found", "No batch bat_1.")])
