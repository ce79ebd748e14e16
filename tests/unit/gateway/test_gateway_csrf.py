"""CSRF tokens: one per session, compared exactly."""

from __future__ import annotations

from typing import Any

from lc_gateway.edge import csrf


def test_a_session_gets_one_token_that_stays() -> None:
    session: dict[str, Any] = {}
    token = csrf.session_token(session)
    assert len(token) >= 40
    assert csrf.session_token(session) == token
    assert csrf.session_token({}) != token


def test_only_the_sessions_own_token_is_valid() -> None:
    session: dict[str, Any] = {}
    token = csrf.session_token(session)
    assert csrf.token_valid(session, token)
    assert not csrf.token_valid(session, token[:-1])
    assert not csrf.token_valid(session, csrf.new_token())
    assert not csrf.token_valid(session, "")
    assert not csrf.token_valid(session, None)


def test_a_session_without_a_token_accepts_nothing() -> None:
    assert not csrf.token_valid({}, "")
    assert not csrf.token_valid({}, "anything")
    assert not csrf.token_valid({"csrf": ""}, "")
