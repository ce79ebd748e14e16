"""Reason header parsing (RFC 3326)."""

from __future__ import annotations

from lc_prober.adapters.sip.reason import parse_reason, q850_cause, sip_cause


def test_single_q850() -> None:
    reasons = parse_reason('Q.850;cause=16;text="Normal call clearing"')
    assert len(reasons) == 1
    assert reasons[0].protocol == "Q.850"
    assert reasons[0].cause == 16
    assert reasons[0].text == "Normal call clearing"
    assert q850_cause(reasons) == 16


def test_several_values_with_commas_and_semicolons_in_text() -> None:
    reasons = parse_reason(
        'SIP;cause=480;text="Temporarily, unavailable; try later", Q.850 ; cause = 18 ;text="x"'
    )
    assert [r.protocol for r in reasons] == ["SIP", "Q.850"]
    assert reasons[0].text == "Temporarily, unavailable; try later"
    assert q850_cause(reasons) == 18
    assert sip_cause(reasons) == 480


def test_several_header_lines_and_case() -> None:
    reasons = parse_reason(["q.850;cause=1", 'SIP;cause=404;text="Not Found"'])
    assert q850_cause(reasons) == 1
    assert sip_cause(reasons) == 404


def test_escaped_quote_in_text() -> None:
    reasons = parse_reason(r'Q.850;cause=21;text="call \"rejected\", sorry"')
    assert reasons[0].text == 'call "rejected", sorry'
    assert reasons[0].cause == 21


def test_malformed_values_are_skipped_not_raised() -> None:
    reasons = parse_reason("Q.850;cause=abc, ;cause=3, SIP")
    assert q850_cause(reasons) is None
    assert [r.protocol for r in reasons] == ["Q.850", "SIP"]
    assert parse_reason("") == []
