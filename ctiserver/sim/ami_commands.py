"""Who may run which AMI action: Asterisk 22's write classes (manager.conf ``write =``), the ``Permission denied``
of an action outside them, and ``ListCommands``.

* Each action is registered with an authority, a set of classes (``ast_manager_register_xml(name, EVENT_FLAG_…)``:
  main/manager.c, app_queue.c, app_mixmonitor.c, res_pjsip, res_manager_devicestate.c); a session may run it
  when its write mask shares one class with it, or when the authority is 0 (``process_message``). Otherwise:
  ``Response: Error`` / ``Message: Permission denied`` — the action does nothing.
* An action nobody registered (its module is not loaded): ``Invalid/unknown command: <Action>. Use Action:
  ListCommands to show available commands.``
* ``ListCommands`` (authority 0): ``Response: Success``, then one ``<Action>: <synopsis> (Priv: <classes>)`` line
  per action the session may run; ``authority_to_str`` lists the classes in ``perms[]`` order and ends with
  ``all`` (``<none>`` for authority 0).
* ``write =`` is read by ``get_perm``: the comma-separated labels of ``perms[]``, ``all`` for every class
  (Asterisk's ``ast_instring`` also takes prefixes and keeps spaces; the simulator matches whole labels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctiserver.sim.ami_server import AmiSession

PERMS = (  # manager.c perms[], in order (bit = position)
    "system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf", "reporting", "cdr",
    "dialplan", "originate", "agi", "cc", "aoc", "test", "security", "message",
)  # fmt: skip
ALL = (1 << len(PERMS)) - 1

# action → (authority, synopsis as the XML documentation gives it)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "Ping": ((), "Keepalive command."),
    "Events": ((), "Control Event Flow."),
    "ListCommands": ((), "List available manager commands."),
    "Filter": (("system",), "Dynamically add filters for the current manager session."),
    "CoreShowChannels": (("system", "reporting"), "List currently active channels."),
    "DeviceStateList": (("call", "reporting"), "List the current known device states."),
    "Hangup": (("system", "call"), "Hangup channel."),
    "Setvar": (("call",), "Sets a channel variable or function value."),
    "Getvar": (("call", "reporting"), "Gets a channel variable or function value."),
    "Originate": (("originate",), "Originate a call."),
    "Redirect": (("call",), "Redirect (transfer) a call."),
    "BlindTransfer": (("call",), "Blind transfer channel(s) to the given destination"),
    "Atxfer": (("call",), "Attended transfer."),
    "PlayDTMF": (("call",), "Play DTMF signal on a specific channel."),
    "MixMonitor": (
        ("system",),
        "Record a call and mix the audio during the recording. Use of StopMixMonitor is required to guarantee "
        "the audio file is available for processing during dialplan execution.",
    ),
    "MixMonitorMute": (("system", "call"), "Mute / unMute a Mixmonitor recording."),
    "StopMixMonitor": (
        ("system", "call"),
        "Stop recording a call through MixMonitor, and free the recording's file handle.",
    ),
    "Status": (("system", "call", "reporting"), "List channel status."),
    "DBGet": (("system", "reporting"), "Get DB Entry."),
    "DBGetTree": (("system", "reporting"), "Get DB entries, optionally at a particular family/key"),
    "DBPut": (("system",), "Put DB entry."),
    "DBDel": (("system",), "Delete DB entry."),
    "ShowDialPlan": (("config", "reporting"), "Show dialplan contexts and extensions"),
    "QueueAdd": (("agent",), "Add interface to queue."),
    "QueueRemove": (("agent",), "Remove interface from queue."),
    "QueuePause": (("agent",), "Makes a queue member temporarily unavailable."),
    "QueueStatus": ((), "Show queue status."),
    "QueueSummary": ((), "Show queue summary."),
    "PJSIPShowEndpoints": (("system",), "Lists PJSIP endpoints."),
    "PJSIPShowContacts": (("system",), "Lists PJSIP Contacts."),
}


def get_perm(text: str) -> int:
    """manager.conf ``write =`` → the write mask."""
    mask = 0
    for label in (p.strip() for p in text.split(",")):
        if label == "all":
            mask |= ALL
        elif label in PERMS:
            mask |= 1 << PERMS.index(label)
    return mask


_AUTHORITY = {name.lower(): sum(1 << PERMS.index(c) for c in classes) for name, (classes, _) in COMMANDS.items()}


def permitted(writeperm: int, action: str) -> bool:
    """``action`` (lower case): may a session with ``writeperm`` run it? (Unknown actions: True — they are
    refused as unknown, not as denied.)"""
    authority = _AUTHORITY.get(action, 0)
    return authority == 0 or bool(writeperm & authority)


def authority_to_str(classes: tuple[str, ...]) -> str:
    return ",".join([c for c in PERMS if c in classes] + ["all"]) if classes else "<none>"


def list_commands(s: AmiSession, aid: str | None) -> None:
    lines = [
        (name, f"{synopsis} (Priv: {authority_to_str(classes)})")
        for name, (classes, synopsis) in COMMANDS.items()
        if permitted(s.writeperm, name.lower())
    ]
    s.respond(aid, "Success", None, lines)
