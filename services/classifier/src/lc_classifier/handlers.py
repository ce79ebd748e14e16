"""What the classifier does with one signalling event: decide, remember, count, log."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog

from lc_classifier import metrics
from lc_classifier.domain import Decision, RetryPolicy, decide
from lc_classifier.history import LeadHistory
from lc_classifier.rules import RuleSet
from lc_common.clock import Clock
from lc_common.events import ProbeSignallingV1

log = structlog.get_logger(__name__)

_IGNORED = {r: metrics.IGNORED.labels(r) for r in ("duplicate", "stale_attempt", "after_final")}
_RETRIES = {r: metrics.RETRIES.labels(r) for r in ("indeterminate", "confirm", "trunk_fault")}
_VERDICTS = {
    (status, final): metrics.VERDICTS.labels(status, str(final).lower())
    for status in ("connected", "disconnected", "indeterminate")
    for final in (True, False)
}


class SignallingHandler:
    """Turns a lead's signalling into its verdicts and retries, one event at a time.

    `histories` maps a lead id to its `LeadHistory` as JSON bytes: the Faust table
    in the service, a plain dict in tests. Events of one lead must come in
    order through one handler (the topic is keyed by lead id).
    """

    def __init__(
        self,
        rules: RuleSet,
        policy: RetryPolicy,
        clock: Clock,
        histories: MutableMapping[str, Any],
    ) -> None:
        self.rules = rules
        self.policy = policy
        self.clock = clock
        self.histories = histories

    def history(self, lead_id: str) -> LeadHistory | None:
        """The lead's history so far, if any."""
        stored = self.histories.get(lead_id)
        if stored is None:
            return None
        if isinstance(stored, bytes | str):
            return LeadHistory.model_validate_json(stored)
        return LeadHistory.model_validate(stored)

    def handle(self, event: ProbeSignallingV1, partition: int | None = None) -> Decision:
        """Decide on one call, without remembering it yet (see `remember`)."""
        decision = decide(
            self.history(event.lead_id),
            event,
            self.rules,
            self.policy,
            self.clock.now(),
            partition=partition,
        )
        if decision.ignored is not None:
            _IGNORED[decision.ignored].inc()
            reemitted = decision.verdict is not None
            if reemitted:
                metrics.FINAL_REEMITTED.inc()
            log.info(
                "signalling_ignored",
                reason=decision.ignored,
                lead_id=event.lead_id,
                probe_id=event.probe_id,
                attempt=event.attempt,
                final_reemitted=reemitted,
            )
        return decision

    @staticmethod
    def encode(decision: Decision) -> bytes:
        """The new history as the table stores it."""
        return decision.history.model_dump_json(exclude_none=True).encode()

    def remember(self, event: ProbeSignallingV1, decision: Decision, stored: bytes) -> None:
        """Store the new history and count the decision, once its messages are handed over.

        Publishing before remembering means a crash in between redelivers the event
        and decides it again, rather than losing its verdict as a "duplicate".
        """
        if decision.ignored is not None:
            return
        self.histories[event.lead_id] = stored
        observation = decision.observation
        if observation is not None and observation.status == "trunk_fault":
            metrics.TRUNK_FAULTS.labels(event.trunk, observation.rule_id).inc()
            log.warning(
                "trunk_fault",
                rule=observation.rule_id,
                detail=observation.detail,
                trunk=event.trunk,
                lead_id=event.lead_id,
                probe_id=event.probe_id,
            )
        if (verdict := decision.verdict) is not None:
            _VERDICTS[verdict.status, verdict.final].inc()
            log.debug(
                "verdict",
                lead_id=event.lead_id,
                status=verdict.status,
                final=verdict.final,
                detail=verdict.detail,
                confidence=verdict.confidence,
                rule=observation.rule_id if observation else None,
            )
        if (retry := decision.retry) is not None:
            _RETRIES[retry.reason].inc()
            log.debug(
                "retry",
                lead_id=event.lead_id,
                reason=retry.reason,
                next_attempt=retry.attempt,
                not_before=retry.not_before.isoformat(),
                avoid_trunk=retry.avoid_trunk,
            )
