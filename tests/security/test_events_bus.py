"""A number built to inject SIP headers never reaches the trunk: the prober parks it.

A raw probe request whose `e164` carries a SIP host and a CR/LF header, published on
`probe.requests.<trunk>` as a hostile producer would, is dead-lettered as
undecodable; the carrier simulator never sees an INVITE for it, and the next good
request is still dialled.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tests.support import until

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "prober"))
from prober_support import (
    TopicReader,
    lead_ids,
    publish,
    request,
    running_prober,
    write_trunks,
)

from lc_carrier_sim import CarrierSimulator, SimTimers
from lc_common.events import PROBE_SIGNALLING
from lc_common.kafka import Publisher
from lc_prober.config import ProberSettings

pytestmark = [pytest.mark.kafka, pytest.mark.sip, pytest.mark.timeout(120)]

INJECTED = "+61412345670@evil.example\r\nX-Injected: 1"
RING = {"rules": [{"behaviour": "ring", "delay_ms": [0, 20]}]}


async def test_a_request_with_an_injected_number_is_parked_never_dialled(
    service_env: dict[str, str], tmp_path: Path
) -> None:
    async with CarrierSimulator(RING, timers=SimTimers(t1=0.05, t2=0.4)) as sim:
        trunks = write_trunks(tmp_path / "trunks.yaml", sim.port, channels=2, cps=50)
        settings = ProberSettings(
            trunks_file=trunks, sip_bind_host="127.0.0.1", early_media_seconds=1.0
        )
        hostile = json.loads(request(0).to_bytes())
        hostile["e164"] = INJECTED
        raw = json.dumps(hostile).encode()
        async with running_prober(settings) as runtime:
            await until(lambda: bool(runtime.lanes["sim"].owned), within=60)
            async with (
                TopicReader(settings, PROBE_SIGNALLING.name) as signalling,
                TopicReader(settings, "probe.requests.sim.dlq") as dlq,
            ):
                publisher = Publisher(settings)
                await publisher.start()
                try:
                    await publisher.producer.send_and_wait(
                        settings.topic("probe.requests.sim"), raw, key=hostile["lead_id"].encode()
                    )
                finally:
                    await publisher.stop()
                # The same lane's next good request is dialled: the prober went on.
                await publish(settings, [request(1)])
                await until(lambda: len(lead_ids(signalling)) == 1 and len(dlq.records) == 1)
        (parked,) = dlq.records
        assert parked.value == raw
        assert dict(parked.headers)["lc-dlq-reason"] == b"undecodable"
        assert lead_ids(signalling) == {request(1).lead_id}
        assert sum(sim.stats.calls.values()) == 1
