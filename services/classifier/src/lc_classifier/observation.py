"""How one call is judged from its signalling alone, before the lead's history counts.

`observe` applies the rules file to the call's facts: the decisive rule sets the
status; agreeing rules raise the confidence and conflicting decisive ones lower it
(and make a disconnect need confirming). `record_of` turns the judgement into the
call's entry in the lead's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from lc_classifier.fast import built
from lc_classifier.history import AttemptRecord
from lc_classifier.rules import Facts, Rule, RuleSet, Status, facts_of, render_detail
from lc_common.events import ProbeSignallingV1

_DECISIVE = ("connected", "disconnected")


@dataclass(frozen=True, slots=True)
class Observation:
    """The judgement of one call, before the lead's history is considered."""

    status: Status
    rule_id: str
    detail: str
    confidence: int
    needs_confirm: bool
    facts: Facts


def observe(signalling: ProbeSignallingV1, rules: RuleSet) -> Observation:
    """Judge one call from its signalling alone."""
    facts = facts_of(signalling, rules)
    matched = rules.matches(facts)
    decisive = matched[0]
    others = [r for r in matched[1:] if r.basis not in ("fallback", "trunk")]
    agreeing = [r for r in others if r.status == decisive.status]
    conflicting = [r for r in others if r.status in _DECISIVE and r.status != decisive.status]
    strongest: Rule = max([decisive, *agreeing], key=lambda r: r.confidence)
    confidence = strongest.confidence
    needs_confirm = decisive.confirm and all(r.confirm for r in agreeing)
    if decisive.status in _DECISIVE:
        if agreeing:
            confidence += rules.agreement_bonus
        if conflicting:
            confidence -= rules.conflict_penalty
            needs_confirm = needs_confirm or decisive.status == "disconnected"
    return Observation(
        status=decisive.status,
        rule_id=decisive.id,
        detail=render_detail(strongest, facts, rules),
        confidence=max(0, min(99, confidence)),
        needs_confirm=needs_confirm,
        facts=facts,
    )


def record_of(signalling: ProbeSignallingV1, observation: Observation) -> AttemptRecord:
    """The history entry of one call."""
    media = signalling.early_media
    return built(
        AttemptRecord,
        probe_id=signalling.probe_id,
        attempt=signalling.attempt,
        trunk=signalling.trunk,
        outcome=observation.status,
        rule_id=observation.rule_id,
        detail=observation.detail,
        confidence=observation.confidence,
        needs_confirm=observation.needs_confirm,
        codes=[r.code for r in signalling.responses],
        q850_cause=observation.facts.q850_cause,
        early_media=media.finding if media else None,
        sit_kind=observation.facts.sit_kind,
        announcement=observation.facts.announcement,
        tested_at=signalling.started_at,
    )
