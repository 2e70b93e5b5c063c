"""Call tracking: AMI events → Channel/Leg/Call (grouped by linkedid), queue segments, transfers, hold,
attached data. ``Tracker`` is sans-I/O; ``component.py`` wires it to the AMI client, the bus and the store."""

from ctiserver.calls.model import Call, Leg, QueueSegment, Role
from ctiserver.calls.tracker import Tracker

__all__ = ["Call", "Leg", "QueueSegment", "Role", "Tracker"]
