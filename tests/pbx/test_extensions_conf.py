"""``extensions.conf`` read as Asterisk's config.c and pbx_config.c read it (comments, priorities, labels,
application data between the first ``(`` and the last ``)``), and the simulator running a rendered file: a
``GotoIf`` to a label of the supervisor context lands where Asterisk would."""

from __future__ import annotations

from pathlib import Path

from ctiserver.cli.dialplan import render
from ctiserver.config import Config
from ctiserver.pbx.extensions_conf import HINT, parse
from ctiserver.sim.config import SimConfig, read_extensions_conf
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get

TEXT = r"""
[general]
static = yes
[globals]
CTI_APP = ctiserver ; the ARI application
;-- a block comment
[not-a-context]
--;
[in] ; DIDs
exten => 100,1,NoOp(a\;b)   ; escaped semicolon
 same => n(ask),Read(X,,1)
 same => n,GotoIf($[${X} = 1]?ask)
 same => n,Set(Y=(1)) trailing
 same => n,Hangup
exten => 100,hint,PJSIP/100
exten => _X.!,1,Dial(PJSIP/${EXTEN},30,tT)
 same => n+2,Wait(1)
exten => _[1-3]X,1,NoOp(bracket, comma)
exten => 200/5551234,1,NoOp(cid)
 same => ask,NoOp(a label that is no label here)
 same => 5,Playback(x
exten => 100,2,NoOp(duplicate)
include => other
[tpl](!)
exten => s,1,NoOp(template)
"""


def test_priorities_labels_data_and_comments_as_pbx_config_reads_them() -> None:
    conf = parse(TEXT)
    assert list(conf.contexts) == ["in"] and conf.globals == {"CTI_APP": "ctiserver"}
    hundred = [(p.number, p.label, p.app, p.data) for p in conf.priorities("in", "100")]
    assert hundred == [
        (1, None, "NoOp", "a;b"),
        (2, "ask", "Read", "X,,1"),
        (3, None, "GotoIf", "$[${X} = 1]?ask"),
        (4, None, "Set", "Y=(1)"),  # between the first ( and the last ); what follows is dropped
        (5, None, "Hangup", ""),
    ]
    assert [p.number for p in conf.contexts["in"]["100"] if p.number == HINT] == [HINT]
    assert [(p.number, p.app) for p in conf.priorities("in", "_X.!")] == [(1, "Dial"), (4, "Wait")]
    assert conf.priorities("in", "_[1-3]X")[0].data == "bracket, comma"
    assert conf.priorities("in", "200")[0].data == "cid"  # 200/5551234: the caller-ID match is not the name
    assert conf.includes == {"in": ["other"]}
    assert len(conf.warnings) == 3, conf.warnings  # the unknown label, the open parenthesis, the duplicate
    assert "invalid priority/label 'ask'" in conf.warnings[0]
    assert "no closing parenthesis" in conf.warnings[1] and "already exists" in conf.warnings[2]
    assert conf.priorities("in", "200")[-1].data == "x"  # kept as far as it goes, like Asterisk


def test_the_rendered_file_reads_without_a_warning() -> None:
    conf = parse(render(Config()))
    assert conf.warnings == []
    spy = conf.priorities("ctiserver-spy", "_X.")
    assert [(p.number, p.label) for p in spy if p.label] == [(7, "whisper"), (9, "barge")]


async def test_the_simulator_runs_the_rendered_file_with_its_labels(tmp_path: Path) -> None:
    (tmp_path / "extensions_ctiserver.conf").write_text(render(Config()), encoding="utf-8")
    plan = read_extensions_conf(tmp_path / "extensions_ctiserver.conf")
    async with Simulator(SimConfig(dialplan=plan)) as sim:
        sim.agent("1001", answer_after=0.1)
        ami = AmiProbe()
        try:
            await ami.connect(sim.ami_port)
            headers = [
                ("Channel", "Local/1001@ctiserver-spy"),
                ("Application", "Wait"),
                ("Data", "5"),
                ("Variable", "CTI_SPY_MODE=whisper"),
                ("Async", "true"),
            ]
            assert get(await ami.action("Originate", headers), "Response") == "Success"
            spy = await ami.wait(lambda m: get(m, "Event") == "Newexten" and get(m, "Application") == "ChanSpy")
            assert (get(spy, "Context"), get(spy, "Priority"), get(spy, "AppData")) == (
                "ctiserver-spy",
                "7",
                "PJSIP/1001,qEw",
            )
            listed = await ami.action("ShowDialPlan", [("Context", "ctiserver-spy")])
            assert get(listed, "Response") == "Success"
            await ami.wait_event("ShowDialPlanComplete")
            labels = [(get(m, "Priority"), get(m, "ExtensionLabel")) for m in ami.events("ListDialplan")]
            assert [x for x in labels if x[1]] == [("7", "whisper"), ("9", "barge")]
        finally:
            await ami.close()
