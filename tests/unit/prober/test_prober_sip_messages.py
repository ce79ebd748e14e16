"""Building the requests of a test call, checked by parsing them back with sipmessage."""

from __future__ import annotations

import pytest
from sipmessage import Message, Request, Response

from lc_prober.adapters.sip.messages import (
    CallLeg,
    address_value,
    new_branch,
    new_tag,
    random_hex,
    request_uri,
)
from lc_sip.headers import via_branch
from lc_sip.message import SipResponse, parse_message
from lc_sip.safety import UnsafeSipValue


def leg() -> CallLeg:
    return CallLeg(
        call_id="abc@192.0.2.1",
        uri=request_uri("+61212345678", "trunk.example", 5060, keep_plus=True, tcp=False),
        from_value=address_value("lc", "trunk.example", tag="ftag", display="Lead Cleanser"),
        to_value=address_value("+61212345678", "trunk.example", 5060),
        contact_value=address_value("lc", "192.0.2.1", 5099),
        sent_by="192.0.2.1:5099",
        transport="UDP",
        user_agent="test-ua",
    )


def parse_request(data: bytes) -> Request:
    message = Message.parse(data)
    assert isinstance(message, Request)
    return message


def top_via_branch(req: Request) -> str | None:
    return via_branch(req.headers["Via"])


def cseq_parts(req: Request) -> tuple[int, str]:
    return req.cseq.sequence, req.cseq.method


def response_to(
    req: Request, code: int, *, contact: str | None = None, record_route: list[str] | None = None
) -> SipResponse:
    resp = Response(code, "X")
    for name in ("Via", "From", "Call-ID", "CSeq"):
        resp.headers.add(name, req.headers[name])
    resp.headers.add("To", req.headers["To"] + ";tag=totag")
    if contact:
        resp.headers.add("Contact", contact)
    for route in record_route or []:
        resp.headers.add("Record-Route", route)
    parsed = parse_message(bytes(resp))
    assert isinstance(parsed, SipResponse)
    return parsed


def test_request_uri_keeps_or_strips_the_plus() -> None:
    assert request_uri("+61212345678", "h", 5060, keep_plus=True, tcp=False) == (
        "sip:+61212345678@h:5060"
    )
    assert request_uri("+61212345678", "h", 5070, keep_plus=False, tcp=True) == (
        "sip:61212345678@h:5070;transport=tcp"
    )


def test_address_values_quote_the_display_name() -> None:
    value = address_value("lc", "h", 5070, display='Lead "LC" Cleanser', tag="t1", transport="tcp")
    assert value == '"Lead \\"LC\\" Cleanser" <sip:lc@h:5070;transport=tcp>;tag=t1'
    parsed = parse_request(
        f"OPTIONS sip:x@h SIP/2.0\r\nFrom: {value}\r\nContent-Length: 0\r\n\r\n".encode()
    )
    assert parsed.from_address.name == 'Lead "LC" Cleanser'
    assert parsed.from_address.parameters["tag"] == "t1"
    assert address_value("lc", "h") == "<sip:lc@h>"


def test_invite_is_well_formed() -> None:
    branch = new_branch()
    sdp = b"v=0\r\n"
    req = parse_request(leg().invite(branch, sdp, extra=(("X-Test", "1"),)))
    assert req.method == "INVITE"
    assert str(req.uri) == "sip:+61212345678@trunk.example:5060"
    assert branch.startswith("z9hG4bK")
    assert top_via_branch(req) == branch
    assert req.via[0].host == "192.0.2.1" and req.via[0].port == 5099
    assert req.from_address.parameters["tag"] == "ftag"
    assert req.from_address.name == "Lead Cleanser"
    assert "tag" not in req.to_address.parameters
    assert cseq_parts(req) == (1, "INVITE")
    assert req.max_forwards == 70
    assert req.contact[0].uri.port == 5099
    assert req.content_length == len(sdp) and req.body == sdp
    assert str(req.content_type) == "application/sdp"
    assert req.headers["X-Test"] == "1"


def test_ack_of_failure_reuses_branch_and_takes_to_tag() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(call.invite(branch, b""))
    ack = parse_request(call.ack_for_failure(branch, response_to(invite, 486)))
    assert ack.method == "ACK"
    assert str(ack.uri) == str(invite.uri)
    assert top_via_branch(ack) == branch
    assert ack.to_address.parameters["tag"] == "totag"
    assert cseq_parts(ack) == (1, "ACK")
    assert ack.content_length == 0 and ack.headers.get("Content-Type") is None


def test_cancel_matches_the_invite() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(call.invite(branch, b""))
    cancel = parse_request(call.cancel(branch))
    assert cancel.method == "CANCEL"
    assert str(cancel.uri) == str(invite.uri)
    assert top_via_branch(cancel) == branch
    assert cancel.headers["To"] == invite.headers["To"]
    assert cancel.headers["From"] == invite.headers["From"]
    assert cseq_parts(cancel) == (1, "CANCEL")


def test_ack_and_bye_of_2xx_go_to_the_remote_target_with_route_set() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(call.invite(branch, b""))
    ok = response_to(
        invite,
        200,
        contact="<sip:gw@198.51.100.7:5080>",
        record_route=["<sip:p1.example;lr>", "<sip:p2.example;lr>"],
    )
    ack_branch, bye_branch = new_branch(), new_branch()
    ack = parse_request(call.ack_for_success(ok, ack_branch))
    bye = parse_request(call.bye(ok, bye_branch))
    assert str(ack.uri) == "sip:gw@198.51.100.7:5080"
    assert top_via_branch(ack) == ack_branch != branch
    assert cseq_parts(ack) == (1, "ACK")
    assert cseq_parts(bye) == (2, "BYE")
    assert top_via_branch(bye) == bye_branch
    assert [str(r.uri) for r in bye.route] == ["sip:p2.example;lr", "sip:p1.example;lr"]
    assert bye.to_address.parameters["tag"] == "totag"


def test_route_set_from_one_comma_separated_record_route_and_a_named_contact() -> None:
    call = leg()
    invite = parse_request(call.invite(new_branch(), b""))
    ok = response_to(
        invite,
        200,
        contact='"Gate, way" <sip:gw@198.51.100.7:5080;transport=udp>;expires=60',
        record_route=["<sip:p1.example;lr>, <sip:p2.example;lr>", "<sip:p3.example;lr>"],
    )
    bye = parse_request(call.bye(ok, new_branch()))
    assert str(bye.uri) == "sip:gw@198.51.100.7:5080;transport=udp"
    assert [str(r.uri) for r in bye.route] == [
        "sip:p3.example;lr",
        "sip:p2.example;lr",
        "sip:p1.example;lr",
    ]


def test_in_dialog_request_without_contact_goes_to_the_request_uri() -> None:
    call = leg()
    invite = parse_request(call.invite(new_branch(), b""))
    bye = parse_request(call.bye(response_to(invite, 200), new_branch()))
    assert str(bye.uri) == str(invite.uri)
    assert bye.headers.get("Route") is None


def test_random_hex_is_fresh_across_buffer_refills() -> None:
    tokens = [random_hex(12) for _ in range(1000)]  # 12 kB: the 4 kB buffer refills
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) == 24 and int(t, 16) >= 0 for t in tokens)
    assert len(new_branch()) == len("z9hG4bK") + 16 and len(new_tag()) == 12


@pytest.mark.parametrize("number", ["61212345678", "+6121", "+61212345678@evil", "+612\r\nX: y"])
def test_no_request_uri_for_a_number_that_is_not_e164(number: str) -> None:
    with pytest.raises(UnsafeSipValue):
        request_uri(number, "h", 5060, keep_plus=True, tcp=False)


def test_no_call_leg_with_a_line_break_in_a_header_value() -> None:
    with pytest.raises(UnsafeSipValue, match="from_value"):
        CallLeg(
            call_id="abc@192.0.2.1",
            uri="sip:+61212345678@trunk.example",
            from_value=address_value("lc", "trunk.example", display="LC\r\nX-Evil: 1"),
            to_value=address_value("+61212345678", "trunk.example"),
            contact_value=address_value("lc", "192.0.2.1", 5099),
            sent_by="192.0.2.1:5099",
            transport="UDP",
            user_agent="test-ua",
        )


def test_no_invite_with_a_line_break_in_an_added_header() -> None:
    with pytest.raises(UnsafeSipValue, match="Authorization"):
        leg().invite(new_branch(), b"", extra=(("Authorization", "Digest a\r\nVia: x"),))
