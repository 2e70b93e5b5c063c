"""An Asterisk on another host, over TLS: AMI on manager.conf's TLS port and ARI over HTTPS / WSS (http.conf
``tlsenable``). The whole daemon against the simulator serving both over TLS with a certificate for
``pbx.example`` from a private CA:

* trusted (``ca_file`` = that CA, ``server_name`` = the certificate's name): a call on DID 100 goes through the
  IVR to queue ``support`` and agent 1001 (ARI REST over HTTPS, events over WSS), the tracker follows it over AMI,
  and it ends;
* a certificate from another CA, or one for another name, is refused: no link comes up, ``/health`` is degraded
  and the links' last error names the certificate check; ``verify: false`` (a lab) connects anyway.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
from pydantic import SecretStr

from ctiserver.clock import SystemClock
from ctiserver.config import AmiConfig, AmiTls, AriConfig, TlsTrust
from ctiserver.control.ari_link import AriLink
from ctiserver.events.log import EventLog
from ctiserver.pbx.ami.client import AmiClient
from ctiserver.pbx.ari.client import AriClient
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.api.crash_daemon import COMPONENTS, config
from tests.api.harness import daemon
from tests.servers.redis import wait_for


def _pki(tmp: Path) -> tuple[Path, Path, Path, Path]:
    """(the PBX's chain, its key, its CA, another CA) as PEM files."""
    ca, other = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("pbx.example")
    chain, key, ca_pem, other_pem = (tmp / n for n in ("pbx.pem", "pbx.key", "ca.pem", "other.pem"))
    cert.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    ca.cert_pem.write_to_path(str(ca_pem))
    other.cert_pem.write_to_path(str(other_pem))
    return chain, key, ca_pem, other_pem


def _tls_config(tmp: Path, sim: Simulator, trust: dict[str, Any]) -> dict[str, Any]:
    cfg = config(tmp, sim.ami_port, sim.ari_url)
    cfg["pbx"]["ami"]["tls"] = {"enabled": True, **trust}
    cfg["pbx"]["ari"]["tls"] = trust
    return cfg


async def test_a_call_over_tls_links_to_the_pbx(tmp_path: Path) -> None:
    chain, key, ca, _ = _pki(tmp_path)
    async with Simulator(SimConfig(tls_cert=str(chain), tls_key=str(key))) as sim:
        assert sim.ari_url.startswith("https://")
        trust = {"ca_file": str(ca), "server_name": "pbx.example"}
        async with daemon(tmp_path, COMPONENTS, **_tls_config(tmp_path, sim, trust)) as d:
            ami, ari = d.ctx.require(AmiClient), d.ctx.require(AriClient)
            await wait_for(lambda: ami.connected.is_set() and ari.connected.is_set(), limit=10.0)
            sim.agent("1001", answer_after=0.3)
            call = sim.place_call(from_number="5550123", from_name="Олена Коваль", to="100", hangup_after=1.0)
            log = d.ctx.require(EventLog)
            await wait_for(lambda: any(e.type == "call.ended" for e in log._ring), limit=20.0)
            kinds = [e.type for e in log._ring]
    assert call.channel is not None
    assert "agent.answered" in kinds  # ARI: the IVR and the ACD took it to the agent over HTTPS / WSS
    # AMI: the tracker followed it, the caller's Cyrillic name intact
    first = next(e for e in log._ring if e.type == "leg.created" and e.subject == call.channel.linkedid)
    assert (first.data["caller_num"], first.data["caller_name"]) == ("5550123", "Олена Коваль")


@pytest.mark.parametrize("case", ["another CA", "another name", "no check"])
async def test_a_certificate_that_does_not_check_out_is_refused(tmp_path: Path, case: str) -> None:
    chain, key, ca, other = _pki(tmp_path)
    trust: dict[str, Any] = {
        "another CA": {"ca_file": str(other), "server_name": "pbx.example"},
        "another name": {"ca_file": str(ca)},  # checked for 127.0.0.1, the host in the configuration
        "no check": {"ca_file": str(other), "verify": False},
    }[case]
    async with Simulator(SimConfig(tls_cert=str(chain), tls_key=str(key))) as sim:
        async with daemon(tmp_path, COMPONENTS, **_tls_config(tmp_path, sim, trust)) as d:
            ami, ari = d.ctx.require(AmiClient), d.ctx.require(AriClient)
            if case == "no check":
                await wait_for(lambda: ami.connected.is_set() and ari.connected.is_set(), limit=10.0)
                return
            await wait_for(lambda: ami.last_error is not None and ari.last_error is not None, limit=10.0)
            async with aiohttp.ClientSession() as http, http.get(d.url + "/health", headers=d.auth("monitor")) as resp:
                health = await resp.json()
            assert not ami.connected.is_set() and not ari.connected.is_set()
    assert health["status"] == "degraded"
    for error in (ami.last_error, ari.last_error):
        assert "CERTIFICATE_VERIFY_FAILED" in str(error), error


async def test_the_small_ari_link_speaks_https_and_wss_too(tmp_path: Path) -> None:
    """``AriLink``, the call control's transport when the PBX node does not run."""
    chain, key, ca, _ = _pki(tmp_path)
    async with Simulator(SimConfig(tls_cert=str(chain), tls_key=str(key))) as sim:
        trust = TlsTrust(ca_file=str(ca), server_name="pbx.example")
        cfg = AriConfig(url=sim.ari_url, username="cti", password=SecretStr("cti-secret"), tls=trust)
        async with AriLink(cfg, SystemClock()) as link:
            await asyncio.wait_for(link.connected.wait(), 10.0)
            info = await link.request("GET", "/asterisk/info")
            assert "ctiserver" in sim.hub.connected_apps()
    assert info["system"]["entity_id"] == sim.config.asterisk_id


def test_a_ca_file_that_cannot_be_read_is_named_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    cfg = AmiConfig(tls=AmiTls(enabled=True, ca_file=str(missing)))
    with pytest.raises(ValueError, match=f"AMI tls.ca_file '{missing}'"):
        AmiClient(cfg)
