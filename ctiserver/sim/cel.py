"""AMI ``CEL`` and ``Cdr`` events (cel_manager / cdr_manager), with the fields the traces show.

The ``HANGUP`` record's ``Extra`` is main/cel.c ``cel_channel_state_change``: ``hangupcause``, ``hangupsource``
(the channel's, ``ctiserver.sim.hangup_source``) and ``dialstatus`` — not the ``DIALSTATUS`` variable but CEL's
own store (``cel_dial_cb`` → ``save_dialstatus``): of the dial messages where the channel is the caller, the
first valid status (``is_valid_dialstatus``) stays, unless a later one is ``ANSWER``.
"""

from __future__ import annotations

import json

from ctiserver.sim.fmt import cel_time
from ctiserver.sim.hub import Hub
from ctiserver.sim.model import Channel

Headers = list[tuple[str, str]]
VALID_DIALSTATUS = frozenset(
    {"CHANUNAVAIL", "CONGESTION", "NOANSWER", "BUSY", "ANSWER", "CANCEL", "DONTCALL", "TORTURE", "INVALIDARGS"}
)


class Cel:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.dialstatus: dict[str, str] = {}  # uniqueid of a dialling channel -> its saved status

    def emit(self, name: str, ch: Channel, *, extra: str = "", app: bool = True, peer: str = "") -> None:
        self.send(self.record(name, ch, extra=extra, app=app, peer=peer))

    def send(self, record: Headers) -> None:
        self.hub.ami("CEL", "call,all", record)

    def dial(self, caller: Channel, status: str) -> None:
        """A dial message (``DialEnd`` …) with ``caller`` dialling: cel.c ``save_dialstatus``."""
        status = status.upper()
        if status not in VALID_DIALSTATUS:
            return
        saved = self.dialstatus.get(caller.id)
        if saved is None or (status == "ANSWER" and saved != "ANSWER"):
            self.dialstatus[caller.id] = status

    def end_records(self, ch: Channel, *, last: bool) -> list[Headers]:
        """``HANGUP``, ``CHAN_END`` and — the linkedid's last channel — ``LINKEDID_END`` of ``ch``, which
        hangs up now."""
        extra = json.dumps(
            {
                "hangupcause": ch.hangup_cause,
                "hangupsource": ch.hangup_source,
                "dialstatus": self.dialstatus.pop(ch.id, ""),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        names = ("CHAN_END", "LINKEDID_END") if last else ("CHAN_END",)
        return [self.record("HANGUP", ch, app=False, extra=extra)] + [self.record(n, ch, app=False) for n in names]

    def record(self, name: str, ch: Channel, *, extra: str = "", app: bool = True, peer: str = "") -> Headers:
        dnid = ch.tags.get("dnid", "")
        started = ch.answered_at is not None or name != "CHAN_START"
        return [
            ("EventName", name),
            ("AccountCode", ch.accountcode),
            ("CallerIDnum", ch.caller_num),
            ("CallerIDname", ch.caller_name),
            ("CallerIDani", ch.caller_num if started else ""),
            ("CallerIDrdnis", ""),
            ("CallerIDdnid", dnid if started else ""),
            ("Exten", ch.exten),
            ("Context", ch.context),
            ("Channel", ch.name),
            ("Application", ch.app_name if app else ""),
            ("AppData", ch.app_data if app else ""),
            ("EventTime", cel_time(self.hub.clock.now())),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", ch.id),
            ("LinkedID", ch.linkedid),
            ("Userfield", ""),
            ("Peer", peer),
            ("PeerAccount", ""),
            ("Extra", extra),
        ]

    def cdr(self, ch: Channel) -> None:
        now = self.hub.clock.now()
        answered = ch.answered_at
        cid = f'"{ch.caller_name}" <{ch.caller_num}>' if ch.caller_name else ch.caller_num
        peer = ch.tags.get("cdr_peer", "")
        self.hub.ami(
            "Cdr",
            "cdr,all",
            [
                ("AccountCode", ch.accountcode),
                ("Source", ch.caller_num),
                ("Destination", ch.tags.get("cdr_dst", ch.exten)),
                ("DestinationContext", ch.tags.get("cdr_dcontext", ch.context)),
                ("CallerID", cid),
                ("Channel", ch.name),
                ("DestinationChannel", peer),
                ("LastApplication", ch.app_name),
                ("LastData", ch.app_data),
                ("StartTime", cel_time(ch.created)),
                ("AnswerTime", cel_time(answered) if answered else ""),
                ("EndTime", cel_time(now)),
                ("Duration", str(int(now - ch.created))),
                ("BillableSeconds", str(int(now - answered)) if answered else "0"),
                (
                    "Disposition",
                    "ANSWERED" if answered else ("NO ANSWER" if ch.hangup_cause in (19, 0, 16) else "FAILED"),
                ),
                ("AMAFlags", "DOCUMENTATION"),
                ("UniqueID", ch.id),
                ("UserField", ""),
            ],
        )
