"""Building the requests of a test call and reading responses, checked by parsing them back."""

from __future__ import annotations

from sipmessage import Message, Request, Response

from lc_prober.sip.messages import (
    CallLeg,
    address_value,
    cseq_parts,
    has_sdp,
    new_branch,
    request_uri,
    top_via_branch,
)


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


def response_to(
    req: Request, code: int, *, contact: str | None = None, record_route: list[str] | None = None
) -> Response:
    resp = Response(code, "X")
    for name in ("Via", "From", "Call-ID", "CSeq"):
        resp.headers.add(name, req.headers[name])
    resp.headers.add("To", req.headers["To"] + ";tag=totag")
    if contact:
        resp.headers.add("Contact", contact)
    for route in record_route or []:
        resp.headers.add("Record-Route", route)
    parsed = Message.parse(bytes(resp))
    assert isinstance(parsed, Response)
    return parsed


def test_request_uri_keeps_or_strips_the_plus() -> None:
    assert str(request_uri("+6121", "h", 5060, keep_plus=True, tcp=False)) == "sip:+6121@h:5060"
    assert str(request_uri("+6121", "h", 5070, keep_plus=False, tcp=True)) == (
        "sip:6121@h:5070;transport=tcp"
    )


def test_invite_is_well_formed() -> None:
    branch = new_branch()
    sdp = b"v=0\r\n"
    req = parse_request(bytes(leg().invite(branch, sdp, extra=(("X-Test", "1"),))))
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
    assert has_sdp(req)
    assert req.headers["X-Test"] == "1"


def test_ack_of_failure_reuses_branch_and_takes_to_tag() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(bytes(call.invite(branch, b"")))
    ack = parse_request(bytes(call.ack_for_failure(branch, response_to(invite, 486))))
    assert ack.method == "ACK"
    assert str(ack.uri) == str(invite.uri)
    assert top_via_branch(ack) == branch
    assert ack.to_address.parameters["tag"] == "totag"
    assert cseq_parts(ack) == (1, "ACK")


def test_cancel_matches_the_invite() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(bytes(call.invite(branch, b"")))
    cancel = parse_request(bytes(call.cancel(branch)))
    assert cancel.method == "CANCEL"
    assert str(cancel.uri) == str(invite.uri)
    assert top_via_branch(cancel) == branch
    assert cancel.headers["To"] == invite.headers["To"]
    assert cancel.headers["From"] == invite.headers["From"]
    assert cseq_parts(cancel) == (1, "CANCEL")


def test_ack_and_bye_of_2xx_go_to_the_remote_target_with_route_set() -> None:
    call = leg()
    branch = new_branch()
    invite = parse_request(bytes(call.invite(branch, b"")))
    ok = response_to(
        invite,
        200,
        contact="<sip:gw@198.51.100.7:5080>",
        record_route=["<sip:p1.example;lr>", "<sip:p2.example;lr>"],
    )
    ack = parse_request(bytes(call.ack_for_success(ok)))
    bye = parse_request(bytes(call.bye(ok)))
    assert str(ack.uri) == "sip:gw@198.51.100.7:5080"
    assert top_via_branch(ack) != branch
    assert cseq_parts(ack) == (1, "ACK")
    assert cseq_parts(bye) == (2, "BYE")
    assert top_via_branch(bye) not in (branch, top_via_branch(ack))
    assert [str(r.uri) for r in bye.route] == ["sip:p2.example;lr", "sip:p1.example;lr"]
    assert bye.to_address.parameters["tag"] == "totag"
