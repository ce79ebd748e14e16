"""Whole leads through the real process: retries to the end, tones confirmed elsewhere, poison."""

from __future__ import annotations

import pytest
from classifier_support import ClassifierProcess, Topics
from test_classifier_service import call, retries, send, until_metric, verdicts

from lc_common.events import EarlyMediaV1, ProbeSignallingV1

pytestmark = pytest.mark.kafka


def tones(
    lead_id: str, probe_id: str, *, attempt: int = 1, trunk: str = "alpha"
) -> ProbeSignallingV1:
    """183 with intercept tones in the early media, then our CANCEL."""
    heard = EarlyMediaV1(
        listened_ms=3000, packets=150, codec="PCMU", finding="sit", sit_kind="intercept"
    )
    event = call(lead_id, probe_id, 100, 183, attempt=attempt, trunk=trunk)
    return event.model_copy(update={"early_media": heard})


async def test_indeterminate_to_the_end_is_decided_final_exactly_once(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    lead = "bat_it:000000480"
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        for attempt in range(1, 6):
            code = 480 if attempt % 2 else 503
            await send(topics, call(lead, f"p{attempt}", 100, code, attempt=attempt))
            await topics.wait_for(
                lambda t, n=attempt: len(verdicts(t, lead)) == n, what=f"verdict {attempt}"
            )
        last = call(lead, "p5", 100, 480, attempt=5)
        await send(topics, last)  # redelivered
        await send(topics, call(lead, "p6", 100, 180, attempt=6))  # after the final verdict
        await until_metric(classifier, "lc_classifier_ignored_total", 1, reason="after_final")
        await until_metric(classifier, "lc_classifier_ignored_total", 1, reason="duplicate")
        await topics.wait_for(lambda t: len(verdicts(t, lead)) == 6, what="the final again")

    seen = verdicts(topics, lead)
    assert [(v.attempt, v.status, v.final) for v in seen] == [
        (1, "indeterminate", False),
        (2, "indeterminate", False),
        (3, "indeterminate", False),
        (4, "indeterminate", False),
        (5, "indeterminate", True),
        (6, "indeterminate", True),  # the final verdict again, for the late call p6
    ]
    decided, again = seen[4], seen[5]
    assert decided.detail.endswith("(after 5 attempts)")
    assert decided.next_attempt_at is None
    assert decided.chargeable  # the calls reached the network
    assert (again.probe_id, again.detail, again.chargeable) == ("p6", decided.detail, True)
    assert await classifier.metric("lc_classifier_final_reemitted_total") == 1
    assert [(r.attempt, r.reason) for r in retries(topics, lead)] == [
        (2, "indeterminate"),
        (3, "indeterminate"),
        (4, "indeterminate"),
        (5, "indeterminate"),
    ]
    final = await classifier.metric(
        "lc_classifier_verdicts_total", status="indeterminate", final="true"
    )
    assert final == 1


async def test_a_tones_only_disconnect_is_confirmed_on_another_trunk(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    lead = "bat_it:000000555"
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        await send(topics, tones(lead, "p1", trunk="alpha"))
        await topics.wait_for(lambda t: len(retries(t, lead)) == 1)
        [confirm] = retries(topics, lead)
        assert (confirm.reason, confirm.attempt, confirm.avoid_trunk) == ("confirm", 2, "alpha")
        # The scheduler honours avoid_trunk: the confirmation comes over beta.
        await send(topics, tones(lead, "p2", attempt=2, trunk="beta"))
        await topics.wait_for(lambda t: any(v.final for v in verdicts(t, lead)))

    first, second = verdicts(topics, lead)
    assert (first.status, first.final, first.evidence.trunk) == ("disconnected", False, "alpha")
    assert (second.status, second.final, second.evidence.trunk) == ("disconnected", True, "beta")
    assert second.detail == "intercept tones (confirmed)"
    assert second.confidence > first.confidence
    assert second.evidence.early_media == "sit"


async def test_a_poison_event_is_parked_logged_counted_and_the_stream_goes_on(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    before = call("bat_it:000000601", "p-before", 100, 180)
    after = call("bat_it:000000602", "p-after", 100, 180)
    poison = b'{"schema_version": 1, "lead_id": "bat_it:000000600", "attempt": "first"}'
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        await send(topics, before)
        await topics.publish(poison, key=b"bat_it:000000600")
        await send(topics, after)
        await topics.wait_for(
            lambda t: len(t.of("lead.verdicts")) == 2 and len(t.of("probe.signalling.dlq")) == 1
        )

    [dead] = topics.of("probe.signalling.dlq")
    assert (dead.key, dead.value) == (b"bat_it:000000600", poison)
    assert dead.headers["lc-dlq-reason"] == b"undecodable"
    # The consumer runner's headers: the source topic as the broker names it.
    source = isolation["LC_TOPIC_PREFIX"] + "probe.signalling"
    assert dead.headers["lc-source-topic"] == source.encode()
    assert int(dead.headers["lc-source-offset"]) >= 0
    assert len(verdicts(topics, before.lead_id)) == len(verdicts(topics, after.lead_id)) == 1
    assert await classifier.metric("lc_classifier_dead_lettered_total", reason="undecodable") == 1
    assert (
        await classifier.metric(
            "lc_events_dead_lettered_total", topic="probe.signalling", reason="undecodable"
        )
        == 1
    )
    logged = [line for line in classifier.log().splitlines() if "event_dead_lettered" in line]
    assert len(logged) == 1 and '"reason": "undecodable"' in logged[0]
    assert (await classifier.get("/healthz")).json() == {"status": "ok"}
