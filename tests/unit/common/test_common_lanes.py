"""Lane shares: every lane gets a channel and a whole CPS; shares sum to the trunk's limits."""

from __future__ import annotations

import pytest

from lc_common.events import probe_requests
from lc_common.lanes import lane_count, lane_cycle, lane_shares, max_lanes
from lc_common.trunks import Trunk


def trunk(channels: int, cps: float) -> Trunk:
    return Trunk(name="t", host="h", channels=channels, cps=cps)


@pytest.mark.parametrize(
    ("channels", "cps", "configured", "lanes"),
    [
        (200, 50, 8, 8),
        (3, 50, 8, 3),
        (200, 2, 8, 2),
        (200, 0.5, 8, 1),
        (200, 2.9, 8, 2),
        (5, 5, 1, 1),
    ],
)
def test_lane_count_gives_every_lane_a_channel_and_a_whole_cps(
    channels: int, cps: float, configured: int, lanes: int
) -> None:
    assert lane_count(trunk(channels, cps).model_copy(update={"lanes": configured})) == lanes


@pytest.mark.parametrize(("channels", "cps", "lanes"), [(200, 50, 8), (10, 10, 3), (7, 13, 7)])
def test_shares_sum_exactly_to_the_trunk(channels: int, cps: int, lanes: int) -> None:
    shares = lane_shares(trunk(channels, cps), lanes)
    assert [s.lane for s in shares] == list(range(lanes))
    assert sum(s.channels for s in shares) == channels
    assert sum(s.starts for s in shares) == cps
    assert all(s.window_seconds == 1.0 for s in shares)
    assert max(s.channels for s in shares) - min(s.channels for s in shares) <= 1
    assert all(s.channels >= 1 and s.starts >= 1 for s in shares)


def test_shares_are_deterministic() -> None:
    assert lane_shares(trunk(10, 10), 3) == lane_shares(trunk(10, 10), 3)
    assert [s.channels for s in lane_shares(trunk(10, 10), 3)] == [4, 3, 3]


def test_fractional_cps_rounds_down_and_below_one_is_one_slow_lane() -> None:
    assert sum(s.starts for s in lane_shares(trunk(20, 7.5), 4)) == 7
    (slow,) = lane_shares(trunk(20, 0.5), 1)
    assert (slow.starts, slow.window_seconds, slow.cps, slow.channels) == (1, 2.0, 0.5, 20)


def test_more_partitions_than_the_trunk_can_split_is_refused() -> None:
    assert max_lanes(trunk(4, 100)) == 4
    with pytest.raises(ValueError, match="at most 4 lanes"):
        lane_shares(trunk(4, 100), 5)
    with pytest.raises(ValueError, match="at most 1 lanes"):
        lane_shares(trunk(100, 0.5), 2)


def test_the_request_topic_of_a_trunk_has_its_lanes_as_partitions() -> None:
    assert probe_requests(trunk(3, 50)).partitions == 3
    assert probe_requests("t").name == probe_requests(trunk(3, 50)).name


def test_the_lane_cycle_feeds_each_lane_its_share_evenly_spread() -> None:
    shares = lane_shares(trunk(20, 20), 8)  # starts 3, 3, 3, 3, 2, 2, 2, 2
    cycle = lane_cycle(shares)
    assert len(cycle) == 20
    assert [cycle.count(s.lane) for s in shares] == [s.starts for s in shares]
    assert cycle[:8] == list(range(8))  # every lane once before any twice
    assert lane_cycle(lane_shares(trunk(10, 0.5), 1)) == [0]
