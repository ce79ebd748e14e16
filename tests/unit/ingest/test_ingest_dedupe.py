"""DuplicateDetector: E.164 identity across formats, first-row memory, growth."""

from __future__ import annotations

import random

import pytest

from lc_ingest.domain import Accepted, DuplicateDetector, check_number


def _e164(raw: str) -> str:
    result = check_number(raw)
    assert isinstance(result, Accepted)
    return result.e164


def test_one_number_in_different_formats_is_a_duplicate_of_the_first_row() -> None:
    seen = DuplicateDetector()
    rows = ["0412 345 678", "+61412345678", "61 412 345 678", "0061 412-345-678", "0412345679"]
    firsts = [seen.first_seen(_e164(raw), row) for row, raw in enumerate(rows, start=1)]
    assert firsts == [None, 1, 1, 1, None]
    assert len(seen) == 2
    assert "+61412345678" in seen
    assert "+61412345670" not in seen
    assert 61412345678 not in seen  # only E.164 strings are members


@pytest.mark.parametrize("bad", ["0412345678", "+0412345678", "+61 412", "", "+1234567890123456"])
def test_non_e164_input_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        DuplicateDetector().first_seen(bad, 1)


@pytest.mark.parametrize("expected", [0, 5_000])
def test_matches_a_set_through_many_growths(expected: int) -> None:
    rng = random.Random(7)
    numbers = [f"+614{rng.randrange(10**8):08d}" for _ in range(20_000)]
    numbers += rng.sample(numbers, 5_000)  # guaranteed repeats
    seen = DuplicateDetector(expected=expected)
    reference: dict[str, int] = {}
    for row, number in enumerate(numbers, start=1):
        assert seen.first_seen(number, row) == reference.get(number)
        reference.setdefault(number, row)
    assert len(seen) == len(reference)
    assert all(number in seen for number in reference)


def test_longest_e164_numbers_fit() -> None:
    seen = DuplicateDetector()
    longest = "+999999999999999"
    assert seen.first_seen(longest, 3) is None
    assert seen.first_seen(longest, 9) == 3
