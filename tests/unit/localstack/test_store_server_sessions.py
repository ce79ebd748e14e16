"""Which sessions a closed connection orphans: those no open connection still carries."""

from __future__ import annotations

from bson import Binary

from lc_localstack.store_server import SessionConnections, session_of


def test_a_session_is_orphaned_when_its_last_connection_closes() -> None:
    carriers = SessionConnections()
    carriers.carried("c1", "s1")
    carriers.carried("c2", "s1")
    carriers.carried("c2", "s2")
    assert carriers.closed("c1") == []
    assert sorted(carriers.closed("c2")) == ["s1", "s2"]
    assert carriers.closed("c2") == []


def test_a_connection_that_carried_nothing_orphans_nothing() -> None:
    assert SessionConnections().closed("c9") == []


def test_session_of_reads_the_lsid_of_the_body() -> None:
    lsid = {"id": Binary(bytes(range(16)), 4)}
    msg = {"sections": [("body", {"insert": "charges", "lsid": lsid})]}
    assert session_of(msg) == bytes(range(16)).hex()
    assert session_of({"sections": [("body", {"ping": 1})]}) is None
    assert session_of({"sections": []}) is None
