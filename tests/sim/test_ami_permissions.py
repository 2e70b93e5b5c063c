"""The simulator's AMI user has manager.conf write classes (``SimConfig.ami_write``), as Asterisk 22's: an action
outside them is ``Permission denied`` and does nothing, an action no module registered is an unknown command, and
``ListCommands`` lists what the user may run with each action's classes (``Priv: …,all``)."""

from __future__ import annotations

from ctiserver.sim.ami_actions import HANDLERS
from ctiserver.sim.ami_commands import COMMANDS
from ctiserver.sim.config import SimConfig
from ctiserver.sim.simulator import Simulator
from tests.sim.probes import AmiProbe, get


def test_every_action_the_simulator_answers_has_its_asterisk_authority() -> None:
    assert set(HANDLERS) <= {name.lower() for name in COMMANDS}


async def test_write_classes_decide_what_the_user_may_run() -> None:
    async with Simulator(SimConfig(ami_write="system,call,reporting")) as sim:
        ami = AmiProbe()
        assert get(await ami.connect(sim.ami_port), "Response") == "Success"
        listed = await ami.action("ListCommands")
        assert get(listed, "Response") == "Success"
        assert get(listed, "Hangup") == "Hangup channel. (Priv: system,call,all)"
        assert get(listed, "Ping") == "Keepalive command. (Priv: <none>)"
        assert get(listed, "QueueStatus") == "Show queue status. (Priv: <none>)"
        assert get(listed, "ShowDialPlan") == "Show dialplan contexts and extensions (Priv: config,reporting,all)"
        for absent in ("Originate", "QueueAdd", "QueuePause"):
            assert get(listed, absent) is None
        denied = await ami.action("Originate", [("Channel", "PJSIP/1001"), ("Application", "Wait"), ("Data", "1")])
        assert (get(denied, "Response"), get(denied, "Message")) == ("Error", "Permission denied")
        assert not sim.engine.channels  # refused before anything was done
        denied = await ami.action("QueueAdd", [("Queue", "support"), ("Interface", "PJSIP/1001")])
        assert get(denied, "Message") == "Permission denied"
        unknown = await ami.action("NoSuchThing")
        assert get(unknown, "Message") == (
            "Invalid/unknown command: NoSuchThing. Use Action: ListCommands to show available commands."
        )
        assert get(await ami.action("CoreShowChannels"), "Response") == "Success"
        await ami.close()


async def test_all_grants_every_action() -> None:
    async with Simulator(SimConfig()) as sim:
        ami = AmiProbe()
        await ami.connect(sim.ami_port)
        listed = await ami.action("ListCommands")
        assert get(listed, "Originate") == "Originate a call. (Priv: originate,all)"
        assert {k for k, _ in listed} >= set(COMMANDS)
        await ami.close()
