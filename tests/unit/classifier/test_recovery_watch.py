"""The recovery watchdog: stalled only after `stall_after` seconds without progress."""

from lc_classifier.recovery_watch import RecoveryWatch


def test_a_recovery_without_progress_stalls_after_the_limit() -> None:
    watch = RecoveryWatch(stall_after=30)
    assert not watch.observe(True, 120, now=0)
    assert not watch.observe(True, 120, now=29)
    assert watch.observe(True, 120, now=30)


def test_progress_restarts_the_clock() -> None:
    watch = RecoveryWatch(stall_after=30)
    watch.observe(True, 120, now=0)
    assert not watch.observe(True, 100, now=25)
    assert not watch.observe(True, 100, now=50)
    assert watch.observe(True, 100, now=55)


def test_no_recovery_never_stalls_and_forgets_the_last_one() -> None:
    watch = RecoveryWatch(stall_after=30)
    watch.observe(True, 5, now=0)
    assert not watch.observe(False, 0, now=100)
    assert not watch.observe(True, 5, now=101)
    assert not watch.observe(True, 5, now=130)
    assert watch.observe(True, 5, now=131)
