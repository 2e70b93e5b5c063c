"""The channel state machine and the config loader's errors (unit level)."""

from __future__ import annotations

import pytest

from ctiserver.sim.config import SimConfigError, load_sim_config
from ctiserver.sim.model import Channel, ChanState, IllegalTransition


def _channel() -> Channel:
    return Channel(id="x.1", name="PJSIP/1001-00000001", linkedid="x.1", endpoint="PJSIP/1001", created=0.0)


def test_channel_state_transitions() -> None:
    ch = _channel()
    assert ch.set_state(ChanState.RINGING)
    assert not ch.set_state(ChanState.RINGING)  # already there: no event
    assert ch.set_state(ChanState.UP)
    assert (int(ch.state), ch.state.desc) == (6, "Up")
    with pytest.raises(IllegalTransition):
        ch.set_state(ChanState.RING)


def test_config_errors_name_the_field(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.yaml"
    path.write_text("endpoints:\n  - {name: '1001', answer_after: soon}\n")
    with pytest.raises(SimConfigError, match=r"endpoints\.0\.answer_after"):
        load_sim_config(path)
    path.write_text("- just a list\n")
    with pytest.raises(SimConfigError, match="top level must be a mapping"):
        load_sim_config(path)
    with pytest.raises(SimConfigError, match="No such file"):
        load_sim_config(Path(str(tmp_path)) / "missing.yaml")


def test_sound_duration_from_file_then_config_then_default(tmp_path: object) -> None:
    from pathlib import Path

    from ctiserver.clock import ManualClock
    from ctiserver.sim.config import SimConfig
    from ctiserver.sim.engine import Engine
    from ctiserver.sim.hub import Hub
    from ctiserver.sim.media import sound_seconds, write_wav

    sounds = Path(str(tmp_path))
    write_wav(str(sounds / "custom-prompt.wav"), 2.5)
    cfg = SimConfig(sounds_dir=str(sounds), sounds={"beep": 0.423}, default_sound_seconds=1.25)
    clock = ManualClock()
    engine = Engine(cfg, clock, Hub(clock, cfg.systemname, cfg.asterisk_id))
    assert sound_seconds(engine, "sound:custom-prompt") == pytest.approx(2.5)
    assert sound_seconds(engine, "sound:beep") == pytest.approx(0.423)
    assert sound_seconds(engine, "sound:unknown") == pytest.approx(1.25)
