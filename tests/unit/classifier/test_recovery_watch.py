"""The recovery watchdog: stalled only after `stall_after` seconds without progress."""

import faust

from lc_classifier.recovery_watch import RecoveryWatch, recovery_progress


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


def test_a_recovery_that_has_not_started_has_no_progress_yet() -> None:
    # Faust sets its progress mark only when a recovery starts; the watchdog looks
    # earlier (it died on the missing attribute and left a stalled worker unwatched).
    app = faust.App("recovery-watch-test", broker="kafka://127.0.0.1:1")
    assert recovery_progress(app.tables.recovery) is None
    app.tables.recovery._last_active_event_processed_at = 12.5
    assert recovery_progress(app.tables.recovery) == 12.5
