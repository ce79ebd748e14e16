"""Peers for the whole test session: one broker and one store, chosen once.

Order of choice (samples-python's `--workflow-environment` idea): an address from
the environment (`KAFKA_BOOTSTRAP_SERVERS`, `MONGODB_URI`); else testcontainers
where a Docker engine answers; else the local binaries (Tansu, nx-27017). Each
test then gets its own topic prefix and database, so one broker and one store
serve every test without crosstalk.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The broker address for this session."""
    if address := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield address
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
        return
    from lc_localstack.peers import start_broker

    peer = start_broker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
    yield peer.address
    peer.stop()


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The store address for this session."""
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    if _docker_answers():
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as mongo:
            yield mongo.get_connection_url()
        return
    from lc_localstack.peers import start_store

    peer = start_store(Path(tmp_path_factory.mktemp("store")))
    yield peer.address
    peer.stop()


@pytest.fixture
def isolation() -> dict[str, str]:
    """Environment values that give a test its own topics, consumer groups and database."""
    tag = uuid.uuid4().hex[:10]
    return {"LC_TOPIC_PREFIX": f"t{tag}.", "LC_MONGODB_DATABASE": f"t{tag}"}


@pytest.fixture
def peer_env(kafka_bootstrap: str, mongodb_uri: str, isolation: dict[str, str]) -> dict[str, str]:
    """Everything a service needs in its environment to talk to this session's peers."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "MONGODB_URI": mongodb_uri,
        "LC_ENVIRONMENT": "test",
        **isolation,
    }


@pytest.fixture
def service_env(peer_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Like `peer_env`, and also set in this process's environment for in-process settings."""
    for key, value in peer_env.items():
        monkeypatch.setenv(key, value)
    return peer_env
