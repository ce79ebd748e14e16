"""The real `lc-classifier` on a real broker: signalling in; verdicts, retries, dead letters out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from classifier_support import ClassifierProcess, Topics

from lc_common.events import LeadVerdictV1, ProbeRetryV1, ProbeSignallingV1, SipResponseV1

pytestmark = pytest.mark.kafka


def call(
    lead_id: str,
    probe_id: str,
    *codes: int,
    attempt: int = 1,
    trunk: str = "alpha",
    ended_by: str | None = None,
) -> ProbeSignallingV1:
    final = next((c for c in reversed(codes) if c >= 200), None)
    responses = [SipResponseV1(code=c, reason="", at_ms=50 * i) for i, c in enumerate(codes)]
    if final is None:
        responses.append(SipResponseV1(code=487, reason="Request Terminated", at_ms=900))
    return ProbeSignallingV1(
        account_id="acc_1",
        batch_id=lead_id.split(":")[0],
        lead_id=lead_id,
        probe_id=probe_id,
        e164="+61255501234",
        attempt=attempt,
        trunk=trunk,
        call_id=f"call-{probe_id}",
        started_at=datetime.now(UTC),
        duration_ms=900,
        responses=responses,
        final_code=final or 487,
        ended_by=ended_by or ("final" if final else "cancelled"),
    )


async def send(topics: Topics, *events: ProbeSignallingV1) -> None:
    for event in events:
        await topics.publish(event.to_bytes(), key=event.lead_id.encode())


def verdicts(topics: Topics, lead_id: str) -> list[LeadVerdictV1]:
    found = [LeadVerdictV1.model_validate_json(r.value or b"") for r in topics.of("lead.verdicts")]
    return [v for v in found if v.lead_id == lead_id]


def retries(topics: Topics, lead_id: str) -> list[ProbeRetryV1]:
    found = [ProbeRetryV1.model_validate_json(r.value or b"") for r in topics.of("probe.retries")]
    return [r for r in found if r.lead_id == lead_id]


async def until_metric(
    classifier: ClassifierProcess, name: str, value: float, within: float = 20, **labels: str
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while await classifier.metric(name, **labels) < value:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{name}{labels} never reached {value}")
        await asyncio.sleep(0.1)


RINGS, UNCLEAR, NOT_FOUND, AUTH = (f"bat_it:00000010{i}" for i in range(1, 5))


async def test_signalling_becomes_verdicts_retries_and_dead_letters(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    ringing = call(RINGS, "p-ring", 100, 180)
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        await send(
            topics,
            ringing,
            call(UNCLEAR, "p-480", 100, 480),
            call(NOT_FOUND, "p-404", 100, 404, trunk="alpha"),
            call(AUTH, "p-auth", 407, ended_by="auth_failed", trunk="alpha"),
            ringing,  # redelivered: changes nothing
        )
        await topics.publish(b"\x00 not a signalling event", key=b"junk")

        await topics.wait_for(
            lambda t: (
                len(t.of("lead.verdicts")) >= 3
                and len(t.of("probe.retries")) >= 3
                and len(t.of("probe.signalling.dlq")) >= 1
            ),
            what="3 verdicts, 3 retries, 1 dead letter",
        )
        await until_metric(classifier, "lc_classifier_ignored_total", 1, reason="duplicate")

        [connected] = verdicts(topics, RINGS)
        assert (connected.status, connected.final, connected.attempt) == ("connected", True, 1)
        assert connected.detail == "180 Ringing"
        assert connected.evidence.codes == [100, 180, 487]

        [unclear] = verdicts(topics, UNCLEAR)
        assert (unclear.status, unclear.final) == ("indeterminate", False)
        [again] = retries(topics, UNCLEAR)
        assert (again.reason, again.attempt) == ("indeterminate", 2)
        assert unclear.next_attempt_at == again.not_before

        [doubtful] = verdicts(topics, NOT_FOUND)
        assert (doubtful.status, doubtful.final) == ("disconnected", False)
        [confirm] = retries(topics, NOT_FOUND)
        assert (confirm.reason, confirm.attempt, confirm.avoid_trunk) == ("confirm", 2, "alpha")

        assert verdicts(topics, AUTH) == []
        [fault] = retries(topics, AUTH)
        assert (fault.reason, fault.attempt, fault.avoid_trunk) == ("trunk_fault", 1, "alpha")

        [dead] = topics.of("probe.signalling.dlq")
        assert dead.value == b"\x00 not a signalling event"
        assert dead.headers["lc-dlq-reason"] == b"undecodable"

        # Every output is keyed by its lead.
        for message in topics.of("lead.verdicts") + topics.of("probe.retries"):
            assert message.key in {lead.encode() for lead in (RINGS, UNCLEAR, NOT_FOUND, AUTH)}

    metric = classifier.metric
    assert await metric("lc_classifier_dead_lettered_total", reason="undecodable") == 1
    faults = await metric(
        "lc_classifier_trunk_faults_total", trunk="alpha", rule="trunk-auth-failed"
    )
    assert faults == 1
    assert await metric("lc_classifier_verdicts_total", status="connected", final="true") == 1
    assert (await classifier.get("/healthz")).json() == {"status": "ok"}
    assert (await classifier.get("/readyz")).json() == {"status": "ready"}


async def test_480_480_then_ringing_is_connected_on_the_third_attempt(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    lead = "bat_it:000000007"
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        for attempt in (1, 2):
            await send(topics, call(lead, f"p{attempt}", 100, 480, attempt=attempt))
            await topics.wait_for(lambda t, n=attempt: len(retries(t, lead)) == n)
            assert retries(topics, lead)[-1].attempt == attempt + 1
        await send(topics, call(lead, "p3", 100, 180, attempt=3))
        await topics.wait_for(lambda t: any(v.final for v in verdicts(t, lead)))
        # Anything later for this lead changes nothing: it is answered with the final verdict.
        await send(topics, call(lead, "p4", 100, 404, attempt=4))
        await until_metric(classifier, "lc_classifier_ignored_total", 1, reason="after_final")
        await topics.wait_for(lambda t: len(verdicts(t, lead)) == 4)

    seen = verdicts(topics, lead)
    assert [(v.attempt, v.status, v.final, v.chargeable) for v in seen] == [
        (1, "indeterminate", False, False),
        (2, "indeterminate", False, False),
        (3, "connected", True, True),
        (4, "connected", True, True),
    ]
    assert seen[3].probe_id == "p4" and seen[3].detail == seen[2].detail


async def test_the_attempt_history_survives_a_restart(
    classifier: ClassifierProcess, kafka_bootstrap: str, isolation: dict[str, str]
) -> None:
    lead = "bat_it:000000042"
    first = call(lead, "p1", 100, 404, trunk="alpha")
    async with Topics(kafka_bootstrap, isolation["LC_TOPIC_PREFIX"]) as topics:
        await send(topics, first)
        await topics.wait_for(lambda t: len(retries(t, lead)) == 1)

        assert classifier.stop() == 0
        classifier.start()  # a fresh process and data dir: the table comes from its changelog

        await send(topics, first)  # redelivered after the restart
        await until_metric(classifier, "lc_classifier_ignored_total", 1, reason="duplicate")
        await send(topics, call(lead, "p2", 100, 404, attempt=2, trunk="beta"))
        await topics.wait_for(lambda t: any(v.final for v in verdicts(t, lead)))

    seen = verdicts(topics, lead)
    assert [(v.attempt, v.status, v.final) for v in seen] == [
        (1, "disconnected", False),
        (2, "disconnected", True),
    ]
    assert seen[-1].detail == "SIP 404 Not Found (confirmed)"


async def test_a_lost_changelog_ends_the_worker_and_a_fresh_one_declares_it(
    classifier_env: dict[str, str], kafka_bootstrap: str, tmp_path: Path
) -> None:
    # As after a broker restarted empty: Faust declares its changelog only at start,
    # so the worker ends and its supervisor's fresh one declares it again.
    process = ClassifierProcess({**classifier_env, "LC_TOPIC_CHECK_SECONDS": "1"}, tmp_path)
    process.start()
    changelog = f"{classifier_env['LC_TOPIC_PREFIX']}classifier-lead_history-changelog"
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            assert changelog in await admin.list_topics()
            await admin.delete_topics([changelog])
            code = await asyncio.to_thread(process.wait, 60)
            assert code not in (0, None), process.log()
            assert "changelog_lost" in process.log()
            process.start()
            assert changelog in await admin.list_topics()
        finally:
            await admin.close()
    finally:
        process.stop()
