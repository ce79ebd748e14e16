"""The caller ID of each trunk: an E.164 number in the trunks file, required in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lc_common.service import Workers
from lc_common.trunks import parse_trunks, require_caller_ids
from lc_prober.adapters.sip.messages import CallLeg
from lc_prober.bootstrap import build, client_config
from lc_prober.config import ProberSettings

TRUNKS = """
- {name: with-id, host: 127.0.0.1, caller_id: "+61299990000"}
- {name: without, host: 127.0.0.1}
"""


def test_a_caller_id_must_be_e164() -> None:
    (trunk,) = parse_trunks('- {name: a, host: h, caller_id: "+61299990000"}')
    assert trunk.caller_id == "+61299990000"
    for bad in ("0299990000", "+0299990000", "+61 2 9999 0000", "leadcleanser", "+612\r\nX: y"):
        with pytest.raises(ValidationError):
            parse_trunks(f"- {{name: a, host: h, caller_id: {bad!r}}}")


def test_every_trunk_without_a_caller_id_is_named() -> None:
    with pytest.raises(ValueError, match=r"\['without'\]"):
        require_caller_ids(parse_trunks(TRUNKS))
    require_caller_ids(parse_trunks(TRUNKS)[:1])


def production(trunks: Path) -> ProberSettings:
    return ProberSettings(
        trunks_file=trunks,
        environment="production",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="prober",
        kafka_sasl_password="a-password-from-the-secret-store",
    )


async def test_the_prober_refuses_to_start_in_production_without_a_caller_id(
    tmp_path: Path,
) -> None:
    trunks = tmp_path / "trunks.yaml"
    trunks.write_text(TRUNKS)
    with pytest.raises(ValueError, match="caller_id"):
        async with build(production(trunks), Workers()):
            pytest.fail("started without a caller ID on every trunk")


def test_the_caller_id_is_the_from_user_and_the_asserted_identity() -> None:
    (trunk,) = parse_trunks('- {name: a, host: sip.example.net, caller_id: "+61299990000"}')
    config = client_config(trunk, ProberSettings(trunks_file=Path("unused")))
    assert (config.from_user, config.caller_id) == ("+61299990000", "+61299990000")
    (plain,) = parse_trunks("- {name: a, host: sip.example.net}")
    assert client_config(plain, ProberSettings()).caller_id is None


def test_an_invite_carries_p_asserted_identity_only_when_given() -> None:
    leg = CallLeg(
        call_id="c1",
        uri="sip:+61400000001@h:5060",
        from_value="<sip:+61299990000@h>;tag=t",
        to_value="<sip:+61400000001@h:5060>",
        contact_value="<sip:+61299990000@10.0.0.1:5062>",
        sent_by="10.0.0.1:5062",
        transport="UDP",
        user_agent="ua",
        asserted_identity="<sip:+61299990000@h>",
    )
    invite = leg.invite("z9hG4bK1", b"").decode()
    assert "P-Asserted-Identity: <sip:+61299990000@h>\r\n" in invite
    assert "P-Asserted-Identity" not in leg.cancel("z9hG4bK1").decode()
