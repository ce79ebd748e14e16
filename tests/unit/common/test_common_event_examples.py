"""Every topic has example messages, and its model accepts each of them as written."""

from __future__ import annotations

import json

import pytest

from lc_common.events import TOPICS, Topic, probe_requests
from lc_common.events.contract import EXAMPLES, Example, examples, examples_folder

ALL_TOPICS: list[Topic] = [*TOPICS.values(), probe_requests("alpha")]
ALL_EXAMPLES = [(topic, example) for topic in ALL_TOPICS for example in examples(topic)]


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_topic_has_examples(topic: Topic) -> None:
    assert examples(topic), f"no examples in {examples_folder(topic)}"


def test_every_example_folder_is_a_topic() -> None:
    known = {examples_folder(topic).name for topic in ALL_TOPICS}
    assert {path.name for path in EXAMPLES.iterdir() if path.is_dir()} == known


@pytest.mark.parametrize(("topic", "example"), ALL_EXAMPLES, ids=[e.name for _, e in ALL_EXAMPLES])
def test_the_topic_model_accepts_the_example(topic: Topic, example: Example) -> None:
    event = topic.model.model_validate_json(example.value)
    # Kept in the folder of its schema version, and keyed as the topic is.
    assert example.path.parent.name == str(event.schema_version)
    assert example.key == str(getattr(event, topic.key)).encode()
    # Nothing in the example is unknown to the model (extra fields would be dropped silently).
    written = json.loads(example.value)
    dumped = json.loads(event.model_dump_json())
    assert _keys(written) <= _keys(dumped)
    # And what the model writes, it reads back the same.
    assert topic.model.model_validate_json(event.to_bytes()) == event


def _keys(value: object, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {k for key, v in value.items() for k in {prefix + key} | _keys(v, f"{prefix}{key}.")}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item, prefix)}
    return set()
