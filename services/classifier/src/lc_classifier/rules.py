"""Verdict rules as data: a versioned YAML file, validated with pydantic, matched in order.

A rule says *when* (conditions over the facts of one call, all of which must
hold) and *what* (status, detail, confidence, whether a second attempt must
confirm it). The first rule that matches decides; the order of the file is the
precedence (trunk faults, answer, Q.850 cause, early media, SIP code,
provisional responses, fall-backs). Later matching rules only corroborate or
contradict the decision, which moves its confidence.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from lc_classifier.announcements import AnnouncementLibrary
from lc_classifier.fast import built
from lc_common.events import EndedBy, ProbeSignallingV1
from lc_sip.phrases import REASON_PHRASES

Status = Literal["connected", "disconnected", "indeterminate", "trunk_fault"]
Basis = Literal[
    "trunk", "answer", "cause", "tones", "announcement", "code", "provisional", "media", "fallback"
]
Finding = Literal["none", "silence", "ringback", "sit", "announcement", "music"]
# What a voice or music in early media was recognised as (a library entry's status).
Recognition = Literal["connected", "disconnected", "indeterminate", "unrecognised"]

DEFAULT_RULES = "verdicts.v1.yaml"


# Reason phrases of RFC 3261 and friends, for a detail when a carrier sends none.
class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Facts(_Strict):
    """What one test call showed, reduced to the signals the rules look at."""

    ended_by: EndedBy
    final_code: int | None = None
    final_reason: str | None = None
    q850_cause: int | None = None
    early_media: Finding | None = None
    sit_kind: str | None = None
    announcement: str | None = None
    """The id of the library announcement the early media matched, if any."""
    recognised: Recognition = "unrecognised"
    provisional: frozenset[int] = frozenset()
    overrun: bool = False
    error: str | None = None


class When(_Strict):
    """Conditions of a rule; every one given must hold (an empty `when` always matches)."""

    ended_by: frozenset[EndedBy] | None = None
    sip: frozenset[int] | None = None
    sip_class: frozenset[int] | None = None
    q850: frozenset[int] | None = None
    has_cause: bool | None = None
    early_media: frozenset[Finding] | None = None
    sit_kind: frozenset[str] | None = None
    announcement: frozenset[Recognition] | None = None
    provisional: frozenset[int] | None = None
    overrun: bool | None = None

    def matches(self, facts: Facts) -> bool:
        """True when the call's facts satisfy every condition given."""
        code = facts.final_code
        checks = (
            self.ended_by is None or facts.ended_by in self.ended_by,
            self.sip is None or code in self.sip,
            self.sip_class is None or (code is not None and code // 100 in self.sip_class),
            self.q850 is None or facts.q850_cause in self.q850,
            self.has_cause is None or (facts.q850_cause is not None) == self.has_cause,
            self.early_media is None or facts.early_media in self.early_media,
            self.sit_kind is None or normalise_sit(facts.sit_kind) in self.sit_kind,
            self.announcement is None or facts.recognised in self.announcement,
            self.provisional is None or bool(self.provisional & facts.provisional),
            self.overrun is None or facts.overrun == self.overrun,
        )
        return all(checks)


class Rule(_Strict):
    """One row of the verdict table."""

    id: str
    when: When
    status: Status
    basis: Basis
    detail: str
    confidence: int = Field(ge=0, le=100)
    confirm: bool = False


class RuleSet(_Strict):
    """A whole rules file."""

    version: Literal[1]
    q850_labels: dict[int, str]
    sit_aliases: dict[str, str] = {}
    overrun_markers: list[str]
    agreement_bonus: int = Field(ge=0, le=50)
    conflict_penalty: int = Field(ge=0, le=50)
    confirmed_bonus: int = Field(ge=0, le=50)
    rules: list[Rule] = Field(min_length=1)
    # Matches depend on a handful of signals with few distinct values: memoised.
    _memo: dict[tuple[object, ...], list[Rule]] = PrivateAttr(default_factory=dict)
    _announcements: AnnouncementLibrary = PrivateAttr(default_factory=AnnouncementLibrary)

    @property
    def announcements(self) -> AnnouncementLibrary:
        """The known announcements a voice in early media is recognised against."""
        return self._announcements

    def with_announcements(self, library: AnnouncementLibrary) -> RuleSet:
        """These rules, recognising announcements with `library`."""
        rules = self.model_copy()
        rules._memo = {}
        rules._announcements = library
        return rules

    @model_validator(mode="after")
    def _complete_and_unique(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        if self.rules[-1].when != When():
            raise ValueError("the last rule must match everything (an empty `when`)")
        for rule in self.rules:
            if rule.confirm and rule.status != "disconnected":
                raise ValueError(f"rule {rule.id}: only a disconnected verdict is confirmed")
        return self

    def matches(self, facts: Facts) -> list[Rule]:
        """Every rule that matches, in precedence order."""
        key = (
            facts.ended_by,
            facts.final_code,
            facts.q850_cause,
            facts.early_media,
            facts.sit_kind,
            facts.recognised,
            facts.provisional,
            facts.overrun,
        )
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 10_000:
                self._memo.clear()
            found = self._memo[key] = [rule for rule in self.rules if rule.when.matches(facts)]
        return found


def normalise_sit(kind: str | None) -> str | None:
    """`Vacant-Code`, `vacant code` → `vacant_code`; aliases are resolved by the loader."""
    if kind is None:
        return None
    return kind.strip().lower().replace("-", "_").replace(" ", "_")


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and validate a rules file; without a path, the packaged `verdicts.v1.yaml`."""
    if path is None:
        text = resources.files("lc_classifier").joinpath(DEFAULT_RULES).read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    return RuleSet.model_validate(yaml.safe_load(text))


def facts_of(signalling: ProbeSignallingV1, rules: RuleSet) -> Facts:
    """Reduce raw signalling to facts.

    The final answer is the far end's: a 487 after our own CANCEL is ours and
    says nothing about the number. The Q.850 cause is the final response's. A
    503 is our own overrun when nothing provisional came back and the error,
    reason phrase or Reason header carries one of the rules' overrun markers.
    """
    responses = signalling.responses
    final_code = signalling.final_code
    if final_code is None:
        finals = [r.code for r in responses if r.code >= 200]
        final_code = finals[-1] if finals else None
    if signalling.ended_by == "cancelled" and final_code == 487:
        final_code = None
    final = next((r for r in reversed(responses) if r.code == final_code), None)
    provisional = frozenset(r.code for r in responses if 100 < r.code < 200)
    media = signalling.early_media
    sit_kind = normalise_sit(media.sit_kind) if media else None
    sit_kind = rules.sit_aliases.get(sit_kind, sit_kind) if sit_kind else None
    # Only a voice or music is looked up: a SIT or ringback says what it is already.
    recognised = None
    if media is not None and media.fingerprint and media.finding in ("announcement", "music"):
        recognised = rules.announcements.recognise(media.fingerprint)
    text = " ".join(
        part.lower()
        for part in (
            signalling.error,
            final.reason if final else None,
            final.reason_header if final else None,
        )
        if part
    )
    overrun = (
        final_code == 503
        and not provisional
        and any(marker in text for marker in rules.overrun_markers)
    )
    # Built from validated values: no need to validate again (hot path).
    return built(
        Facts,
        ended_by=signalling.ended_by,
        final_code=final_code,
        final_reason=(final.reason if final and final.reason else None),
        q850_cause=final.q850_cause if final else None,
        early_media=media.finding if media else None,
        sit_kind=sit_kind,
        announcement=recognised.id if recognised else None,
        recognised=recognised.status if recognised else "unrecognised",
        provisional=provisional,
        overrun=overrun,
        error=signalling.error,
    )


def render_detail(rule: Rule, facts: Facts, rules: RuleSet) -> str:
    """Fill a rule's detail template: {code} {reason} {cause} {cause_label} {sit_kind}
    {announcement} {error}."""
    code = facts.final_code
    cause = facts.q850_cause
    values = {
        "code": code if code is not None else "",
        "reason": facts.final_reason or REASON_PHRASES.get(code or 0, ""),
        "cause": cause if cause is not None else "",
        "cause_label": rules.q850_labels.get(cause or -1, "cause"),
        "sit_kind": (facts.sit_kind or "unknown").replace("_", " "),
        "announcement": facts.announcement or "unknown",
        "error": facts.error or "unknown",
    }
    return " ".join(rule.detail.format(**values).split())
