"""How the classifier decides: pure functions over pydantic models, no I/O.

`observe` judges one call from its signalling (the rules file; `observation.py`). `decide` folds
that observation into the lead's attempt history and says what to publish: a
verdict for the attempt (final or not) and/or a retry request.

Decisions that the rules alone cannot make:

- **duplicates and stale events** change nothing: a probe id already in the
  history or an attempt number already decided is ignored;
- **after the final verdict** a new call changes nothing either, but the final
  verdict is published again (same status, detail and charge, this call's probe
  id and attempt): a scheduler that lost it closes the lead instead of sweeping
  and re-dialling it forever (docs/invariants.md I1);
- **chargeable**: a final verdict is chargeable when at least one of the lead's
  calls reached the network, that is neither a trunk fault nor a call the trunk
  never answered at all; a lead that only ever met those is final and free (I4);
- **trunk faults** are not attempts: the same attempt is re-dialled on another
  trunk with a growing back-off; a lead that only meets trunk faults until the
  retry horizon is final `indeterminate`;
- **confirmation**: a disconnected verdict that needs one is held (non-final)
  and the next attempt, on another trunk, confirms it. Disconnected again:
  final disconnected with more confidence. Connected: final connected, since a
  sign of life beats a doubtful disconnect (a false "disconnected" makes a
  client throw away a good lead). Indeterminate: retried on schedule, still
  awaiting confirmation; if attempts run out first the lead is final
  `indeterminate` ("unconfirmed: ...");
- **retries** are due by the schedule counted from the first attempt, never
  before now, at most `max_attempts` attempts and within `horizon`; never
  sooner than a Retry-After the far end sent (RFC 3261 20.33), and none at all
  when that would fall beyond the horizon.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from lc_classifier.fast import built
from lc_classifier.history import AttemptRecord, LeadHistory
from lc_classifier.observation import Observation, observe, record_of
from lc_classifier.rules import RuleSet
from lc_common.events import (
    Evidence,
    LeadStatus,
    LeadVerdictV1,
    ProbeRetryV1,
    ProbeSignallingV1,
    RetryReason,
)
from lc_common.retry_policy import RetryPolicy as SharedRetryPolicy

_EVENT_NS = uuid.UUID("6f1d3c2e-8a47-4d5b-9a0e-3c1b2a4d5e6f")

Ignored = Literal["duplicate", "stale_attempt", "after_final"]


class RetryPolicy(SharedRetryPolicy):
    """The system's retry policy, plus what only the classifier decides.

    Trunk faults are not attempts: the same attempt is re-dialled after a growing
    back-off. A confirmation call waits `confirm_delay` when set, else the schedule.
    """

    trunk_fault_backoff: list[timedelta] = Field(
        default_factory=lambda: [
            timedelta(0),
            timedelta(0),
            timedelta(minutes=1),
            timedelta(minutes=5),
            timedelta(minutes=15),
        ],
        min_length=1,
    )
    confirm_delay: timedelta | None = None

    def trunk_fault_delay(self, faults: int) -> timedelta:
        """Back-off before re-dialling after the n-th trunk fault (n from 1) of one attempt."""
        return self.trunk_fault_backoff[min(faults, len(self.trunk_fault_backoff)) - 1]


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one signalling event (plain data: built once per event)."""

    history: LeadHistory
    observation: Observation | None = None
    verdict: LeadVerdictV1 | None = None
    retry: ProbeRetryV1 | None = None
    ignored: Ignored | None = None


def decide(
    history: LeadHistory | None,
    signalling: ProbeSignallingV1,
    rules: RuleSet,
    policy: RetryPolicy,
    now: datetime,
    *,
    partition: int | None = None,
) -> Decision:
    """Fold one call into the lead's history and say what to publish.

    `partition` is where the lead's history lives (the signalling partition); it
    is kept in the history so that pruning can address its changelog.
    """
    history = history or LeadHistory(lead_id=signalling.lead_id)
    if history.seen(signalling.probe_id):
        return Decision(history=history, ignored="duplicate")
    if history.final_status is not None:
        return Decision(
            history=history, verdict=final_again(history, signalling, now), ignored="after_final"
        )
    decided = history.decided_attempts()
    if signalling.attempt in decided or signalling.attempt < max(decided, default=0):
        return Decision(history=history, ignored="stale_attempt")

    observation = observe(signalling, rules)
    record = record_of(signalling, observation)
    pending = history.pending_confirmation()
    history = built(
        LeadHistory,
        lead_id=history.lead_id,
        attempts=[*history.attempts, record],
        final_status=None,
        final_detail=None,
        final_confidence=None,
        final_evidence=None,
        batch_id=signalling.batch_id,
        partition=partition if partition is not None else history.partition,
        updated_at=now,
    )
    first_at = history.first_at or record.tested_at
    wait = asked_delay(signalling)
    builder = _Builder(signalling, history, record, observation, now)

    if observation.status == "trunk_fault":
        delay = policy.trunk_fault_delay(history.trunk_faults(record.attempt))
        not_before = now + delay
        if not_before > first_at + policy.horizon:
            return builder.final("indeterminate", f"no trunk could test it: {record.detail}", 20)
        return builder.retry_only("trunk_fault", record.attempt, not_before, record.trunk)

    if observation.status == "connected":
        confidence = record.confidence - (rules.conflict_penalty if pending else 0)
        return builder.final("connected", record.detail, confidence)

    if observation.status == "disconnected":
        if pending is not None:
            strongest = max(record, pending, key=lambda r: r.confidence)  # ties: the latest
            confidence = strongest.confidence + rules.confirmed_bonus
            return builder.final(
                "disconnected", f"{strongest.detail} (confirmed)", confidence, strongest
            )
        if not observation.needs_confirm:
            return builder.final("disconnected", record.detail, record.confidence)
        due = _confirm_due(policy, first_at, record.attempt + 1, now, wait)
        if due is None:
            return builder.final("indeterminate", f"unconfirmed: {record.detail}", 30)
        return builder.retry("disconnected", "confirm", due, avoid_trunk=record.trunk)

    # indeterminate
    if pending is not None:
        due = _confirm_due(policy, first_at, record.attempt + 1, now, wait)
        if due is None:
            return builder.final("indeterminate", f"unconfirmed: {pending.detail}", 30)
        return builder.retry("indeterminate", "confirm", due, avoid_trunk=pending.trunk)
    due = policy.due(first_at, record.attempt + 1, now, wait)
    if due is None:
        attempts = len(history.decided_attempts())
        detail = f"{record.detail} (after {attempts} attempts)"
        return builder.final("indeterminate", detail, record.confidence)
    return builder.retry("indeterminate", "indeterminate", due)


def final_again(
    history: LeadHistory, signalling: ProbeSignallingV1, now: datetime
) -> LeadVerdictV1:
    """The lead's final verdict once more, answering a call made after it.

    Same status, detail, confidence, evidence and charge; this call's probe id and
    attempt, and an event id derived from that probe id (a redelivery repeats it).
    """
    assert history.final_status is not None
    basis = _final_basis(history)
    detail = history.final_detail or (basis.detail if basis else history.final_status)
    confidence = history.final_confidence
    if confidence is None:
        confidence = basis.confidence if basis else 0
    evidence = history.final_evidence or (basis.evidence() if basis else None)
    if evidence is None:  # a history with no call at all: nothing better to show
        evidence = Evidence(trunk=signalling.trunk, codes=[], tested_at=signalling.started_at)
    return LeadVerdictV1(
        event_id=uuid.uuid5(_EVENT_NS, f"verdict:{signalling.probe_id}"),
        occurred_at=now,
        account_id=signalling.account_id,
        batch_id=signalling.batch_id,
        lead_id=signalling.lead_id,
        probe_id=signalling.probe_id,
        attempt=signalling.attempt,
        status=history.final_status,
        final=True,
        detail=detail,
        confidence=max(0, min(99, confidence)),
        evidence=evidence,
        chargeable=history.chargeable,
    )


def _final_basis(history: LeadHistory) -> AttemptRecord | None:
    """The call an older history's final verdict most likely rested on: its last decided one."""
    decided = [r for r in history.attempts if r.outcome != "trunk_fault"]
    if decided:
        return decided[-1]
    return history.attempts[-1] if history.attempts else None


def _confirm_due(
    policy: RetryPolicy,
    first_at: datetime,
    next_attempt: int,
    now: datetime,
    at_least: timedelta | None,
) -> datetime | None:
    due = policy.due(first_at, next_attempt, now, at_least)
    if due is None or policy.confirm_delay is None:
        return due
    return now + max(policy.confirm_delay, at_least or timedelta(0))


def asked_delay(signalling: ProbeSignallingV1) -> timedelta | None:
    """How long the far end asked us to wait (Retry-After of its last error response)."""
    for response in reversed(signalling.responses):
        if response.code >= 300 and response.retry_after_seconds is not None:
            return timedelta(seconds=response.retry_after_seconds)
    return None


class _Builder:
    """Builds the events of one decision."""

    def __init__(
        self,
        signalling: ProbeSignallingV1,
        history: LeadHistory,
        record: AttemptRecord,
        observation: Observation,
        now: datetime,
    ) -> None:
        self.sig = signalling
        self.history = history
        self.record = record
        self.observation = observation
        self.now = now

    def _event_id(self, kind: str) -> uuid.UUID:
        # Deterministic, so a redelivered event yields the same ids downstream.
        return uuid.uuid5(_EVENT_NS, f"{kind}:{self.sig.probe_id}")

    def _verdict(
        self,
        status: LeadStatus,
        final: bool,
        detail: str,
        confidence: int,
        evidence_of: AttemptRecord | None = None,
        next_attempt_at: datetime | None = None,
    ) -> LeadVerdictV1:
        sig = self.sig
        # Meaningful on a final verdict only (see LeadVerdictV1).
        chargeable = final and self.history.chargeable
        return LeadVerdictV1(
            event_id=self._event_id("verdict"),
            occurred_at=self.now,
            account_id=sig.account_id,
            batch_id=sig.batch_id,
            lead_id=sig.lead_id,
            probe_id=sig.probe_id,
            attempt=sig.attempt,
            status=status,
            final=final,
            detail=detail,
            confidence=max(0, min(99, confidence)),
            evidence=(evidence_of or self.record).evidence(),
            next_attempt_at=next_attempt_at,
            chargeable=chargeable,
        )

    def _retry(
        self, reason: RetryReason, attempt: int, not_before: datetime, avoid: str | None
    ) -> ProbeRetryV1:
        sig = self.sig
        return ProbeRetryV1(
            event_id=self._event_id("retry"),
            occurred_at=self.now,
            account_id=sig.account_id,
            batch_id=sig.batch_id,
            lead_id=sig.lead_id,
            e164=sig.e164,
            attempt=attempt,
            reason=reason,
            not_before=not_before,
            avoid_trunk=avoid,
        )

    def final(
        self,
        status: LeadStatus,
        detail: str,
        confidence: int,
        evidence_of: AttemptRecord | None = None,
    ) -> Decision:
        verdict = self._verdict(status, True, detail, confidence, evidence_of)
        history = self.history
        history = built(
            LeadHistory,
            lead_id=history.lead_id,
            attempts=history.attempts,
            final_status=status,
            final_detail=verdict.detail,
            final_confidence=verdict.confidence,
            final_evidence=verdict.evidence,
            batch_id=history.batch_id,
            partition=history.partition,
            updated_at=history.updated_at,
        )
        return Decision(history=history, observation=self.observation, verdict=verdict)

    def retry(
        self,
        status: LeadStatus,
        reason: RetryReason,
        due: datetime,
        avoid_trunk: str | None = None,
    ) -> Decision:
        verdict = self._verdict(
            status, False, self.record.detail, self.record.confidence, next_attempt_at=due
        )
        retry = self._retry(reason, self.record.attempt + 1, due, avoid_trunk)
        return Decision(
            history=self.history, observation=self.observation, verdict=verdict, retry=retry
        )

    def retry_only(
        self, reason: RetryReason, attempt: int, due: datetime, avoid_trunk: str
    ) -> Decision:
        retry = self._retry(reason, attempt, due, avoid_trunk)
        return Decision(history=self.history, observation=self.observation, retry=retry)
