"""Example messages of every topic, for contract tests (sentry-kafka-schemas' `examples/`).

`examples/<topic>/<schema version>/<name>.json` holds messages as a producer
writes them. Each topic's model must accept its examples, and each consumer's
handler must accept every example of its input topics (see the services'
contract tests). Request topics of all trunks share `probe.requests`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lc_common.events.registry import PROBE_REQUESTS_PREFIX, Topic

EXAMPLES = Path(__file__).parent / "examples"


@dataclass(frozen=True)
class Example:
    """One example message: where it is kept, its key as the topic keys it, its raw value."""

    path: Path
    key: bytes | None
    value: bytes

    @property
    def name(self) -> str:
        """`<topic>/<version>/<name>`, for test ids."""
        return str(self.path.relative_to(EXAMPLES).with_suffix(""))


def examples_folder(topic: Topic) -> Path:
    """Where a topic's examples are kept."""
    name = topic.name
    if name.startswith(PROBE_REQUESTS_PREFIX):
        name = PROBE_REQUESTS_PREFIX.rstrip(".")
    return EXAMPLES / name


def examples(topic: Topic) -> list[Example]:
    """Every example message of a topic, in name order (none: an empty list)."""
    found = []
    for path in sorted(examples_folder(topic).glob("*/*.json")):
        value = path.read_bytes()
        key = json.loads(value).get(topic.key)
        found.append(Example(path, str(key).encode() if key is not None else None, value))
    return found
