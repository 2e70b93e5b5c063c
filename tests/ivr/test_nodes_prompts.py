"""play, menu, collect, survey on the in-memory CallControl."""

from __future__ import annotations

from ctiserver.ivr.ports import MemorySurveys
from ctiserver.ivr.run_state import Services
from ctiserver.ivr.session import IvrEnd
from tests.ivr.util import run, script_of

MENU = """
script: t
nodes:
  hello:
    type: play
    sounds: [hello-world]
    barge_in: true
    next: menu
  menu:
    type: menu
    prompt: [main-menu]
    options: {1: one, 2: two}
    retries: 2
    timeout: 4
    invalid_prompt: [invalid]
    timeout_prompt: [timeout]
    on_fail: failed
  one: {type: hangup, cause: normal}
  two: {type: hangup, cause: busy}
  failed: {type: hangup, sounds: [bye]}
"""


async def test_play_then_menu_option() -> None:
    session, fake = await run(script_of(MENU), ["2"])
    assert session.path == ["hello", "menu", "two"]
    assert session.end is IvrEnd.HANGUP
    assert fake.methods("chan-1")[0] == "answer"
    assert fake.played() == ["sound:hello-world", "sound:main-menu"]
    assert session.steps[1].digits == "2" and session.steps[1].result == "option 2"
    assert fake.calls[-1].method == "hangup" and fake.calls[-1].args["reason"] == "busy"


BARGE = """
script: t
nodes:
  first:
    type: menu
    prompt: [first-menu]
    options: {1: hello}
  hello:
    type: play
    sounds: [long-welcome]
    barge_in: true
    next: second
  second:
    type: menu
    prompt: [second-menu]
    options: {2: two}
  two: {type: hangup}
"""


async def test_typed_ahead_digit_barges_in_and_is_the_next_menu_choice() -> None:
    # "12": 1 picks the first option; the 2 typed ahead interrupts the welcome and answers the second menu
    session, fake = await run(script_of(BARGE), ["12"])
    assert session.path == ["first", "hello", "second", "two"]
    assert session.steps[1].digits == "2" and session.steps[1].result == "barged"
    assert session.steps[2].digits == "2"
    assert "sound:second-menu" not in fake.played()  # the choice was already made


async def test_menu_invalid_then_valid() -> None:
    session, fake = await run(script_of(MENU), ["9", "1"])
    assert session.path == ["hello", "menu", "one"]
    assert session.steps[1].digits == "91"
    assert "sound:invalid" in fake.played()


async def test_menu_timeouts_exhaust_retries_to_on_fail() -> None:
    session, fake = await run(script_of(MENU), ["", "", ""])
    assert session.path == ["hello", "menu", "failed"]
    assert session.steps[1].result == "failed"
    assert fake.played().count("sound:main-menu") == 3  # first try + 2 retries
    assert fake.played().count("sound:timeout") == 2
    assert fake.played()[-1] == "sound:bye"


COLLECT = """
script: t
nodes:
  acct:
    type: collect
    var: account
    prompt: [enter-account]
    min_length: 4
    max_length: 6
    pattern: "^[1-9][0-9]+$"
    retries: 1
    invalid_prompt: [invalid]
    on_fail: fail
    next: ok
  ok: {type: hangup}
  fail: {type: hangup, cause: congestion}
"""


async def test_collect_valid_with_terminator() -> None:
    session, fake = await run(script_of(COLLECT), ["12345#"])
    assert session.path == ["acct", "ok"]
    assert session.vars["account"] == "12345"
    assert ("set_variable", "__CTI_ACCOUNT", "12345") in [
        (c.method, c.args.get("name"), c.args.get("value")) for c in fake.calls
    ]


async def test_collect_rejects_pattern_then_fails() -> None:
    session, fake = await run(script_of(COLLECT), ["0123#", "12#"])
    assert session.path == ["acct", "fail"]
    assert session.steps[0].digits == "0123,12"
    assert "account" not in session.vars
    assert fake.played().count("sound:invalid") == 1


async def test_collect_without_terminator_stops_at_max_length() -> None:
    session, _ = await run(
        script_of(COLLECT.replace("retries: 1", "retries: 1\n    terminator: ''")), ["1234567"]
    )
    assert session.vars["account"] == "123456"


async def test_collect_with_terminator_rejects_too_long_and_swallows_the_hash() -> None:
    session, fake = await run(script_of(COLLECT), ["1234567#", "123456#"])
    assert session.steps[0].digits == "1234567,123456"
    assert session.vars["account"] == "123456" and session.path == ["acct", "ok"]
    assert fake.channels["chan-1"].buffer == ""


SURVEY = """
script: s
nodes:
  q:
    type: survey
    name: csat
    question: [csat-question]
    retries: 1
    invalid_prompt: [invalid]
    thanks: [thanks]
    next: bye
  bye: {type: hangup}
"""


async def test_survey_stores_score_against_the_call() -> None:
    surveys = MemorySurveys()
    session, fake = await run(script_of(SURVEY), ["7", "4"], services=Services(surveys=surveys))
    assert [(r.call_id, r.survey, r.score, r.scale) for r in surveys.results] == [("chan-1", "csat", 4, 5)]
    assert session.steps[0].digits == "74"
    assert "sound:thanks" in fake.played()


async def test_survey_without_answer_stores_nothing() -> None:
    surveys = MemorySurveys()
    session, _ = await run(script_of(SURVEY), ["", ""], services=Services(surveys=surveys))
    assert surveys.results == []
    assert session.steps[0].result == "no answer" and session.path == ["q", "bye"]


async def test_collect_too_long_without_hash_keeps_the_next_entry() -> None:
    session, _ = await run(script_of(COLLECT), ["1234567", "123456#"])
    assert session.steps[0].digits == "1234567,123456" and session.vars["account"] == "123456"
