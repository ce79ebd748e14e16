"""The library of known announcements: loading it, and what a recognised one leads to."""

from __future__ import annotations

from pathlib import Path

import pytest
from classifier_factories import (
    NEVER_HEARD,
    NOT_CONNECTED,
    heard,
    media,
    recording,
    signalling,
    wire,
)

from lc_classifier.announcements import load_library
from lc_classifier.domain import RetryPolicy, decide
from lc_classifier.rules import RuleSet, load_rules
from lc_common.clock import ManualClock

SIM_LIBRARY = Path(__file__).parents[3] / "sim" / "carrier" / "announcements"


def test_the_library_is_a_directory_of_entries(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        f"id: telco-a\ndescription: not connected\nfingerprint: {wire(recording(1))}\n"
    )
    (tmp_path / "b.json").write_text(
        f'{{"id": "telco-b", "status": "connected", "fingerprint": "{wire(recording(2))}"}}'
    )
    (tmp_path / "README.txt").write_text("ignored")
    library = load_library(tmp_path)
    assert [e.id for e in library.entries] == ["telco-a", "telco-b"]
    assert library.recognise(heard(2)) is not None
    assert library.recognise(heard(2)).id == "telco-b"  # type: ignore[union-attr]
    assert load_library(None).recognise(heard(1)) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("id: x\nfingerprint: '!!not base64!!'\n", "base64"),
        ("id: x\nstatus: maybe\nfingerprint: AAAAAAAAAAAA\n", "status"),
        ("id: 'bad id'\nfingerprint: AAAAAAAAAAAA\n", "id"),
    ],
)
def test_a_bad_entry_is_refused_at_start(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValueError, match=r"bad\.yaml(.|\n)*" + error):
        load_library(tmp_path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(f"id: same\nfingerprint: {wire(recording(1))}\n")
    with pytest.raises(ValueError, match="unique"):
        load_library(tmp_path)


def test_the_simulators_library_loads() -> None:
    library = load_library(SIM_LIBRARY)
    assert [e.id for e in library.entries] == ["carrier-sim-not-connected"]


def test_a_recognised_announcement_is_final_disconnected_and_the_evidence_names_it(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    sig = signalling(183, early=media("announcement", fingerprint=heard(NOT_CONNECTED)))
    decision = decide(None, sig, rules, policy, clock.now())
    assert decision.verdict is not None
    assert decision.verdict.final and decision.verdict.status == "disconnected"
    assert decision.verdict.chargeable
    assert decision.verdict.evidence.announcement == "telco-not-connected"
    assert decision.verdict.evidence.early_media == "announcement"
    assert decision.retry is None


def test_an_unrecognised_voice_is_retried_until_the_attempts_run_out(
    policy: RetryPolicy, clock: ManualClock
) -> None:
    rules = load_rules()  # no library: nothing is recognised
    history = None
    for attempt in range(1, policy.max_attempts + 1):
        sig = signalling(
            183, attempt=attempt, early=media("announcement", fingerprint=heard(NEVER_HEARD))
        )
        decision = decide(history, sig, rules, policy, clock.now())
        assert decision.verdict is not None and decision.verdict.status == "indeterminate"
        history = decision.history
        if decision.retry is None:
            break
        assert decision.retry.reason == "indeterminate"
        clock.advance(decision.retry.not_before - clock.now())
    assert decision.verdict.final
    assert decision.verdict.evidence.announcement is None
