"""The simulator's rules file: ordered rules matching the dialled number to a behaviour."""

from __future__ import annotations

import random
import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Behaviour = Literal[
    "ring",
    "ring_early_media",
    "answer",
    "busy",
    "not_found",
    "gone",
    "address_incomplete",
    "unavailable",
    "service_unavailable",
    "decline",
    "reject",
    "no_response",
    "intercept",
    "announcement",
    "caller_tune",
    "flapping",
]
SitKind = Literal["intercept", "vacant_code", "no_circuit", "reorder", "ineffective_other"]

FINAL_CODES: dict[str, int] = {
    "busy": 486,
    "not_found": 404,
    "gone": 410,
    "address_incomplete": 484,
    "unavailable": 480,
    "service_unavailable": 503,
    "decline": 603,
}


class Match(BaseModel):
    """How a rule selects numbers; all given criteria must hold, none given matches all."""

    model_config = ConfigDict(extra="forbid")

    regex: str | None = None
    """Searched (re.search) in the +E.164 number."""
    suffix: str | None = None
    prefix: str | None = None

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.regex) if self.regex else None

    def matches(self, number: str) -> bool:
        """Whether this rule applies to the number."""
        if self.suffix is not None and not number.endswith(self.suffix):
            return False
        if self.prefix is not None and not number.startswith(self.prefix):
            return False
        pattern = self._pattern
        return pattern is None or pattern.search(number) is not None


class Rule(BaseModel):
    """One behaviour for the numbers its match selects."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    match: Match = Field(default_factory=Match)
    behaviour: Behaviour
    code: int | None = None
    """Final code for ``reject``; overrides the default code of named rejections."""
    reason_q850: int | None = None
    reason_text: str | None = None
    delay_ms: tuple[float, float] = (0.0, 0.0)
    """Uniform latency before the first provisional (after 100 Trying) or final."""
    answer_after_ms: float = 0.0
    """``answer``: ringing time between 180 and 200."""
    max_ring_ms: float = 60_000.0
    """Ringing behaviours give up with 480 (Q.850 19) if never cancelled."""
    ringback: Literal["au", "us"] = "au"
    sit_kind: SitKind = "intercept"
    announcement: str = Field("not-connected", pattern=r"^[a-z0-9-]{1,40}$")
    """``announcement``: which recorded message; ``not-connected`` is the one whose
    fingerprint `sim/carrier/announcements/` holds, any other name is a voice never heard."""
    fail_attempts: int = 2
    """``flapping``: how many first attempts per number fail."""
    fail_codes: list[int] = Field(default_factory=lambda: [480, 503])
    drop_first_invites: int = 0
    """Ignore the first N transmissions of each INVITE (tests UAC retransmission)."""

    @field_validator("delay_ms", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            return (value, value)
        return value

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if self.behaviour == "reject" and self.code is None:
            raise ValueError("behaviour 'reject' needs a code")
        if self.code is not None and not 300 <= self.code <= 699:
            raise ValueError("code must be a final error code (300-699)")
        if self.delay_ms[0] > self.delay_ms[1]:
            raise ValueError("delay_ms must be [low, high]")
        return self

    def delay_seconds(self, rng: random.Random) -> float:
        """A latency drawn from the rule's distribution."""
        low, high = self.delay_ms
        return (low if low == high else rng.uniform(low, high)) / 1000.0

    @property
    def final_code(self) -> int:
        """The final code of a rejecting behaviour."""
        if self.code is not None:
            return self.code
        return FINAL_CODES[self.behaviour]


class AuthConfig(BaseModel):
    """Digest authentication demanded of every INVITE."""

    model_config = ConfigDict(extra="forbid")

    username: str
    password: str
    realm: str = "carrier-sim"
    qop: Literal["auth", "none"] = "auth"


class SimConfig(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid")

    channels: int = 1000
    """Concurrent dialogs before new INVITEs get 503 (Q.850 34)."""
    auth: AuthConfig | None = None
    rules: list[Rule] = Field(default_factory=list)

    def match(self, number: str) -> Rule | None:
        """The first rule matching the number."""
        for rule in self.rules:
            if rule.match.matches(number):
                return rule
        return None


def load_rules(source: str | Path | dict[str, Any] | SimConfig) -> SimConfig:
    """Load rules from a YAML file path, a dict or an existing config."""
    if isinstance(source, SimConfig):
        return source
    if isinstance(source, dict):
        return SimConfig.model_validate(source)
    data = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    return SimConfig.model_validate(data)
