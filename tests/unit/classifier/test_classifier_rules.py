"""The rules file against every row of DESIGN.md's verdict table, and its precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from classifier_factories import (
    NEVER_HEARD,
    NOT_CONNECTED,
    SWITCHED_OFF,
    heard,
    media,
    recording,
    signalling,
    wire,
)
from pydantic import ValidationError

from lc_classifier.observation import observe
from lc_classifier.rules import RuleSet, load_rules
from lc_common.events import ProbeSignallingV1

CONNECTED = [
    ("180 ringing", signalling(100, 180)),
    ("183 with ringback", signalling(183, early=media("ringback"))),
    ("200 answered", signalling(180, 200)),
    ("486 busy", signalling(486)),
    ("600 busy everywhere", signalling(600)),
    ("Q.850 17 user busy", signalling(486, cause=17)),
    ("Q.850 17 on another code", signalling(480, cause=17)),
    ("Q.850 19 no answer", signalling(480, cause=19)),
    ("Q.850 20 subscriber absent", signalling(480, cause=20)),
    ("603 decline", signalling(603)),
    ("183 with a caller tune", signalling(183, early=media("music", fingerprint=heard(9)))),
    (
        "183 with a recognised switched-off message",
        signalling(183, early=media("announcement", fingerprint=heard(SWITCHED_OFF))),
    ),
]
DISCONNECTED = [
    ("404", signalling(404)),
    ("410", signalling(410)),
    ("604", signalling(604)),
    ("Q.850 1 unallocated", signalling(404, cause=1)),
    ("Q.850 22 number changed", signalling(410, cause=22)),
    ("484", signalling(484)),
    ("Q.850 28 invalid format", signalling(484, cause=28)),
    ("SIT vacant code", signalling(183, early=media("sit", "vacant_code"))),
    ("SIT intercept", signalling(183, early=media("sit", "intercept"))),
    (
        "recognised not connected announcement",
        signalling(183, early=media("announcement", fingerprint=heard(NOT_CONNECTED))),
    ),
]
INDETERMINATE = [
    ("408", signalling(408)),
    ("no final answer", signalling(100, ended_by="no_response")),
    ("480 without cause", signalling(480)),
    ("500", signalling(500)),
    ("502", signalling(502)),
    ("503", signalling(503)),
    ("504", signalling(504)),
    *[(f"Q.850 {c}", signalling(480, cause=c)) for c in (18, 27, 31, 34, 38, 41, 42, 47)],
    ("SIT no circuit", signalling(183, early=media("sit", "no_circuit"))),
    ("SIT reorder", signalling(183, early=media("sit", "reorder"))),
    ("403", signalling(403)),
    ("Q.850 21", signalling(403, cause=21)),
    ("voice, no fingerprint", signalling(183, early=media("announcement"))),
    (
        "voice never heard before",
        signalling(183, early=media("announcement", fingerprint=heard(NEVER_HEARD))),
    ),
    ("voice, bad fingerprint", signalling(183, early=media("announcement", fingerprint="AAAA"))),
]
TRUNK_FAULTS = [
    ("401 not satisfied", signalling(401, ended_by="auth_failed")),
    ("407 not satisfied", signalling(407, ended_by="auth_failed")),
    ("401 as a final answer", signalling(401)),
    ("transport error", signalling(ended_by="transport_error", error="connection refused")),
    ("503 channel limit", signalling(503, error="channel limit reached")),
    ("503 CPS limit in the reason phrase", signalling(503, reason="CPS Limit Exceeded")),
    ("503 with Retry-After", signalling(503, error="retry-after=30")),
    ("488 refused our offer", signalling(488)),
]


def _cases(rows: list[tuple[str, ProbeSignallingV1]], status: str) -> list[object]:
    return [pytest.param(sig, status, id=f"{status}: {name}") for name, sig in rows]


@pytest.mark.parametrize(
    ("sig", "status"),
    _cases(CONNECTED, "connected")
    + _cases(DISCONNECTED, "disconnected")
    + _cases(INDETERMINATE, "indeterminate")
    + _cases(TRUNK_FAULTS, "trunk_fault"),
)
def test_every_row_of_the_verdict_table(
    rules: RuleSet, sig: ProbeSignallingV1, status: str
) -> None:
    assert observe(sig, rules).status == status


@pytest.mark.parametrize(
    ("sig", "status"),
    [
        pytest.param(signalling(480, cause=1), "disconnected", id="Q.850 1 beats 480"),
        pytest.param(signalling(404, cause=17), "connected", id="Q.850 17 beats 404"),
        pytest.param(signalling(404, cause=34), "indeterminate", id="Q.850 34 beats 404"),
        pytest.param(signalling(486, cause=1), "disconnected", id="Q.850 1 beats 486"),
    ],
)
def test_q850_cause_wins_over_the_sip_code(
    rules: RuleSet, sig: ProbeSignallingV1, status: str
) -> None:
    assert observe(sig, rules).status == status


def test_intercept_tones_beat_a_transient_code(rules: RuleSet) -> None:
    sig = signalling(183, 480, early=media("sit", "intercept"))
    assert observe(sig, rules).status == "disconnected"


def test_a_definite_code_beats_ringback(rules: RuleSet) -> None:
    assert observe(signalling(183, 404, early=media("ringback")), rules).status == "disconnected"


def test_ringing_beats_a_transient_code(rules: RuleSet) -> None:
    assert observe(signalling(180, 480), rules).status == "connected"


def test_our_own_cancel_is_not_the_far_ends_answer(rules: RuleSet) -> None:
    observation = observe(signalling(183, early=media("silence")), rules)
    assert observation.facts.final_code is None
    assert observation.status == "indeterminate"


def test_a_503_after_progress_is_not_our_overrun(rules: RuleSet) -> None:
    sig = signalling(183, 503, error="channel limit")
    assert observe(sig, rules).status == "indeterminate"


def test_sit_kind_aliases_are_understood(rules: RuleSet) -> None:
    assert observe(signalling(183, early=media("sit", "VC")), rules).status == "disconnected"
    assert observe(signalling(183, early=media("sit", "Reorder")), rules).status == "indeterminate"


@pytest.mark.parametrize(
    ("sig", "detail"),
    [
        (signalling(404), "SIP 404 Not Found"),
        (signalling(404, reason="No Such Number"), "SIP 404 No Such Number"),
        (signalling(480, cause=1), "Q.850 1 unallocated number"),
        (signalling(183, early=media("sit", "intercept")), "intercept tones"),
        (signalling(183, early=media("sit", "vacant_code")), "vacant code tones"),
        (signalling(486), "SIP 486 Busy Here"),
        (signalling(180), "180 Ringing"),
    ],
)
def test_detail_reads_for_a_client(rules: RuleSet, sig: ProbeSignallingV1, detail: str) -> None:
    assert observe(sig, rules).detail == detail


def test_confidence_follows_the_strength_of_the_evidence(rules: RuleSet) -> None:
    cause_and_code = observe(signalling(404, cause=1), rules)
    code_alone = observe(signalling(404), rules)
    tones_alone = observe(signalling(183, early=media("sit", "intercept")), rules)
    assert cause_and_code.confidence > code_alone.confidence > tones_alone.confidence
    assert cause_and_code.detail == "Q.850 1 unallocated number"


def test_what_needs_confirming(rules: RuleSet) -> None:
    assert observe(signalling(404), rules).needs_confirm
    assert observe(signalling(484), rules).needs_confirm
    assert observe(signalling(183, early=media("sit", "intercept")), rules).needs_confirm
    assert not observe(signalling(183, early=media("announcement")), rules).needs_confirm
    assert not observe(signalling(404, cause=1), rules).needs_confirm
    assert not observe(signalling(410), rules).needs_confirm
    assert not observe(signalling(604), rules).needs_confirm
    # Tones corroborated by a definite code need no second call.
    assert not observe(signalling(183, 410, early=media("sit", "intercept")), rules).needs_confirm


def test_contradicting_evidence_costs_confidence_and_needs_confirming(rules: RuleSet) -> None:
    clean = observe(signalling(183, early=media("sit", "intercept")), rules)
    contradicted = observe(signalling(183, 486, early=media("sit", "intercept")), rules)
    assert contradicted.status == "disconnected"
    assert contradicted.needs_confirm
    assert contradicted.confidence < clean.confidence


def _packaged() -> dict[str, object]:
    data = yaml.safe_load(
        (
            Path(__file__).parents[3] / "services/classifier/src/lc_classifier/verdicts.v1.yaml"
        ).read_text()
    )
    assert isinstance(data, dict)
    return data


def test_the_packaged_file_is_the_default(rules: RuleSet) -> None:
    assert rules.model_dump() == RuleSet.model_validate(_packaged()).model_dump()


def test_a_rules_file_can_be_given(tmp_path: Path) -> None:
    data = _packaged()
    rules_list = data["rules"]
    assert isinstance(rules_list, list)
    for rule in rules_list:
        if rule["id"] == "sip-not-found":
            rule["confirm"] = False
    path = tmp_path / "verdicts.yaml"
    path.write_text(yaml.safe_dump(data))
    assert not observe(signalling(404), load_rules(path)).needs_confirm


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["rules"].pop(), id="no catch-all last rule"),
        pytest.param(lambda d: d["rules"].append(dict(d["rules"][-1])), id="duplicate id"),
        pytest.param(lambda d: d.update(version=2), id="unknown version"),
        pytest.param(lambda d: d["rules"][0]["when"].update(colour="red"), id="unknown condition"),
        pytest.param(lambda d: d["rules"][4].update(confirm=True), id="confirm on connected"),
        pytest.param(lambda d: d["rules"][0].update(confidence=101), id="confidence > 100"),
        pytest.param(lambda d: d["rules"][0].update(status="dead"), id="unknown status"),
    ],
)
def test_invalid_rules_files_are_refused(mutate: object) -> None:
    data = _packaged()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ValidationError):
        RuleSet.model_validate(data)


def test_a_voice_is_disconnected_only_when_recognised_and_the_detail_names_it(
    rules: RuleSet,
) -> None:
    recognised = observe(
        signalling(183, early=media("announcement", fingerprint=heard(NOT_CONNECTED, 250))), rules
    )
    assert recognised.status == "disconnected"
    assert recognised.rule_id == "announcement-not-connected"
    assert recognised.facts.announcement == "telco-not-connected"
    assert recognised.detail == "recognised not connected announcement: telco-not-connected"
    unknown = observe(
        signalling(183, early=media("announcement", fingerprint=heard(NEVER_HEARD))), rules
    )
    assert unknown.status == "indeterminate"
    assert unknown.rule_id == "voice-unrecognised"
    assert unknown.facts.announcement is None


def test_without_a_library_no_voice_is_ever_disconnected() -> None:
    bare = load_rules()
    sig = signalling(183, early=media("announcement", fingerprint=heard(NOT_CONNECTED)))
    assert bare.announcements.recognise(heard(NOT_CONNECTED)) is None
    assert observe(sig, bare).status == "indeterminate"


def test_a_few_chance_coincidences_are_not_a_match(rules: RuleSet) -> None:
    # A stranger's recording that happens to share a handful of hashes with a known one.
    stranger = recording(NEVER_HEARD)[:150] + recording(NOT_CONNECTED)[:5]
    assert rules.announcements.recognise(wire(stranger)) is None


def test_a_sign_of_life_beats_an_unrecognised_voice(rules: RuleSet) -> None:
    voice = media("announcement", fingerprint=heard(NEVER_HEARD))
    assert observe(signalling(180, 183, early=voice), rules).status == "connected"
    assert observe(signalling(183, 404, early=voice), rules).status == "disconnected"
