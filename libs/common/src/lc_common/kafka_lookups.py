"""Looking a topic up never creates it: every client's metadata requests say so.

aiokafka (0.14) asks the broker to create every topic it looks up: its
`MetadataRequest` sends `allow_auto_topic_creation=True` unless told otherwise, and
no client option tells it otherwise. Our topics come only from the registry, with
their declared partitions (`ensure_topics`, `keep_topics`); production's broker has
auto-creation off (`deploy/k8s/platform/kafka.yaml`). Tansu, the local broker, cannot
turn it off, and after it restarted empty any client's lookup made the request
and signalling topics anew with Tansu's default of 4 partitions, racing the
services' own creation with 8: the prober's group was then assigned partitions the
topic did not have and produces failed on a topic made twice. So every request a
client of this process builds asks for no auto-creation; a missing topic is
answered "unknown" and waits for `keep_topics` to make it, as in production.

Done by replacing the request class in the two aiokafka modules that build it,
because aiokafka offers no setting; `install()` is idempotent and runs when
`lc_common.kafka` is imported, before any client exists.
"""

from __future__ import annotations

from typing import Any

import aiokafka.admin.client
import aiokafka.client
from aiokafka.protocol.metadata import MetadataRequest


class LookupOnlyMetadataRequest(MetadataRequest):  # type: ignore[misc]
    """A metadata request that never asks the broker to create the topics it names."""

    def __init__(
        self, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None
    ) -> None:
        super().__init__(topics, bool(allow_auto_topic_creation))


def install() -> None:
    """Make aiokafka's clients (and Faust's, built on them) build `LookupOnlyMetadataRequest`."""
    modules: tuple[Any, ...] = (aiokafka.client, aiokafka.admin.client)
    for module in modules:
        module.MetadataRequest = LookupOnlyMetadataRequest
