"""Kafka plumbing: client security options, topic creation and a typed publisher over aiokafka.

Every aiokafka client of the system (producer, consumer, admin) is built with
`kafka_client_options(settings)`, so all of them reach the broker the same way:
plaintext in development, TLS with SCRAM credentials in production.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from lc_common import kafka_lookups
from lc_common.events.base import Event
from lc_common.events.registry import Topic
from lc_common.metrics import EVENTS_PUBLISHED, TOPICS_RECREATED
from lc_common.settings import ServiceSettings

log = structlog.get_logger(__name__)
kafka_lookups.install()  # a lookup never creates a topic (see the module)


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """The keyword arguments every aiokafka client takes to reach the broker.

    `bootstrap_servers` and `security_protocol` always; with SSL or SASL_SSL an
    `ssl_context` that verifies the broker against `kafka_ssl_cafile` (else the
    system's trust store); with SASL the mechanism, username and password. The
    settings have already refused an incomplete SASL configuration and plaintext
    in production.
    """
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": protocol,
        "metadata_max_age_ms": settings.kafka_metadata_max_age_ms,
    }
    if protocol in ("SSL", "SASL_SSL"):
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        options["ssl_context"] = create_ssl_context(cafile=cafile)
    if protocol in ("SASL_SSL", "SASL_PLAINTEXT"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


@contextlib.asynccontextmanager
async def admin_client(settings: ServiceSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client of the broker, closed on the way out."""
    admin = AIOKafkaAdminClient(**kafka_client_options(settings))
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(settings: ServiceSettings, topics: Iterable[Topic]) -> list[str]:
    """Create the topics (and their dead-letter twins) that do not exist yet; their names."""
    async with admin_client(settings) as admin:
        existing = set(await admin.list_topics())
        wanted: list[NewTopic] = []
        for topic in topics:
            for name, partitions in ((topic.name, topic.partitions), (topic.dlq, 1)):
                full = settings.topic(name)
                if full not in existing:
                    wanted.append(NewTopic(full, num_partitions=partitions, replication_factor=1))
        for new in wanted:
            # Another service may have created it first.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new])
        if wanted:
            log.info("topics_created", topics=[t.name for t in wanted])
        return [t.name for t in wanted]


async def keep_topics(settings: ServiceSettings, topics: Iterable[Topic]) -> None:
    """Recreate, every `topic_check_seconds`, any of the topics that has vanished.

    A broker restarted empty loses every topic, and the local broker (like Kafka with
    `auto.create.topics.enable=false`) creates none on a send: without this, each
    publish would wait out its metadata timeout until the process restarted.
    """
    wanted = list(topics)
    while True:
        await asyncio.sleep(settings.topic_check_seconds)
        await recreate_missing_topics(settings, wanted)


async def recreate_missing_topics(settings: ServiceSettings, topics: Iterable[Topic]) -> None:
    """One look of `keep_topics`: create what is missing; a broker down is logged, not raised."""
    try:
        created = await ensure_topics(settings, topics)
    except Exception as exc:  # the broker is down: look again next time
        log.warning("topic_check_failed", error=repr(exc))
        return
    if created:
        TOPICS_RECREATED.inc(len(created))
        log.warning("topics_recreated", topics=created)


async def missing_topics(settings: ServiceSettings, names: Iterable[str]) -> list[str]:
    """Which of these topics (full names, prefix included) the broker does not have."""
    async with admin_client(settings) as admin:
        existing = set(await admin.list_topics())
    return [name for name in names if name not in existing]


async def partition_count(settings: ServiceSettings, topic: Topic) -> int:
    """How many partitions the topic has on the broker (0 if it does not exist)."""
    async with admin_client(settings) as admin:
        described = await admin.describe_topics([settings.topic(topic.name)])
    for entry in described:
        if entry.get("error_code", 0) == 0:
            return len(entry.get("partitions", []))
    return 0


class Publisher:
    """Sends events as JSON, keyed so that one entity's events stay in order."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(
            **kafka_client_options(settings),
            acks="all",
            enable_idempotence=False,
            linger_ms=5,
            request_timeout_ms=30_000,
        )

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        """The underlying producer, for raw sends such as dead-lettering."""
        return self._producer

    async def publish(self, topic: Topic | str, event: Event, key: str) -> None:
        """Send one event and wait until the broker has it."""
        name = topic.name if isinstance(topic, Topic) else topic
        await self._producer.send_and_wait(
            self._settings.topic(name), event.to_bytes(), key=key.encode()
        )
        EVENTS_PUBLISHED.labels(name).inc()

    async def publish_many(self, topic: Topic | str, events: Iterable[tuple[str, Event]]) -> int:
        """Send many (key, event) pairs, letting the producer batch them; wait for all."""
        name = topic.name if isinstance(topic, Topic) else topic
        full = self._settings.topic(name)
        futures = [
            await self._producer.send(full, event.to_bytes(), key=key.encode())
            for key, event in events
        ]
        if futures:
            await asyncio.gather(*futures)
        EVENTS_PUBLISHED.labels(name).inc(len(futures))
        return len(futures)
