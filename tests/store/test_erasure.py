"""A person's right to erasure by phone number (``ctiserver/privacy/erase.py``), on SQLite and PostgreSQL: their inbound
call (caller key) and their outbound call (a leg's callee number written without the ``+``) lose their personal
data, the recording's file goes, the number's dialler contacts go in every campaign and its attempts keep their
counts without the number, the call-backs the ACD owes the number go, the CRM contact with that phone and the
interactions go, the number lands on the global do-not-call list; another caller's call, contact, call-back and
CRM record are untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ctiserver.acd.persist import PendingCallback
from ctiserver.acd.sql import SqlAgentStore
from ctiserver.crm.tables import ContactPhoneRow, InteractionRow
from ctiserver.crm.tables import ContactRow as CrmContactRow
from ctiserver.dialer.model import AttemptRecord, Contact, Outcome
from ctiserver.dialer.sql import SqlDialerStore
from ctiserver.privacy.erase import NotANumber, erase_number, written_forms
from ctiserver.privacy.tables import ErasureRow
from ctiserver.recording.meta import MemoryRecordingStore, RecordingMeta, RecState
from ctiserver.store.models import CallRow, LegRow, QueueSegmentRow
from tests.store.migrated import migrated

ANNA = "+48221234567"
OTHER = "+48225550000"


def _call(call_id: str, caller: str, leg_caller: str, leg_callee: str) -> tuple[CallRow, LegRow, QueueSegmentRow]:
    return (
        CallRow(
            call_id=call_id, state="ended", started=100.0, caller_num=caller, caller_name="Anna", caller_key=caller
        ),
        LegRow(
            uniqueid=f"{call_id}.1",
            call_id=call_id,
            linkedid=call_id,
            channel=f"PJSIP/{leg_callee or leg_caller}@trunk-00000001",
            endpoint="trunk",
            role="customer",
            direction="in",
            caller_num=leg_caller,
            callee_num=leg_callee,
            created=100.0,
        ),
        QueueSegmentRow(
            call_id=call_id,
            seq=0,
            queue="q",
            caller_uniqueid=f"{call_id}.1",
            caller_num=leg_caller,
            entered=100.0,
            outcome="answered",
        ),
    )


async def test_erase_a_number_everywhere(db_url: str, tmp_path: Path) -> None:
    audio = tmp_path / "in-1.wav"
    audio.write_bytes(b"RIFF")
    recordings = MemoryRecordingStore()
    await recordings.save(
        RecordingMeta("in-1-1", "in-1", "q", "1001", "bridge:b", str(audio), "wav", 100.0, state=RecState.DONE)
    )
    async with migrated(db_url) as sessions:
        async with sessions() as s, s.begin():
            s.add_all([*_call("in-1", ANNA, ANNA, "200"), *_call("out-1", "", "1001", "48221234567")])
            s.add_all(_call("in-2", OTHER, OTHER, "200"))
            s.add_all([CrmContactRow(id=1, name="Anna"), CrmContactRow(id=2, name="Olga")])
            await s.flush()  # the phones refer to them
            s.add_all([ContactPhoneRow(contact_id=1, e164=ANNA), ContactPhoneRow(contact_id=2, e164=OTHER)])
            s.add_all(
                [
                    InteractionRow(call_id="in-1", number=ANNA, started_at=100.0),
                    InteractionRow(call_id="in-2", number=OTHER, started_at=100.0),
                ]
            )
        dialer = SqlDialerStore(sessions)
        await dialer.add_contacts(
            [
                Contact("k1", "spring", ANNA, "Europe/Warsaw"),
                Contact("k2", "autumn", ANNA, "Europe/Warsaw"),
                Contact("k3", "spring", OTHER, "Europe/Warsaw"),
            ]
        )
        await dialer.record_attempt(AttemptRecord("a1", "spring", "k1", ANNA, 90.0, Outcome.ABANDONED, 95.0))
        acd = SqlAgentStore(sessions)  # call-backs the ACD owes: hers (as her caller ID gave it), another's
        await acd.save_callback(PendingCallback("cb-1", "q", "48221234567", 150.0, "Anna"))
        await acd.save_callback(PendingCallback("cb-2", "q", OTHER, 160.0, "Olga"))
        done, forget = await erase_number(sessions, "22 123 45 67", "PL", 200.0, recordings)
        again, _ = await erase_number(sessions, ANNA, "PL", 201.0, recordings)  # nothing links to the number any more
        async with sessions() as s:
            calls = {r.call_id: r for r in (await s.scalars(select(CallRow))).all()}
            legs = {r.call_id: r for r in (await s.scalars(select(LegRow))).all()}
            crm = {r.id for r in (await s.scalars(select(CrmContactRow))).all()}
            interactions = {r.call_id for r in (await s.scalars(select(InteractionRow))).all()}
            tombstones = (await s.scalars(select(ErasureRow).order_by(ErasureRow.id))).all()
            erasures = [(r.at, r.calls, r.callbacks) for r in tombstones]
        contacts = {c.id for camp in ("spring", "autumn") for c in await dialer.contacts(camp)}
        attempts = await dialer.attempts("spring")
        on_dnc = await dialer.dnc_contains(ANNA, "any")
        owed = [c.call_id for c in await acd.load_callbacks()]
    assert (done.number, done.calls, done.recordings, done.dialer_contacts, done.dialer_attempts) == (ANNA, 2, 1, 2, 1)
    assert (done.crm_contacts, done.crm_interactions, done.do_not_call) == (1, 1, True)
    assert forget.calls == ("in-1", "out-1")
    assert (again.calls, again.recordings, again.dialer_contacts, again.crm_contacts) == (0, 0, 0, 0)
    for call_id in ("in-1", "out-1"):
        assert calls[call_id].anonymised and calls[call_id].caller_num == "" and calls[call_id].caller_key == ""
        assert (legs[call_id].caller_num, legs[call_id].callee_num) == ("", "") and "221234567" not in legs[
            call_id
        ].channel
    assert not calls["in-2"].anonymised and calls["in-2"].caller_num == OTHER and legs["in-2"].caller_num == OTHER
    assert not audio.exists() and recordings.rows["in-1-1"].state is RecState.PURGED
    assert contacts == {"k3"} and [(a.id, a.number, a.outcome) for a in attempts] == [("a1", "", Outcome.ABANDONED)]
    assert crm == {2} and interactions == {"in-2"} and on_dnc
    assert (done.acd_callbacks, again.acd_callbacks, owed) == (1, 0, ["cb-2"]) and forget.callbacks == ("cb-1",)
    assert "48221234567" in forget.numbers  # as her caller ID wrote it: for the ACD's memory, never stored
    # what a running daemon forgets (``privacy/follow.py``): by id, no number
    assert erasures == [(200.0, ["in-1", "out-1"], ["cb-1"]), (201.0, [], [])]


def test_the_forms_a_number_is_written_in() -> None:
    assert written_forms("22 123 45 67", "PL") == (ANNA, {ANNA, "48221234567", "221234567"})
    with pytest.raises(NotANumber):
        written_forms("anonymous", "PL")
