"""The error policy around the handler: dead-lettering, re-keying, publish-then-remember."""

from __future__ import annotations

from typing import Any

import pytest
from classifier_factories import signalling
from prometheus_client import REGISTRY

from lc_classifier.domain import RetryPolicy
from lc_classifier.handlers import SignallingHandler
from lc_classifier.pipeline import SignallingPipeline
from lc_classifier.rules import RuleSet
from lc_common.clock import ManualClock
from lc_common.consumer import dead_letter_headers
from lc_common.events import PROBE_SIGNALLING, LeadVerdictV1, ProbeRetryV1
from lc_common.events.contract import Example, examples


@pytest.fixture
def table() -> dict[str, Any]:
    return {}


@pytest.fixture
def pipeline(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock, table: dict[str, Any]
) -> SignallingPipeline:
    return SignallingPipeline(SignallingHandler(rules, policy, clock, table), group="t.classifier")


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_verdict_and_a_retry_keyed_by_lead(
    pipeline: SignallingPipeline, table: dict[str, Any]
) -> None:
    sig = signalling(480)
    processed = pipeline.process(sig.lead_id.encode(), sig.to_bytes(), partition=1, offset=7)
    topics = [m.topic for m in processed.messages]
    assert topics == ["lead.verdicts", "probe.retries"]
    assert all(m.key == sig.lead_id.encode() for m in processed.messages)
    verdict = LeadVerdictV1.model_validate_json(processed.messages[0].value or b"")
    retry = ProbeRetryV1.model_validate_json(processed.messages[1].value or b"")
    assert (verdict.status, verdict.final, retry.attempt) == ("indeterminate", False, 2)
    # Remembered only once the messages are handed over.
    assert table == {}
    processed.commit()
    assert sig.lead_id in table


def test_a_duplicate_publishes_nothing(pipeline: SignallingPipeline) -> None:
    sig = signalling(180)
    key = sig.lead_id.encode()
    before = _count("lc_classifier_ignored_total", reason="duplicate")
    pipeline.process(key, sig.to_bytes()).commit()
    again = pipeline.process(key, sig.to_bytes())
    again.commit()
    assert again.messages == []
    assert _count("lc_classifier_ignored_total", reason="duplicate") == before + 1


def test_a_call_after_the_final_verdict_publishes_it_again_and_stores_nothing(
    pipeline: SignallingPipeline, table: dict[str, Any]
) -> None:
    first = signalling(180)
    key = first.lead_id.encode()
    pipeline.process(key, first.to_bytes()).commit()
    stored = dict(table)
    before = _count("lc_classifier_final_reemitted_total")
    late = signalling(404, attempt=2)
    processed = pipeline.process(key, late.to_bytes())
    processed.commit()
    [message] = processed.messages
    again = LeadVerdictV1.model_validate_json(message.value or b"")
    assert (message.topic, message.key) == ("lead.verdicts", key)
    assert (again.status, again.final, again.probe_id, again.chargeable) == (
        "connected",
        True,
        late.probe_id,
        True,
    )
    assert table == stored
    assert _count("lc_classifier_final_reemitted_total") == before + 1


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"not json at all", id="garbage"),
        pytest.param(b'{"lead_id": "x"}', id="missing fields"),
        pytest.param(b"\xff\xfe", id="not utf-8"),
        pytest.param(None, id="tombstone"),
    ],
)
def test_an_undecodable_event_is_dead_lettered(
    pipeline: SignallingPipeline, value: bytes | None, table: dict[str, Any]
) -> None:
    before = _count("lc_classifier_dead_lettered_total", reason="undecodable")
    processed = pipeline.process(b"k", value, partition=2, offset=41)
    [dead] = processed.messages
    assert dead.topic == "probe.signalling.dlq"
    assert (dead.key, dead.value) == (b"k", value)
    headers = dict(dead.headers)
    assert headers["lc-dlq-reason"] == b"undecodable"
    assert headers["lc-source-offset"] == b"41"
    assert headers["lc-source-partition"] == b"2"
    assert _count("lc_classifier_dead_lettered_total", reason="undecodable") == before + 1
    processed.commit()
    assert table == {}


def test_dead_letter_headers_are_the_consumer_runners(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    handler = SignallingHandler(rules, policy, clock, {})
    pipeline = SignallingPipeline(handler, group="cls", source_topic="t1.probe.signalling")
    [dead] = pipeline.process(b"k", b"junk", partition=3, offset=7).messages
    reason, detail = dict(dead.headers)["lc-dlq-reason"], dict(dead.headers)["lc-dlq-detail"]
    assert reason == b"undecodable"
    assert dead.headers == dead_letter_headers(
        "undecodable", detail.decode(), "t1.probe.signalling", 3, 7, "cls"
    )


def test_a_handler_failure_is_dead_lettered_not_raised(
    rules: RuleSet, policy: RetryPolicy, clock: ManualClock
) -> None:
    table: dict[str, Any] = {"bat_1:000000001": {"lead_id": 42, "attempts": "broken"}}
    pipeline = SignallingPipeline(SignallingHandler(rules, policy, clock, table), group="g")
    sig = signalling(480)
    [dead] = pipeline.process(sig.lead_id.encode(), sig.to_bytes()).messages
    assert dead.topic == "probe.signalling.dlq"
    assert dict(dead.headers)["lc-dlq-reason"] == b"poison"


def test_an_event_not_keyed_by_its_lead_goes_round_again(
    pipeline: SignallingPipeline, table: dict[str, Any]
) -> None:
    sig = signalling(180)
    processed = pipeline.process(b"something-else", sig.to_bytes())
    [again] = processed.messages
    assert (again.topic, again.key, again.value) == (
        "probe.signalling",
        sig.lead_id.encode(),
        sig.to_bytes(),
    )
    processed.commit()
    assert table == {}


SIGNALLING_EXAMPLES = examples(PROBE_SIGNALLING)


@pytest.mark.parametrize("example", SIGNALLING_EXAMPLES, ids=lambda e: e.name)
def test_every_example_signalling_event_is_understood(
    pipeline: SignallingPipeline, table: dict[str, Any], example: Example
) -> None:
    processed = pipeline.process(example.key, example.value, partition=2, offset=11)
    assert processed.messages, "an example must lead to a verdict or a retry"
    outputs = {m.topic: m for m in processed.messages}
    assert set(outputs) <= {"lead.verdicts", "probe.retries"}
    if "lead.verdicts" in outputs:
        LeadVerdictV1.model_validate_json(outputs["lead.verdicts"].value or b"")
    if "probe.retries" in outputs:
        ProbeRetryV1.model_validate_json(outputs["probe.retries"].value or b"")
    processed.commit()
    assert example.key is not None and example.key.decode() in table


def test_the_examples_cover_every_kind_of_outcome(
    pipeline: SignallingPipeline,
) -> None:
    seen = set()
    # Never committed: each example (all of one lead) is judged on its own.
    for example in SIGNALLING_EXAMPLES:
        for message in pipeline.process(example.key, example.value).messages:
            if message.topic == "lead.verdicts":
                verdict = LeadVerdictV1.model_validate_json(message.value or b"")
                seen.add((verdict.status, verdict.final))
            else:
                seen.add(("retry", ProbeRetryV1.model_validate_json(message.value or b"").reason))
    assert {
        ("connected", True),
        ("disconnected", False),
        ("indeterminate", False),
        ("retry", "trunk_fault"),
        ("retry", "confirm"),
        ("retry", "indeterminate"),
    } <= seen


def test_a_batch_decides_each_lead_in_order_and_dead_letters_in_place(
    pipeline: SignallingPipeline, table: dict[str, Any]
) -> None:
    lead = "bat_1:000000042"
    first = signalling(404, lead_id=lead, attempt=1, trunk="alpha")
    confirm = signalling(404, lead_id=lead, attempt=2, trunk="beta")
    late = signalling(180, lead_id=lead, attempt=3)
    other = signalling(486)
    records = [
        (lead.encode(), first.to_bytes(), 0, 1),
        (b"junk", b"{not json", 0, 2),
        (lead.encode(), confirm.to_bytes(), 0, 3),
        (lead.encode(), first.to_bytes(), 0, 4),  # redelivered within the batch
        (lead.encode(), late.to_bytes(), 0, 5),
        (other.lead_id.encode(), other.to_bytes(), 1, 6),
    ]
    out: list[Any] = []
    assert pipeline.process_batch(records, out) == len(records)
    verdicts = [
        LeadVerdictV1.model_validate_json(m.value) for m in out if m.topic == "lead.verdicts"
    ]
    mine = [v for v in verdicts if v.lead_id == lead]
    # Held for confirmation, confirmed by the second call, re-emitted for the late one.
    assert [(v.attempt, v.status, v.final) for v in mine] == [
        (1, "disconnected", False),
        (2, "disconnected", True),
        (3, "disconnected", True),
    ]
    assert sum(v.final for v in verdicts) == 3
    assert [m.topic for m in out].count(PROBE_SIGNALLING.dlq) == 1
    assert out[2].topic == PROBE_SIGNALLING.dlq  # in place: after the first event's messages
    assert lead in table and other.lead_id in table
    assert mine[1].chargeable and mine[2].chargeable


def test_a_handler_failure_in_a_batch_is_dead_lettered_and_the_batch_goes_on(
    pipeline: SignallingPipeline, table: dict[str, Any]
) -> None:
    broken = signalling(480)
    fine = signalling(486)

    def handle(event: Any, partition: int | None = None) -> Any:
        if event.lead_id == broken.lead_id and event.probe_id == broken.probe_id:
            raise RuntimeError("boom")
        return original(event, partition)

    original = pipeline.handler.handle
    pipeline.handler.handle = handle  # type: ignore[method-assign]
    out: list[Any] = []
    pipeline.process_batch(
        [
            (broken.lead_id.encode(), broken.to_bytes(), 0, 1),
            (fine.lead_id.encode(), fine.to_bytes(), 0, 2),
        ],
        out,
    )
    assert out[0].topic == PROBE_SIGNALLING.dlq
    headers = dict(out[0].headers)
    assert headers == dict(
        dead_letter_headers(
            "poison", "RuntimeError('boom')", "probe.signalling", 0, 1, "t.classifier"
        )
    )
    assert [m.topic for m in out[1:]] == ["lead.verdicts"]
