"""The sans-I/O AMI codec on crafted input: UTF-8 split anywhere, CRLF/LF, repeated headers, Follows bodies,
bounded memory, fuzzing, encoding."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctiserver.pbx.ami.codec import AmiDecoder, decode_all, encode_action, encode_message
from ctiserver.pbx.ami.messages import AmiBanner, AmiEvent, AmiProtocolError, AmiResponse

NEWCHANNEL = (
    "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/caller-00000001\r\n"
    "CallerIDNum: 48221234567\r\nCallerIDName: Иван Петров\r\nConnectedLineName: Łukasz Żółć\r\n"
    "Uniqueid: cti-test-1.1\r\nLinkedid: cti-test-1.1\r\n\r\n"
).encode()


def feed_split(data: bytes, cut: int) -> list[object]:
    dec = AmiDecoder()
    return [*dec.feed(data[:cut]), *dec.feed(data[cut:])]


def test_utf8_split_at_every_byte_offset() -> None:
    stream = NEWCHANNEL * 2
    for cut in range(len(stream) + 1):
        msgs = feed_split(stream, cut)
        assert len(msgs) == 2, cut
        for m in msgs:
            assert isinstance(m, AmiEvent)
            assert m["CallerIDName"] == "Иван Петров", cut
            assert m["ConnectedLineName"] == "Łukasz Żółć", cut


def test_byte_by_byte() -> None:
    dec = AmiDecoder()
    out = []
    for i in range(len(NEWCHANNEL)):
        out += dec.feed(NEWCHANNEL[i : i + 1])
    assert len(out) == 1 and out[0].get("calleridname") == "Иван Петров"  # type: ignore[union-attr]


def test_bare_lf_and_mixed_line_endings() -> None:
    lf = NEWCHANNEL.replace(b"\r\n", b"\n")
    mixed = b"Event: A\nX: 1\r\n\r\nEvent: B\r\nY: 2\n\n"
    assert decode_all(lf) == decode_all(NEWCHANNEL)
    names = [m.name for m in decode_all(mixed)]  # type: ignore[union-attr]
    assert names == ["A", "B"]


def test_extra_blank_lines_between_frames_are_ignored() -> None:
    msgs = decode_all(b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\nEvent: B\r\n\r\n")
    assert [m.name for m in msgs] == ["A", "B"]  # type: ignore[union-attr]


def test_repeated_headers_and_case_insensitive_lookup() -> None:
    (ev,) = decode_all(
        b"Event: VarSet\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nUniqueID: u1\r\nValue: x: y\r\n\r\n"
    )
    assert isinstance(ev, AmiEvent)
    assert ev.get_all("chanvariable") == ["A=1", "B=2"]
    assert ev["ChanVariable"] == "A=1"  # first value
    assert ev["Uniqueid"] == "u1" and "uniqueid" in ev
    assert ev["Value"] == "x: y"  # only the first ": " separates
    assert ev.get("Missing") is None
    with pytest.raises(KeyError):
        ev["Missing"]


def test_header_without_space_and_empty_values() -> None:
    (ev,) = decode_all(b"Event: X\r\nAccountCode: \r\nKey:value\r\nEmpty:\r\n\r\n")
    assert isinstance(ev, AmiEvent)
    assert ev["AccountCode"] == "" and ev["Key"] == "value" and ev["Empty"] == ""


def test_banner_then_response() -> None:
    dec = AmiDecoder(expect_banner=True)
    out = dec.feed(b"Asterisk Call Manager/11.0.0\r\nResp")
    out += dec.feed(b"onse: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n")
    assert isinstance(out[0], AmiBanner) and out[0].version == "11.0.0"
    assert isinstance(out[1], AmiResponse) and out[1].ok and out[1].action_id == "1"
    assert out[1].message == "Authentication accepted"


def test_command_output_lines() -> None:
    (resp,) = decode_all(
        b"Response: Success\r\nActionID: 7\r\nMessage: Command output follows\r\n"
        b"Output: Channel              Location\r\nOutput: 0 active channels\r\n\r\n"
    )
    assert isinstance(resp, AmiResponse) and resp.ok
    assert resp.output == ("Channel              Location", "0 active channels")


def test_legacy_follows_body() -> None:
    (resp,) = decode_all(
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 9\r\n"
        b"Name/username             Host\r\n1001/1001  (Unspecified): x\r\n--END COMMAND--\r\n\r\n"
    )
    assert isinstance(resp, AmiResponse) and resp.ok and resp.action_id == "9"
    assert resp.output == ("Name/username             Host", "1001/1001  (Unspecified): x")


def test_event_list_frames() -> None:
    msgs = decode_all(
        b"Response: Success\r\nActionID: 3\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n"
        b"Event: CoreShowChannel\r\nActionID: 3\r\nChannel: PJSIP/1001-1\r\n\r\n"
        b"Event: CoreShowChannelsComplete\r\nActionID: 3\r\nEventList: Complete\r\nListItems: 1\r\n\r\n"
    )
    assert [type(m).__name__ for m in msgs] == ["AmiResponse", "AmiEvent", "AmiEvent"]
    assert all(m.action_id == "3" for m in msgs)  # type: ignore[union-attr]


def test_originate_response_event_is_an_event() -> None:
    (ev,) = decode_all(b"Event: OriginateResponse\r\nResponse: Failure\r\nReason: 0\r\n\r\n")
    assert isinstance(ev, AmiEvent) and ev["Response"] == "Failure"


def test_frame_without_terminator_is_bounded_and_decoder_recovers() -> None:
    dec = AmiDecoder(max_frame=1000)
    with pytest.raises(AmiProtocolError, match="without a terminator"):
        for _ in range(100):
            dec.feed(b"X" * 100)
    assert dec.buffered <= 1000
    # the rest of the giant frame is dropped, then decoding goes on
    assert dec.feed(b"Y" * 5000) == []
    assert dec.buffered <= 1000
    out = dec.feed(b"\r\n\r\nEvent: Next\r\n\r\n")
    assert [m.name for m in out] == ["Next"]  # type: ignore[union-attr]


def test_giant_line_inside_frame_reported_with_good_messages() -> None:
    dec = AmiDecoder(max_line=100)
    data = b"Event: A\r\n\r\nEvent: B\r\nBig: " + b"z" * 500 + b"\r\n\r\nEvent: C\r\n\r\n"
    with pytest.raises(AmiProtocolError, match="longer than") as info:
        dec.feed(data)
    assert [m.name for m in info.value.messages] == ["A", "C"]  # type: ignore[union-attr]
    assert [m.name for m in dec.feed(b"Event: D\r\n\r\n")] == ["D"]  # type: ignore[union-attr]


def test_invalid_utf8_is_replaced_not_dropped() -> None:
    dec = AmiDecoder()
    (ev,) = dec.feed(b"Event: X\r\nCallerIDName: caf\xe9\r\n\r\n")
    assert isinstance(ev, AmiEvent) and ev["CallerIDName"] == "caf\ufffd"
    assert dec.bad_utf8_frames == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=6))
def test_fuzz_only_protocol_errors(data: bytes, cuts: list[int]) -> None:
    dec = AmiDecoder(expect_banner=True, max_frame=256, max_line=64)
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for a, b in itertools.pairwise(bounds):
        try:
            dec.feed(data[a:b])
        except AmiProtocolError:
            pass
        assert dec.buffered <= 256 + 2


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_key = st.text(alphabet=_ALNUM, min_size=1, max_size=12)
_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_key, _value), max_size=8), st.integers(min_value=1, max_value=50))
def test_fuzz_roundtrip_encode_decode(headers: list[tuple[str, str]], chunk: int) -> None:
    frame = encode_message([("Event", "Fuzz"), *headers])
    dec = AmiDecoder()
    out = []
    for i in range(0, len(frame), chunk):
        out += dec.feed(frame[i : i + chunk])
    assert len(out) == 1
    assert out[0].headers == (("Event", "Fuzz"), *headers)  # type: ignore[union-attr]


def test_encode_action_mapping_with_repeated_values() -> None:
    data = encode_action("Originate", {"Channel": "PJSIP/1001", "Variable": ["A=1", "B=Ж"], "ActionID": "x"})
    expected = "Action: Originate\r\nChannel: PJSIP/1001\r\nVariable: A=1\r\nVariable: B=Ж\r\nActionID: x\r\n"
    assert data == (expected + "\r\n").encode()


def test_encode_refuses_header_injection() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_action("Originate", {"Channel": "PJSIP/1\r\nAction: Hangup"})
    with pytest.raises(ValueError, match="header name"):
        encode_message([("Bad: key", "v")])


def test_messages_are_immutable_comparable_and_picklable() -> None:
    import pickle
    from dataclasses import FrozenInstanceError

    (lazy,) = decode_all(NEWCHANNEL)
    built = AmiEvent(lazy.headers)  # type: ignore[union-attr]
    (lazy2,) = decode_all(NEWCHANNEL.replace(b"\r\n", b"\n"))
    assert lazy == built == lazy2 and hash(lazy) == hash(built) == hash(lazy2)
    assert isinstance(lazy, AmiEvent) and lazy.name == built.name == "Newchannel"
    assert pickle.loads(pickle.dumps(lazy)) == lazy
    assert "Иван Петров" in repr(lazy)
    with pytest.raises(FrozenInstanceError):
        lazy.headers = ()  # type: ignore[misc]
    resp = AmiResponse([("Response", "Success"), ("ActionID", "1")], output=["a"])
    assert resp != AmiResponse([("Response", "Success"), ("ActionID", "1")])
    assert pickle.loads(pickle.dumps(resp)) == resp and resp.output == ("a",)
    assert AmiEvent([("Event", "X")]) != AmiResponse([("Event", "X")])


def test_event_name_without_parsing_and_odd_first_line() -> None:
    (a, b, c) = decode_all(b"Event: Solo\r\n\r\nevent: lower\r\nX: 1\r\n\r\nX: 1\r\nEvent: Late\r\n\r\n")
    assert [m.name for m in (a, b, c)] == ["Solo", "lower", "Late"]  # type: ignore[union-attr]


_text_value = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"), max_size=20
)
_frame = st.lists(st.tuples(_key, _text_value), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_frame, min_size=1, max_size=6),
    st.sets(st.integers(min_value=1, max_value=2000), max_size=12),
    st.booleans(),
)
def test_fuzz_any_chunking_gives_the_same_messages(
    frames: list[list[tuple[str, str]]], cuts: set[int], lf: bool
) -> None:
    stream = b"".join(encode_message([("Event", f"E{i}"), *f]) for i, f in enumerate(frames))
    if lf:
        stream = stream.replace(b"\r\n", b"\n")
    whole = decode_all(stream)
    assert [m.name for m in whole] == [f"E{i}" for i in range(len(frames))]  # type: ignore[union-attr]
    dec = AmiDecoder()
    got = []
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    for a, b in itertools.pairwise(bounds):
        got += dec.feed(stream[a:b])
    assert got == whole and dec.buffered == 0
    for msg, headers in zip(got, frames, strict=True):
        assert msg.headers[1:] == tuple(headers)  # type: ignore[union-attr]


def test_shared_shape_index_keeps_each_events_values_and_survives_cache_reset() -> None:
    from ctiserver.pbx.ami import shape

    frame = "Event: Hangup\r\nUniqueid: {u}\r\nCause: {c}\r\nUniqueID: dup\r\n\r\n"
    data = "".join(frame.format(u=f"u{i}", c=i) for i in range(3)).encode()
    msgs = decode_all(data)
    for i, m in enumerate(msgs):
        assert isinstance(m, AmiEvent)
        # same key sequence, own values; any spelling finds the first value
        assert m["UNIQUEID"] == m["Uniqueid"] == m.get("uniqueID") == f"u{i}" and m["cause"] == str(i)
        assert m.get_all("uniqueid") == [f"u{i}", "dup"]
        expected = (("Event", "Hangup"), ("Uniqueid", f"u{i}"), ("Cause", str(i)), ("UniqueID", "dup"))
        assert m.headers == expected
    # a peer sending endless new key sets only makes the bounded cache start over
    for i in range(shape._MAX_SHAPES + 10):
        (ev,) = decode_all(f"Event: X\r\nK{i}: v{i}\r\n\r\n".encode())
        assert ev.get(f"k{i}") == f"v{i}"  # type: ignore[union-attr]
        (ev,) = decode_all(f"Event: X{i}\r\nK: v{i}\r\n\r\n".encode())
        assert ev.get("k") == f"v{i}" and ev.name == f"X{i}"  # type: ignore[union-attr]
        (ev,) = decode_all(f"Event: Y\r\nK: v\r\nL{i}: w\r\n\r\n".encode())
        assert ev.get(f"l{i}") == "w"  # type: ignore[union-attr]
        _ = AmiEvent([("Event", "Z"), (f"M{i}", "x")]).get(f"m{i}")
    assert len(shape._SHAPES) <= shape._MAX_SHAPES and len(shape.KINDS) <= shape._MAX_KINDS
    assert all(len(known) <= shape._MAX_KIND_SHAPES for known in shape.KINDS.values())
    assert msgs[2]["uniqueid"] == "u2" and msgs[0] == decode_all(data)[0]  # type: ignore[index]


_line_value = st.text(alphabet=st.sampled_from(list("ab: \x00\rЖ-")), max_size=8)
_line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", _key, _line_value),  # the usual line, values may hold ": "
    st.builds(lambda k, v: f"{k}:{v}", _key, _line_value),  # lenient peers: no space
    st.sampled_from(["", "stray text", "\r"]),  # blank-line runs, a Follows-like body line, a stray CR
)


def _fast_paths() -> list[object]:
    """Every implementation of the decoder's fast path in this install: pure Python, and the compiled twin."""
    from ctiserver.pbx.ami import codec, fastpath

    impls: list[object] = [fastpath.events]
    if codec.ACCELERATED:
        impls.append(codec._events)
    return impls


def test_compiled_fast_path_is_built_when_required() -> None:
    """``make test`` sets CTISERVER_REQUIRE_ACCEL=1: the C accelerator must then have been built by pip."""
    from ctiserver.pbx.ami import codec

    if os.environ.get("CTISERVER_REQUIRE_ACCEL") == "1":
        assert codec.ACCELERATED, "ctiserver/pbx/ami/_fastpath.pyx was not built (no C compiler / Cython?)"
    assert len(_fast_paths()) == 1 + codec.ACCELERATED


@pytest.mark.parametrize("impl", _fast_paths(), ids=lambda f: str(getattr(f, "__module__", f)))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frames=st.lists(
        st.tuples(
            st.sampled_from(["Event: E", "Event: F", "Response: Success", "Event:E"]), st.lists(_line, max_size=5)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_whole_read_fast_path_gives_what_frame_by_frame_parsing_gives(
    impl: object, frames: list[tuple[str, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoder splits a read of plain events in one go (fastpath.events, compiled or not); whatever the
    read holds, the result must be the one the frame-by-frame parser gives. Shapes learnt by earlier examples
    stay known, so a known first line and line count with other keys is exercised too."""
    from unittest import mock

    from ctiserver.pbx.ami import codec

    monkeypatch.setattr(codec, "_events", impl)
    stream = b"".join(("\r\n".join([first, *lines]) + "\r\n\r\n").encode() for first, lines in frames)

    def decode(data: bytes) -> list[object]:
        try:
            return list(decode_all(data))
        except AmiProtocolError as exc:  # a frame without any header: reported, the good ones kept
            return list(exc.messages)

    got = decode(stream)
    with mock.patch.object(codec, "_events", lambda *args: False):
        expected = decode(stream)
    assert got == expected
    for msg in got:
        assert isinstance(msg, AmiEvent | AmiResponse)
        for key, _value in msg.headers:
            # any spelling, the one sent included: the first value whatever its case
            assert msg.get_all(key.upper())[0] == msg[key.lower()] == msg[key] == msg.get(key.swapcase())
        if isinstance(msg, AmiEvent):
            assert msg.name == (msg.get("Event") or "")


def test_fast_path_is_taken_for_plain_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctiserver.pbx.ami import codec

    calls: list[bool] = []
    real = codec._events

    def spy(text: str, limit: int, out: list[object]) -> bool:
        calls.append(real(text, limit, out))  # type: ignore[arg-type]
        return calls[-1]

    monkeypatch.setattr(codec, "_events", spy)
    msgs = decode_all(NEWCHANNEL * 3 + b"Event: Hangup\r\nUniqueid: u\r\nStray\r\n\r\n")
    assert calls == [False]  # a line without ": " sends the read frame by frame
    calls.clear()
    fast = decode_all(NEWCHANNEL * 3 + b"Event: Hangup\r\nUniqueid: u\r\nValue: a: b\r\n\r\n")
    assert calls == [True] and fast[:3] == msgs[:3]  # a value may hold ": "
    assert fast[3]["value"] == "a: b" and fast[3].name == "Hangup"  # type: ignore[index,union-attr]
    # the same first line and line count with other keys: each frame gets its own shape
    calls.clear()
    mixed = decode_all(b"Event: Q\r\nA: 1\r\n\r\nEvent: Q\r\nB: 2\r\n\r\nEvent: Q\r\nA: 3\r\n\r\n")
    assert calls == [True]
    assert [m.headers[1] for m in mixed] == [("A", "1"), ("B", "2"), ("A", "3")]  # type: ignore[union-attr]
    assert [m.get("b") for m in mixed] == [None, "2", None]  # type: ignore[union-attr]
    assert [m["CallerIDName"] for m in fast[:3]] == ["Иван Петров"] * 3  # type: ignore[index]
    assert fast[0].headers[4] == ("CallerIDName", "Иван Петров")  # type: ignore[union-attr]


def test_lf_frame_after_the_last_crlf_frame_of_a_read_comes_out_of_the_same_read() -> None:
    dec = AmiDecoder()
    got = dec.feed(b"Event: A\r\nX: 1\r\n\r\nEvent: B\nY: 2\n\n")
    assert [m.name for m in got] == ["A", "B"] and dec.buffered == 0  # type: ignore[union-attr]
    got = dec.feed(b"Event: C\r\nX: 1\r\n\r\nEvent: D\nY: 2\n")  # D is not complete yet
    assert [m.name for m in got] == ["C"]  # type: ignore[union-attr]
    assert [m.name for m in dec.feed(b"\n")] == ["D"]  # type: ignore[union-attr]
