"""The checker: pure functions from what a fault run observed to the invariants it broke.

Nothing here talks to a peer. The observer (`tests/faults/observe.py`) collects
plain values during and after a run; each `check_*` returns the violations it
found as sentences (empty: the invariant held), and `Report` gathers them with the
figures the README's table reports. docs/invariants.md names each invariant (I1-I9).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FINAL_STATUSES = frozenset({"connected", "disconnected", "indeterminate"})
TERMINAL_STATUSES = frozenset({"finished", "failed", "paused", "paused_no_credit"})


@dataclass(frozen=True)
class Verdict:
    """One `lead.verdicts` event as read from the topic (distinct by event id)."""

    event_id: str
    lead_id: str
    status: str
    final: bool
    attempt: int
    chargeable: bool = False


@dataclass
class Report:
    """Figures and violations of one run; `assert_held` fails the test with all of them."""

    figures: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def add(self, invariant: str, found: Iterable[str]) -> None:
        """Record the violations one check found, prefixed by its invariant's name."""
        self.violations.extend(f"{invariant}: {v}" for v in found)

    def assert_held(self) -> None:
        """Raise AssertionError listing every violation (at most 40 shown) and the figures."""
        if self.violations:
            shown = "\n  ".join(self.violations[:40])
            more = len(self.violations) - 40
            tail = f"\n  ... and {more} more" if more > 0 else ""
            raise AssertionError(
                f"{len(self.violations)} violations:\n  {shown}{tail}\nfigures: {self.figures}"
            )


def check_calls_within(
    calls: Mapping[str, int], allowed: Mapping[str, int], what: str
) -> list[str]:
    """I2: per number, calls that reached the carrier <= what was recorded for it.

    `calls` counts new calls per E.164 number at the carrier simulator; `allowed`
    is, per number, the dispatched probes (distinct probe ids) or the recorded
    attempts of every lead with that number. A number called but never recorded
    is a violation too.
    """
    return [
        f"{number}: {count} calls at the carrier > {allowed.get(number, 0)} {what}"
        for number, count in sorted(calls.items())
        if count > allowed.get(number, 0)
    ]


def check_no_calls(calls: Mapping[str, int], numbers: Iterable[str]) -> list[str]:
    """I3: none of these numbers was called (their account had no credit)."""
    return [f"{n}: {calls[n]} calls without credit" for n in sorted(set(numbers)) if calls.get(n)]


def check_final_once(accepted: Iterable[str], verdicts: Iterable[Verdict]) -> list[str]:
    """I1: every accepted lead has a final verdict on `lead.verdicts`, and only one.

    Distinct final events for a lead are allowed only if they agree in status
    (a re-emitted final, `after_final`); two final statuses for one lead, or a
    non-final verdict for an attempt after the final one, are violations.
    """
    finals: dict[str, set[str]] = defaultdict(set)
    final_attempt: dict[str, int] = {}
    later: dict[str, int] = {}
    for v in verdicts:
        if v.final:
            finals[v.lead_id].add(v.status)
            final_attempt[v.lead_id] = min(final_attempt.get(v.lead_id, v.attempt), v.attempt)
        else:
            later[v.lead_id] = max(later.get(v.lead_id, 0), v.attempt)
    found = []
    for lead in sorted(set(accepted)):
        if not finals.get(lead):
            found.append(f"{lead}: no final verdict")
        elif len(finals[lead]) > 1:
            found.append(f"{lead}: final verdicts disagree {sorted(finals[lead])}")
        elif later.get(lead, 0) > final_attempt[lead]:
            found.append(f"{lead}: attempt {later[lead]} judged after final {final_attempt[lead]}")
    return found


def check_download_final(rows: Sequence[Mapping[str, str]]) -> list[str]:
    """I1/I6: in a finished batch's download every row is rejected or final."""
    return [
        f"row {i + 1} ({row.get('cleanse_e164') or '?'}): status {row.get('cleanse_status')!r}"
        for i, row in enumerate(rows)
        if row.get("cleanse_status") != "rejected"
        and row.get("cleanse_status") not in FINAL_STATUSES
    ]


def check_counters(samples: Iterable[Mapping[str, Any]]) -> list[str]:
    """I5: at every poll, Accepted = Processed + Remaining, Imported = Accepted + rejected,
    Processed = Connected + Disconnected + Indeterminate, and nothing is negative."""
    found = []
    for s in samples:
        at = f"{s.get('id', '?')}@{s.get('polled_at', '?')}"
        names = (
            *("imported", "accepted", "processed", "remaining"),
            *("connected", "disconnected", "indeterminate", "retry"),
        )
        for name in names:
            if int(s.get(name) or 0) < 0:
                found.append(f"{at}: {name} = {s[name]} < 0")
        accepted, processed, remaining = (
            int(s.get(k) or 0) for k in ("accepted", "processed", "remaining")
        )
        if accepted != processed + remaining:
            found.append(
                f"{at}: accepted {accepted} != processed {processed} + remaining {remaining}"
            )
        imported = int(s.get("imported") or 0)
        rejected = imported - accepted
        if rejected < 0:
            found.append(f"{at}: imported {imported} < accepted {accepted}")
        if "rejected" in s and s["rejected"] is not None and int(s["rejected"]) != rejected:
            found.append(f"{at}: rejected {s['rejected']} != imported - accepted {rejected}")
        judged = sum(int(s.get(k) or 0) for k in ("connected", "disconnected", "indeterminate"))
        if judged != processed:
            found.append(
                f"{at}: connected+disconnected+indeterminate {judged} != processed {processed}"
            )
    return found


def check_terminal(batch: Mapping[str, Any], expected: str) -> list[str]:
    """I6: the batch ended in the expected terminal state, counters closed when finished."""
    found = []
    status = batch.get("status")
    if status != expected:
        found.append(f"{batch.get('id')}: status {status!r}, expected {expected!r}")
    if expected == "finished" and batch.get("remaining") != 0:
        found.append(f"{batch.get('id')}: finished with remaining {batch.get('remaining')}")
    if expected == "failed" and not batch.get("failure_reason"):
        found.append(f"{batch.get('id')}: failed without a reason")
    return found


def chargeable_final(verdicts: Iterable[Verdict], lead_ids: Iterable[str]) -> int:
    """How many of these leads have a final verdict that is chargeable (a lead whose every
    attempt met a trunk fault ends final but free)."""
    wanted = set(lead_ids)
    final: dict[str, Verdict] = {}
    for verdict in verdicts:
        if verdict.final and verdict.lead_id in wanted:
            last = final.get(verdict.lead_id)
            if last is None or verdict.attempt >= last.attempt:
                final[verdict.lead_id] = verdict
    return sum(1 for verdict in final.values() if verdict.chargeable)


def check_charges(
    charged: int, chargeable: int, balances: Iterable[int], granted: int
) -> list[str]:
    """I3/I4: units charged = chargeable final leads; the balance was never below zero
    and ends at granted - charged."""
    found = []
    if charged != chargeable:
        found.append(f"charged {charged} units for {chargeable} chargeable final leads")
    negative = [b for b in balances if b < 0]
    if negative:
        found.append(f"balance below zero at {len(negative)} polls (lowest {min(negative)})")
    seen = list(balances)
    if seen and seen[-1] != granted - charged:
        found.append(f"final balance {seen[-1]} != granted {granted} - charged {charged}")
    return found


def check_mails(subjects: Iterable[str], expected: Mapping[str, int]) -> list[str]:
    """I9: each expected mail (by subject) arrived exactly the expected number of times."""
    counts = Counter(subjects)
    return [
        f"{subject!r}: {counts.get(subject, 0)} mails, expected {n}"
        for subject, n in sorted(expected.items())
        if counts.get(subject, 0) != n
    ]


def check_dead_letters(parked: Mapping[str, int], expected: Mapping[str, int]) -> list[str]:
    """Poison: each `<topic>.dlq` holds at least the poison sent to its topic."""
    return [
        f"{topic}: {parked.get(topic, 0)} parked, expected at least {n}"
        for topic, n in sorted(expected.items())
        if parked.get(topic, 0) < n
    ]


def per_number(counts_by_lead: Mapping[str, int], number_of: Mapping[str, str]) -> dict[str, int]:
    """Sum per-lead counts per E.164 number (two batches may hold the same number)."""
    summed: Counter[str] = Counter()
    for lead, count in counts_by_lead.items():
        if lead in number_of:
            summed[number_of[lead]] += count
    return dict(summed)
