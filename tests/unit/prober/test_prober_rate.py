"""The lane start window: never more than `starts` calls in any window, with a plain clock."""

from __future__ import annotations

import pytest

from lc_prober.domain.rate import StartWindow


def test_starts_up_to_the_budget_then_waits_for_the_oldest_to_leave() -> None:
    window = StartWindow(3, 1.0)
    for now in (0.0, 0.1, 0.2):
        assert window.delay(now) == 0
        window.take(now)
    assert window.delay(0.3) == pytest.approx(0.7)
    assert window.delay(0.999) == pytest.approx(0.001)
    assert window.delay(1.0) == 0  # the start at 0.0 is a full window old


def test_no_one_second_window_ever_holds_more_than_the_budget() -> None:
    window = StartWindow(5, 1.0)
    starts: list[float] = []
    now = 0.0
    while now < 10:
        wait = window.delay(now)
        if wait == 0:
            window.take(now)
            starts.append(now)
            now += 0.01
        else:
            now += wait
    assert len(starts) >= 45
    for i, t in enumerate(starts):
        assert sum(1 for u in starts[i:] if u < t + 1.0) <= 5


def test_a_slow_lane_spaces_single_starts() -> None:
    window = StartWindow(1, 2.0)
    window.take(0.0)
    assert window.delay(1.0) == pytest.approx(1.0)
    assert window.delay(2.0) == 0


async def test_acquire_waits_on_the_clock() -> None:
    clock = [0.0]
    window = StartWindow(1, 0.05, clock=lambda: clock[0])
    await window.acquire()
    clock[0] = 0.05
    await window.acquire()  # returns at once: the window has moved
    assert window.delay(0.05) == pytest.approx(0.05)


def test_invalid_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        StartWindow(0, 1.0)
