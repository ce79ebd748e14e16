"""The fault suite's checker can fail: each check on plain values, held and broken."""

from __future__ import annotations

import pytest
from tests.faults.checker import (
    Report,
    Verdict,
    chargeable_final,
    check_calls_within,
    check_charges,
    check_counters,
    check_dead_letters,
    check_download_final,
    check_final_once,
    check_mails,
    check_no_calls,
    check_terminal,
    per_number,
)


def verdict(lead: str, status: str, final: bool, attempt: int = 1, eid: str = "") -> Verdict:
    return Verdict(eid or f"{lead}-{attempt}-{status}", lead, status, final, attempt)


def test_calls_within_dispatches() -> None:
    assert check_calls_within({"+61412345670": 2}, {"+61412345670": 2}, "dispatches") == []
    broken = check_calls_within({"+61412345670": 3, "+61412345671": 1}, {"+61412345670": 2}, "d")
    assert broken == [
        "+61412345670: 3 calls at the carrier > 2 d",
        "+61412345671: 1 calls at the carrier > 0 d",
    ]


def test_no_calls_without_credit() -> None:
    assert check_no_calls({"+61412345670": 0}, ["+61412345670"]) == []
    assert check_no_calls({"+61412345670": 1}, ["+61412345670"]) != []


def test_final_exactly_once() -> None:
    fine = [verdict("b:1", "retry", False), verdict("b:1", "connected", True, 2)]
    assert check_final_once(["b:1"], fine) == []
    # The same final status re-emitted is allowed.
    again = [*fine, verdict("b:1", "connected", True, 2, eid="re-emit")]
    assert check_final_once(["b:1"], again) == []
    assert check_final_once(["b:1", "b:2"], fine) == ["b:2: no final verdict"]
    twice = [*fine, verdict("b:1", "disconnected", True, 3)]
    assert check_final_once(["b:1"], twice) == [
        "b:1: final verdicts disagree ['connected', 'disconnected']"
    ]
    judged_after = [*fine, verdict("b:1", "retry", False, 3)]
    assert check_final_once(["b:1"], judged_after) == ["b:1: attempt 3 judged after final 2"]


def test_download_rows_final() -> None:
    rows = [{"cleanse_status": "rejected"}, {"cleanse_status": "connected"}]
    assert check_download_final(rows) == []
    assert check_download_final([{"cleanse_status": "pending", "cleanse_e164": "+1"}]) == [
        "row 1 (+1): status 'pending'"
    ]


COUNTERS = {
    "id": "b",
    "imported": 16,
    "accepted": 10,
    "rejected": 6,
    "processed": 4,
    "remaining": 6,
    "connected": 2,
    "disconnected": 1,
    "indeterminate": 1,
    "retry": 0,
}


def test_counters_exact() -> None:
    assert check_counters([COUNTERS]) == []


@pytest.mark.parametrize(
    "change",
    [
        {"remaining": 5},
        {"imported": 9},
        {"rejected": 7},
        {"connected": 3},
        {"retry": -1},
    ],
)
def test_counters_broken(change: dict[str, int]) -> None:
    assert check_counters([{**COUNTERS, **change}]) != []


def test_terminal() -> None:
    assert check_terminal({"id": "b", "status": "finished", "remaining": 0}, "finished") == []
    assert check_terminal({"id": "b", "status": "running", "remaining": 3}, "finished") == [
        "b: status 'running', expected 'finished'",
        "b: finished with remaining 3",
    ]
    assert check_terminal({"id": "b", "status": "failed"}, "failed") == [
        "b: failed without a reason"
    ]


def test_charges() -> None:
    assert check_charges(10, 10, [1000, 995, 990], 1000) == []
    assert check_charges(11, 10, [1000, 989], 1000) == [
        "charged 11 units for 10 chargeable final leads"
    ]
    assert check_charges(0, 0, [0, -1, 0], 0) == ["balance below zero at 1 polls (lowest -1)"]
    assert check_charges(10, 10, [1000, 991], 1000) == [
        "final balance 991 != granted 1000 - charged 10"
    ]


def test_mails_exactly_once() -> None:
    assert check_mails(["Batch finished: A", "x"], {"Batch finished: A": 1}) == []
    assert check_mails(["Batch finished: A"] * 2, {"Batch finished: A": 1}) != []
    assert check_mails([], {"Batch finished: A": 1}) != []


def test_dead_letters() -> None:
    assert check_dead_letters({"lead.verdicts": 2}, {"lead.verdicts": 2}) == []
    assert check_dead_letters({}, {"lead.verdicts": 2}) == [
        "lead.verdicts: 0 parked, expected at least 2"
    ]


def test_per_number_and_report() -> None:
    assert per_number({"a:1": 2, "b:1": 1, "c:1": 5}, {"a:1": "+1", "b:1": "+1"}) == {"+1": 3}
    report = Report()
    report.add("I2", [])
    report.assert_held()
    report.add("I2", ["+1: 2 calls"])
    with pytest.raises(AssertionError, match="I2: \\+1: 2 calls"):
        report.assert_held()


def test_chargeable_final_counts_each_lead_once_by_its_last_final_verdict() -> None:
    verdicts = [
        Verdict("e1", "b1:1", "connected", True, 1, chargeable=True),
        Verdict("e2", "b1:1", "connected", True, 1, chargeable=True),  # re-emitted
        Verdict("e3", "b1:2", "indeterminate", False, 1, chargeable=False),
        Verdict("e4", "b1:2", "indeterminate", True, 2, chargeable=False),  # trunk faults only
        Verdict("e5", "b1:3", "disconnected", True, 2, chargeable=True),
        Verdict("e6", "b2:1", "connected", True, 1, chargeable=True),  # another batch
    ]
    assert chargeable_final(verdicts, ["b1:1", "b1:2", "b1:3", "b1:4"]) == 2
