"""AMI ``CEL`` and ``Cdr`` events (cel_manager / cdr_manager), with the fields the traces show."""

from __future__ import annotations

from ctiserver.sim.fmt import cel_time
from ctiserver.sim.hub import Hub
from ctiserver.sim.model import Channel


class Cel:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def emit(self, name: str, ch: Channel, *, extra: str = "", app: bool = True, peer: str = "") -> None:
        dnid = ch.tags.get("dnid", "")
        started = ch.answered_at is not None or name != "CHAN_START"
        self.hub.ami(
            "CEL",
            "call,all",
            [
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
            ],
        )

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
