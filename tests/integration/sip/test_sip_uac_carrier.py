"""The UAC against the carrier simulator: every behaviour of its rule set, over UDP and TCP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sip_peers import trunk
from tests.support import until

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_prober.adapters.sip import CallPolicy, SipTimers, SipTrunkClient

pytestmark = [pytest.mark.sip, pytest.mark.timeout(60)]

DEFAULT_RULES = Path(__file__).resolve().parents[3] / "sim" / "carrier" / "rules.yaml"
SIM_TIMERS = SimTimers(t1=0.05, t2=0.4)


def rules(*items: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"rules": list(items), **top}


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_demo_rules_by_last_digit(transport: str) -> None:
    async with CarrierSimulator(DEFAULT_RULES, timers=SIM_TIMERS) as sim:
        policy = CallPolicy(early_media_seconds=3.0)
        async with SipTrunkClient(trunk(sim.port, transport, policy=policy)) as client:
            results = await asyncio.gather(
                *(client.call(f"+6129999000{digit}") for digit in range(10))
            )
        by_digit = {r.number[-1]: r for r in results}
        for digit in "012":
            assert by_digit[digit].codes == (100, 180, 487)
            assert by_digit[digit].ended_by == "cancelled"
        for digit, code in {"3": 404, "4": 410, "5": 486, "6": 480, "8": 503}.items():
            assert (by_digit[digit].ended_by, by_digit[digit].final_code) == ("final", code)
            assert by_digit[digit].q850_cause is None
        sit = by_digit["7"]
        assert sit.codes == (100, 183, 487)
        assert sit.early_media is not None
        assert (sit.early_media.finding, sit.early_media.sit_kind) == ("sit", "intercept")
        assert sit.early_media.listened_ms < 2000
        answered = by_digit["9"]
        assert (answered.ended_by, answered.final_code) == ("answered", 200)
        assert len({r.call_id for r in results}) == 10
        await until(lambda: sim.stats.active == 0)
        assert all(sim.stats.calls[f"+6129999000{d}"] == 1 for d in range(10))
        assert sim.stats.byes == 1
        assert sim.stats.max_concurrent >= 2


async def test_ringback_early_media_is_listened_to_then_cancelled() -> None:
    config = rules({"behaviour": "ring_early_media", "ringback": "us"})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        policy = CallPolicy(early_media_seconds=1.2)
        async with SipTrunkClient(trunk(sim.port, policy=policy)) as client:
            result = await client.call("+61400000001")
    assert result.codes == (100, 183, 487)
    media = result.early_media
    assert media is not None
    assert (media.finding, media.codec) == ("ringback", "PCMU")
    assert 1100 <= media.listened_ms <= 1500
    assert media.packets >= 50


@pytest.mark.parametrize("kind", ["vacant_code", "no_circuit", "reorder"])
async def test_intercept_sit_kinds_over_rtp(kind: str) -> None:
    config = rules({"behaviour": "intercept", "sit_kind": kind})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        client = SipTrunkClient(trunk(sim.port, "tcp"))
        async with client:
            result = await client.call("+61400000007")
    assert result.early_media is not None
    assert (result.early_media.finding, result.early_media.sit_kind) == ("sit", kind)
    assert result.ended_by == "cancelled"


@pytest.mark.parametrize(
    ("rule", "code", "cause"),
    [
        ({"behaviour": "not_found"}, 404, None),
        ({"behaviour": "gone", "reason_q850": 22}, 410, 22),
        ({"behaviour": "busy", "reason_q850": 17, "reason_text": "User busy"}, 486, 17),
        ({"behaviour": "address_incomplete", "reason_q850": 28}, 484, 28),
        ({"behaviour": "unavailable", "reason_q850": 18}, 480, 18),
        ({"behaviour": "unavailable"}, 480, None),
        ({"behaviour": "service_unavailable", "reason_q850": 38}, 503, 38),
        ({"behaviour": "decline"}, 603, None),
        ({"behaviour": "reject", "code": 604, "reason_q850": 1}, 604, 1),
    ],
)
async def test_rejections_with_causes(rule: dict[str, Any], code: int, cause: int | None) -> None:
    async with CarrierSimulator(rules({**rule, "delay_ms": [10, 30]}), timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port)) as client:
            result = await client.call("+61400000002")
        assert (result.ended_by, result.final_code, result.q850_cause) == ("final", code, cause)
        assert result.codes == (100, code)
        await until(lambda: sim.stats.active == 0)
        assert sim.stats.acks == 1


async def test_no_response_ends_at_timer_b() -> None:
    timers = SipTimers(t1=0.02, timer_d=0.2)
    async with CarrierSimulator(rules({"behaviour": "no_response"}), timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port, timers=timers)) as client:
            result = await client.call("+61400000003")
        assert (result.ended_by, result.codes) == ("no_response", ())
        assert 1280 <= result.duration_ms < 1600
        assert sim.stats.invites["+61400000003"] == 7
        assert sim.stats.calls["+61400000003"] == 1


async def test_lost_first_invite_is_retransmitted() -> None:
    config = rules({"behaviour": "not_found", "drop_first_invites": 1})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port)) as client:
            result = await client.call("+61400000004")
        assert (result.final_code, result.codes) == (404, (100, 404))
        assert result.responses[0].at_ms >= 45  # answered only after Timer A fired
        assert sim.stats.invites["+61400000004"] == 2


async def test_flapping_number_fails_then_rings() -> None:
    config = rules({"behaviour": "flapping", "fail_attempts": 2, "fail_codes": [480, 503]})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port)) as client:
            first = await client.call("+61400000005")
            second = await client.call("+61400000005")
            third = await client.call("+61400000005")
            other = await client.call("+61400000006")
        assert (first.final_code, second.final_code) == (480, 503)
        assert third.codes == (100, 180, 487) and third.ended_by == "cancelled"
        assert other.final_code == 480  # attempts are counted per number
        assert sim.stats.calls["+61400000005"] == 3


async def test_channel_limit_answers_503_with_cause_34() -> None:
    config = rules({"behaviour": "ring"}, channels=2)
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port)) as client:
            ringing = [
                asyncio.create_task(client.call(n, policy=CallPolicy(ring_seconds=1.0)))
                for n in ("+61400000010", "+61400000011")
            ]
            await until(lambda: sim.stats.active == 2)
            overflow = await client.call("+61400000012")
            results = await asyncio.gather(*ringing)
        assert (overflow.final_code, overflow.q850_cause) == (503, 34)
        assert overflow.codes == (503,)
        assert all(r.ended_by == "cancelled" for r in results)
        assert sim.stats.max_concurrent == 2
        assert sim.stats.channel_rejects == 1
        await until(lambda: sim.stats.active == 0)


@pytest.mark.parametrize("qop", ["auth", "none"])
@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_digest_auth(qop: str, transport: str) -> None:
    config = rules({"behaviour": "ring"}, auth={"username": "lc", "password": "pw", "qop": qop})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        good = trunk(sim.port, transport, username="lc", password="pw")
        bad = trunk(sim.port, transport, username="lc", password="nope")
        anonymous = trunk(sim.port, transport)
        async with SipTrunkClient(good) as client:
            ok = await client.call("+61400000020")
        async with SipTrunkClient(bad) as client:
            refused = await client.call("+61400000021")
        async with SipTrunkClient(anonymous) as client:
            unauthenticated = await client.call("+61400000022")
        assert ok.codes == (401, 100, 180, 487) and ok.ended_by == "cancelled"
        assert refused.codes == (401, 401) and refused.ended_by == "auth_failed"
        assert unauthenticated.codes == (401,) and unauthenticated.ended_by == "auth_failed"
        assert sim.stats.calls["+61400000020"] == 1  # the authenticated re-send is the same call
        assert sim.stats.max_concurrent == 1  # challenges take no channel


async def test_answer_then_bye() -> None:
    config = rules({"behaviour": "answer", "answer_after_ms": 100})
    async with CarrierSimulator(config, timers=SIM_TIMERS) as sim:
        async with SipTrunkClient(trunk(sim.port, "tcp")) as client:
            result = await client.call("+61400000030", policy=CallPolicy(ring_seconds=5))
        assert result.codes == (100, 180, 200)
        assert (result.ended_by, result.error) == ("answered", None)
        assert result.responses[2].at_ms - result.responses[1].at_ms >= 90
        assert sim.stats.byes == 1
        assert sim.stats.active == 0


async def test_hundreds_of_concurrent_calls_on_one_transport() -> None:
    config = rules(
        {"match": {"suffix": "0"}, "behaviour": "ring", "delay_ms": [0, 200]},
        {"match": {"suffix": "1"}, "behaviour": "answer", "delay_ms": [0, 200]},
        {"match": {"suffix": "2"}, "behaviour": "busy", "delay_ms": [0, 200]},
        {"behaviour": "not_found"},
    )
    numbers = [f"+6140000{i:04d}" for i in range(400)]
    expected = {"0": "cancelled", "1": "answered", "2": "final"}
    async with CarrierSimulator(config) as sim:
        # Default T1: 400 set-ups at once keep one event loop busy for longer than 50 ms.
        client_config = trunk(sim.port, media=False, timers=SipTimers())
        async with SipTrunkClient(client_config) as client:
            results = await asyncio.gather(*(client.call(n) for n in numbers))
        for number, result in zip(numbers, results, strict=True):
            assert result.number == number
            assert result.ended_by == expected.get(number[-1], "final"), result
        assert len({r.call_id for r in results}) == 400
        assert sum(sim.stats.calls.values()) == 400
        # Ringing numbers end with 487; answering ones ring first, so their CANCEL crosses
        # the 200 and they are hung up with BYE. (Requests count retransmissions, which a
        # busy shared event loop can cause.)
        assert sim.stats.responses[487] == 40
        assert sim.stats.cancels >= 80 and sim.stats.byes >= 40
        await until(lambda: sim.stats.active == 0)
