"""The simulator's rules file: loading, validation, first-match-wins, the demo table."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from pydantic import ValidationError

from lc_carrier_sim.rules import SimConfig, load_rules

DEFAULT_RULES = Path(__file__).resolve().parents[3] / "sim" / "carrier" / "rules.yaml"

DEMO_TABLE = {
    "0": ("ring", None),
    "1": ("ring", None),
    "2": ("ring", None),
    "3": ("not_found", 404),
    "4": ("gone", 410),
    "5": ("busy", 486),
    "6": ("unavailable", 480),
    "7": ("intercept", None),
    "8": ("service_unavailable", 503),
    "9": ("answer", None),
}


@pytest.mark.parametrize("digit", sorted(DEMO_TABLE))
def test_default_rules_map_the_last_digit(digit: str) -> None:
    config = load_rules(DEFAULT_RULES)
    rule = config.match(f"+6129999000{digit}")
    assert rule is not None
    behaviour, code = DEMO_TABLE[digit]
    assert rule.behaviour == behaviour
    if code is not None:
        assert rule.final_code == code
    assert rule.reason_q850 is None


def test_first_match_wins_and_criteria_combine() -> None:
    config = SimConfig.model_validate(
        {
            "rules": [
                {"match": {"prefix": "+614", "suffix": "5"}, "behaviour": "busy"},
                {"match": {"regex": r"^\+61[23]"}, "behaviour": "reject", "code": 604},
                {"behaviour": "answer"},
            ]
        }
    )
    assert config.match("+61400000005").behaviour == "busy"  # type: ignore[union-attr]
    assert config.match("+61400000006").behaviour == "answer"  # type: ignore[union-attr]
    assert config.match("+61200000005").final_code == 604  # type: ignore[union-attr]


def test_no_rule_matches() -> None:
    assert (
        SimConfig.model_validate(
            {"rules": [{"match": {"suffix": "1"}, "behaviour": "busy"}]}
        ).match("+612")
        is None
    )


def test_delay_forms() -> None:
    config = SimConfig.model_validate(
        {
            "rules": [
                {"behaviour": "busy", "delay_ms": 250},
                {"behaviour": "busy", "delay_ms": [100, 200]},
            ]
        }
    )
    rng = random.Random(1)
    assert config.rules[0].delay_seconds(rng) == 0.25
    draws = [config.rules[1].delay_seconds(rng) for _ in range(200)]
    assert 0.1 <= min(draws) < 0.12 and 0.18 < max(draws) <= 0.2


@pytest.mark.parametrize(
    "rule",
    [
        {"behaviour": "reject"},
        {"behaviour": "reject", "code": 200},
        {"behaviour": "busy", "delay_ms": [300, 100]},
        {"behaviour": "explode"},
        {"behaviour": "busy", "unknown_field": 1},
    ],
)
def test_invalid_rules_are_refused(rule: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimConfig.model_validate({"rules": [rule]})


def test_yaml_file_with_auth(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "channels: 3\nauth: {username: u, password: p}\nrules:\n"
        "  - {match: {suffix: '6'}, behaviour: unavailable, reason_q850: 18}\n"
    )
    config = load_rules(path)
    assert config.channels == 3
    assert config.auth is not None and config.auth.realm == "carrier-sim"
    assert config.rules[0].final_code == 480 and config.rules[0].reason_q850 == 18
