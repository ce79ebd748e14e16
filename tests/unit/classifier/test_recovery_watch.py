"""The recovery watchdog: stalled only after `stall_after` seconds without progress."""

from lc_classifier.recovery_watch import RecoveryWatch


def test_a_recovery_that_applies_nothing_stalls_after_the_limit() -> None:
    watch = RecoveryWatch(stall_after=30)
    assert not watch.observe(True, None, now=0)
    assert not watch.observe(True, None, now=29)
    assert watch.observe(True, None, now=30)


def test_each_applied_event_restarts_the_clock() -> None:
    watch = RecoveryWatch(stall_after=30)
    watch.observe(True, None, now=0)
    assert not watch.observe(True, 25.0, now=25)
    assert not watch.observe(True, 50.0, now=50)
    assert not watch.observe(True, 50.0, now=79)
    assert watch.observe(True, 50.0, now=80)


def test_no_recovery_never_stalls_and_forgets_the_last_one() -> None:
    watch = RecoveryWatch(stall_after=30)
    watch.observe(True, None, now=0)
    assert not watch.observe(False, None, now=100)
    assert not watch.observe(True, None, now=101)
    assert not watch.observe(True, None, now=130)
    assert watch.observe(True, None, now=131)
