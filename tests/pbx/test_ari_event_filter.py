"""The ARI application's event filter: the simulator applies ``PUT /applications/{app}/eventFilter`` as the
swagger states it, and ``AriClient`` asks for ``drop_events`` (ChannelVarset by default) after connecting."""

from __future__ import annotations

import pytest

from ctiserver.config import AriConfig
from ctiserver.pbx.ari.client import AriClient
from ctiserver.pbx.ari.rest import AriError
from ctiserver.sim.ari_filter import EventFilter, updated
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.waiting import until


def test_filter_rules_from_the_swagger() -> None:
    f = updated(EventFilter(), {"allowed": [{"type": "StasisStart"}, {"type": "StasisEnd"}]})
    assert f.passes("StasisStart") and not f.passes("ChannelVarset")  # only the allowed ones
    f = updated(f, {"disallowed": [{"type": "StasisEnd"}]})  # one list given: the other is kept
    assert f.allowed == {"StasisStart", "StasisEnd"} and not f.passes("StasisEnd")  # disallowed wins
    assert updated(f, {"allowed": []}).passes("Dial")  # an empty allowed list allows everything
    assert updated(f, None) == EventFilter() == updated(f, {})  # an empty body empties both
    for bad in ([], {"allowed": {"type": "x"}}, {"disallowed": [{"name": "x"}]}, {"allowed": [{"type": ""}]}):
        with pytest.raises(ValueError):
            updated(f, bad)


async def test_the_client_drops_channel_varset_over_the_wire() -> None:
    async with Simulator(SimConfig()) as sim:
        async with AriClient(AriConfig(url=sim.ari_url)) as ari:
            raw: list[str] = []
            ari.on_raw(lambda e: raw.append(str(e.get("type"))))
            await until(lambda: sim.hub.ari_filters.get("ctiserver") is not None, 10)
            app = await ari.request("GET", "/applications/ctiserver")
            assert app["events_disallowed"] == [{"type": "ChannelVarset"}] and app["events_allowed"] == []
            call = sim.place_call(from_number="5550100", to="100", hangup_after=30.0)
            await until(lambda: "StasisStart" in raw, 10)
            await ari.request("POST", f"/channels/{call.channel_id}/variable", params={"variable": "X", "value": "1"})
            await ari.answer(call.channel_id)
            await until(lambda: "ChannelStateChange" in raw, 10)
            assert "ChannelVarset" not in raw
            # an empty body lifts the filter: the next variable set is received
            await ari.request("PUT", "/applications/ctiserver/eventFilter")
            await ari.request("POST", f"/channels/{call.channel_id}/variable", params={"variable": "Y", "value": "2"})
            await until(lambda: "ChannelVarset" in raw, 10)
            with pytest.raises(AriError) as bad:
                await ari.request("PUT", "/applications/ctiserver/eventFilter", body={"allowed": "StasisStart"})
            assert bad.value.status == 400
            with pytest.raises(AriError) as missing:
                await ari.request("PUT", "/applications/nope/eventFilter", body={})
            assert missing.value.status == 404
