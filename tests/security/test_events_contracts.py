"""Every topic's model refuses what must never reach a peer, and accepts every example.

Parametrized over the registry (`TOPICS` and a trunk's `probe_requests`) and each
topic's example messages: a new topic, or a new field in an example, is covered
without touching this file. Each hostile message is an example with one field
changed, so the refusal is that field's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from lc_common.events import TOPICS, Topic, probe_requests
from lc_common.events.contract import Example, examples

ALL_TOPICS: list[Topic] = [*TOPICS.values(), probe_requests("alpha")]
ALL_EXAMPLES = [(topic, example) for topic in ALL_TOPICS for example in examples(topic)]

Path = tuple[str | int, ...]

BAD_NUMBERS = {
    "crlf_header": "+61412345670\r\nX-Injected: 1",
    "lf": "+61412345670\n",
    "cr": "+61412345670\r",
    "sip_host": "+61412345670@evil.example",
    "host_and_crlf": "+61412345670@evil.example\r\nX-Injected: 1",
    "space": "+61 412 345 670",
    "trailing_space": "+61412345670 ",
    "leading_space": " +61412345670",
}
BAD_IDS = {
    "space": "bat 01HZX4Q8",
    "slash": "bat/01HZX4Q8",
    "dot_dot_slash": "../bat_01HZX4Q8",
    "crlf": "bat_01HZX4Q8\r\nX: 1",
    "empty": "",
}
TEN_MB = "7" * (10 * 1024 * 1024)


def leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar in a JSON document, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def changed(document: Any, path: Path, value: Any) -> Any:
    """A copy of `document` with the scalar at `path` replaced by `value`."""
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def name_of(path: Path) -> str:
    """The field's own name (the last key on its path)."""
    return next(str(step) for step in reversed(path) if isinstance(step, str))


# A SIP Call-ID is the prober's, not an id we mint: RFC 3261 allows `/` and `@` in it.
SIP_CALL_ID = "call_id"


def is_id(path: Path) -> bool:
    """An identifier we minted: `*_id` fields and trunk names."""
    name = name_of(path)
    return (name.endswith("_id") and name != SIP_CALL_ID) or name in {"trunk", "avoid_trunk"}


def cases(
    select: Any, values: dict[str, Any]
) -> list[Any]:  # pytest params: (topic, example, path, hostile value)
    found = []
    for topic, example in ALL_EXAMPLES:
        for path, value in leaves(json.loads(example.value)):
            if not select(path, value):
                continue
            for label, bad in values.items():
                where = ".".join(str(step) for step in path)
                found.append(
                    pytest.param(topic, example, path, bad, id=f"{example.name}:{where}:{label}")
                )
    return found


def refused(topic: Topic, document: Any) -> bool:
    try:
        topic.model.model_validate_json(json.dumps(document))
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize(("topic", "example"), ALL_EXAMPLES, ids=[e.name for _, e in ALL_EXAMPLES])
def test_every_example_is_accepted(topic: Topic, example: Example) -> None:
    topic.model.model_validate_json(example.value)


@pytest.mark.parametrize(
    ("topic", "example", "path", "bad"), cases(lambda p, v: name_of(p) == "e164", BAD_NUMBERS)
)
def test_a_number_that_is_not_e164_is_refused(
    topic: Topic, example: Example, path: Path, bad: str
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize(("topic", "example", "path", "bad"), cases(lambda p, v: is_id(p), BAD_IDS))
def test_an_id_with_spaces_slashes_or_breaks_is_refused(
    topic: Topic, example: Example, path: Path, bad: str
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize(
    ("topic", "example", "path", "bad"),
    cases(
        lambda p, v: name_of(p) == SIP_CALL_ID and p == ("call_id",),
        {"crlf": "abc@host\r\nX-Injected: 1", "space": "abc def", "empty": ""},
    ),
)
def test_a_sip_call_id_with_a_line_break_is_refused(
    topic: Topic, example: Example, path: Path, bad: str
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize(
    ("topic", "example", "path", "bad"),
    cases(lambda p, v: name_of(p) == "lead_id", {"other_batch": "bat_OTHER:000000042"}),
)
def test_a_lead_not_of_its_batch_is_refused(
    topic: Topic, example: Example, path: Path, bad: str
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize(
    ("topic", "example", "path", "bad"),
    cases(lambda p, v: name_of(p) == "attempt", {"zero": 0, "negative": -1}),
)
def test_an_attempt_below_one_is_refused(
    topic: Topic, example: Example, path: Path, bad: int
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize(
    ("topic", "example", "path", "bad"),
    cases(lambda p, v: isinstance(v, str), {"10MB": TEN_MB}),
)
def test_a_10_mb_string_is_refused_in_every_field(
    topic: Topic, example: Example, path: Path, bad: str
) -> None:
    assert refused(topic, changed(json.loads(example.value), path, bad))


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_topic_is_probed(topic: Topic) -> None:
    """Each topic has examples with ids to corrupt, so the cases above reach it."""
    found = [p for _, e in ALL_EXAMPLES if _ is topic for p, _v in leaves(json.loads(e.value))]
    assert any(is_id(path) for path in found), f"{topic.name} has no example with an id"
