"""Typed ARI REST operations (paths, verbs and parameter names from Asterisk 22's swagger in
shared/asterisk-api/ari-api-docs/). Mixed into ``AriClient``, which supplies ``request()``.

Every method raises ``AriError`` (with the HTTP ``status``; 0 when Asterisk was unreachable) on failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from ctiserver.logs import get_logger
from ctiserver.pbx.ari.resources import (
    Application,
    AsteriskInfo,
    Bridge,
    Channel,
    DeviceState,
    Endpoint,
    LiveRecording,
    Malformed,
    Playback,
    StoredRecording,
    build,
)

log = get_logger(__name__)
T = TypeVar("T")


class AriError(Exception):
    """An ARI request failed: ``status`` is the HTTP status (0 = no HTTP answer at all)."""

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method else ""
        super().__init__(f"ARI {status}: {message}{where}")


def _id(value: str) -> str:
    return quote(value, safe="")


def _csv(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(value)


def _one(cls: type[T], obj: Any) -> T:
    """The typed resource of a reply; a reply that is not one is Asterisk's fault: ``AriError(502)``."""
    try:
        return build(cls, obj)
    except Malformed as exc:
        raise AriError(502, f"unexpected ARI reply: {exc}") from None


def _many(cls: type[T], objs: Any) -> list[T]:
    """A list reply; entries that are not the resource are skipped (logged), the others kept."""
    out: list[T] = []
    for obj in objs if isinstance(objs, list) else []:
        try:
            out.append(build(cls, obj))
        except Malformed as exc:
            log.warning("ari: skipped a malformed list entry", error=str(exc))
    return out


def _params(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


class AriRest:
    """The operations the engine uses. Subclasses implement ``request``."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------ channels
    async def list_channels(self) -> list[Channel]:
        return _many(Channel, await self.request("GET", "/channels"))

    async def get_channel(self, channel_id: str) -> Channel:
        return _one(Channel, await self.request("GET", f"/channels/{_id(channel_id)}"))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        extension: str | None = None,
        context: str | None = None,
        priority: int | None = None,
        label: str | None = None,
        caller_id: str | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - the ring time Asterisk applies
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        originator: str | None = None,
        formats: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """``POST /channels``: dial ``endpoint`` into Stasis ``app`` (or a dialplan location)."""
        params = _params(
            endpoint=endpoint,
            app=app,
            appArgs=None if app_args is None else _csv(app_args),
            extension=extension,
            context=context,
            priority=priority,
            label=label,
            callerId=caller_id,
            timeout=timeout,
            channelId=channel_id,
            otherChannelId=other_channel_id,
            originator=originator,
            formats=formats,
        )
        body = {"variables": dict(variables)} if variables else None
        return _one(Channel, await self.request("POST", "/channels", params=params, body=body))

    async def create_channel(
        self,
        endpoint: str,
        app: str,
        *,
        app_args: str | Sequence[str] | None = None,
        channel_id: str | None = None,
        originator: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> Channel:
        """``POST /channels/create``: a channel that is not dialled until ``dial()``."""
        params = _params(
            endpoint=endpoint,
            app=app,
            appArgs=None if app_args is None else _csv(app_args),
            channelId=channel_id,
            originator=originator,
        )
        body = {"variables": dict(variables)} if variables else None
        return _one(Channel, await self.request("POST", "/channels/create", params=params, body=body))

    async def dial(
        self,
        channel_id: str,
        *,
        caller: str | None = None,
        timeout: int | None = None,  # noqa: ASYNC109 - the ring time Asterisk applies
    ) -> None:
        await self.request(
            "POST", f"/channels/{_id(channel_id)}/dial", params=_params(caller=caller, timeout=timeout)
        )

    async def hangup(self, channel_id: str, reason: str | None = None) -> None:
        """``reason``: normal, busy, congestion, no_answer, timeout, rejected, unallocated, ..."""
        await self.request("DELETE", f"/channels/{_id(channel_id)}", params=_params(reason=reason))

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_id(channel_id)}/ring")

    async def progress(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/progress")

    async def continue_in_dialplan(
        self,
        channel_id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        params = _params(context=context, extension=extension, priority=priority, label=label)
        await self.request("POST", f"/channels/{_id(channel_id)}/continue", params=params)

    async def redirect(self, channel_id: str, endpoint: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/redirect", params={"endpoint": endpoint})

    async def move(self, channel_id: str, app: str, app_args: str | Sequence[str] | None = None) -> None:
        params = _params(app=app, appArgs=None if app_args is None else _csv(app_args))
        await self.request("POST", f"/channels/{_id(channel_id)}/move", params=params)

    async def send_dtmf(self, channel_id: str, dtmf: str, *, duration: int | None = None) -> None:
        params = _params(dtmf=dtmf, duration=duration)
        await self.request("POST", f"/channels/{_id(channel_id)}/dtmf", params=params)

    async def hold(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/hold")

    async def unhold(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_id(channel_id)}/hold")

    async def mute(self, channel_id: str, direction: str = "both") -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/mute", params={"direction": direction})

    async def unmute(self, channel_id: str, direction: str = "both") -> None:
        await self.request("DELETE", f"/channels/{_id(channel_id)}/mute", params={"direction": direction})

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/moh", params=_params(mohClass=moh_class))

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_id(channel_id)}/moh")

    async def start_silence(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_id(channel_id)}/silence")

    async def stop_silence(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_id(channel_id)}/silence")

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
        offsetms: int | None = None,
        skipms: int | None = None,
    ) -> Playback:
        """Play ``media`` (``sound:hello-world``, ``digits:42``, ``recording:name``... or several)."""
        params = _params(media=_csv(media), lang=lang, offsetms=offsetms, skipms=skipms)
        path = f"/channels/{_id(channel_id)}/play"
        if playback_id is not None:
            path += f"/{_id(playback_id)}"
        return _one(Playback, await self.request("POST", path, params=params))

    async def record(
        self,
        channel_id: str,
        name: str,
        *,
        format: str = "wav",
        max_duration: int | None = None,
        max_silence: int | None = None,
        if_exists: str | None = None,
        beep: bool | None = None,
        terminate_on: str | None = None,
    ) -> LiveRecording:
        params = _params(
            name=name,
            format=format,
            maxDurationSeconds=max_duration,
            maxSilenceSeconds=max_silence,
            ifExists=if_exists,
            beep=beep,
            terminateOn=terminate_on,
        )
        return _one(
            LiveRecording, await self.request("POST", f"/channels/{_id(channel_id)}/record", params=params)
        )

    async def get_variable(self, channel_id: str, variable: str) -> str:
        reply = await self.request(
            "GET", f"/channels/{_id(channel_id)}/variable", params={"variable": variable}
        )
        value = reply.get("value") if isinstance(reply, dict) else None
        return value if isinstance(value, str) else ""

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        params = {"variable": variable, "value": value}
        await self.request("POST", f"/channels/{_id(channel_id)}/variable", params=params)

    # ------------------------------------------------------------------------------------------- bridges
    async def list_bridges(self) -> list[Bridge]:
        return _many(Bridge, await self.request("GET", "/bridges"))

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return _one(Bridge, await self.request("GET", f"/bridges/{_id(bridge_id)}"))

    async def create_bridge(
        self, type: str | Sequence[str] = "mixing", *, bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        """``type``: mixing, holding, dtmf_events, proxy_media, video_sfu, video_single (comma list)."""
        path = "/bridges" if bridge_id is None else f"/bridges/{_id(bridge_id)}"
        return _one(Bridge, await self.request("POST", path, params=_params(type=_csv(type), name=name)))

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_id(bridge_id)}")

    async def add_channel(
        self,
        bridge_id: str,
        channel: str | Sequence[str],
        *,
        role: str | None = None,
        absorb_dtmf: bool | None = None,
        mute: bool | None = None,
        inhibit_connected_line_updates: bool | None = None,
    ) -> None:
        params = _params(
            channel=_csv(channel),
            role=role,
            absorbDTMF=absorb_dtmf,
            mute=mute,
            inhibitConnectedLineUpdates=inhibit_connected_line_updates,
        )
        await self.request("POST", f"/bridges/{_id(bridge_id)}/addChannel", params=params)

    async def remove_channel(self, bridge_id: str, channel: str | Sequence[str]) -> None:
        await self.request(
            "POST", f"/bridges/{_id(bridge_id)}/removeChannel", params={"channel": _csv(channel)}
        )

    async def bridge_start_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", f"/bridges/{_id(bridge_id)}/moh", params=_params(mohClass=moh_class))

    async def bridge_stop_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_id(bridge_id)}/moh")

    async def bridge_play(
        self,
        bridge_id: str,
        media: str | Sequence[str],
        *,
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> Playback:
        path = f"/bridges/{_id(bridge_id)}/play"
        if playback_id is not None:
            path += f"/{_id(playback_id)}"
        return _one(Playback, await self.request("POST", path, params=_params(media=_csv(media), lang=lang)))

    async def bridge_record(
        self,
        bridge_id: str,
        name: str,
        *,
        format: str = "wav",
        max_duration: int | None = None,
        if_exists: str | None = None,
        beep: bool | None = None,
    ) -> LiveRecording:
        params = _params(
            name=name, format=format, maxDurationSeconds=max_duration, ifExists=if_exists, beep=beep
        )
        return _one(
            LiveRecording, await self.request("POST", f"/bridges/{_id(bridge_id)}/record", params=params)
        )

    # ----------------------------------------------------------------------------------------- playbacks
    async def get_playback(self, playback_id: str) -> Playback:
        return _one(Playback, await self.request("GET", f"/playbacks/{_id(playback_id)}"))

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{_id(playback_id)}")

    async def control_playback(self, playback_id: str, operation: str) -> None:
        """``operation``: restart, pause, unpause, reverse, forward."""
        await self.request("POST", f"/playbacks/{_id(playback_id)}/control", params={"operation": operation})

    # ---------------------------------------------------------------------------------------- recordings
    async def get_live_recording(self, name: str) -> LiveRecording:
        return _one(LiveRecording, await self.request("GET", f"/recordings/live/{_id(name)}"))

    async def stop_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{_id(name)}/stop")

    async def cancel_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/live/{_id(name)}")

    async def pause_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{_id(name)}/pause")

    async def unpause_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/live/{_id(name)}/pause")

    async def mute_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{_id(name)}/mute")

    async def unmute_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/live/{_id(name)}/mute")

    async def list_stored_recordings(self) -> list[StoredRecording]:
        return _many(StoredRecording, await self.request("GET", "/recordings/stored"))

    async def delete_stored_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/stored/{_id(name)}")

    async def copy_stored_recording(self, name: str, destination: str) -> StoredRecording:
        params = {"destinationRecordingName": destination}
        return _one(
            StoredRecording, await self.request("POST", f"/recordings/stored/{_id(name)}/copy", params=params)
        )

    # ------------------------------------------------------------------------------ endpoints, devices, apps
    async def list_endpoints(self, technology: str | None = None) -> list[Endpoint]:
        path = "/endpoints" if technology is None else f"/endpoints/{_id(technology)}"
        return _many(Endpoint, await self.request("GET", path))

    async def get_endpoint(self, technology: str, resource: str) -> Endpoint:
        return _one(Endpoint, await self.request("GET", f"/endpoints/{_id(technology)}/{_id(resource)}"))

    async def list_device_states(self) -> list[DeviceState]:
        return _many(DeviceState, await self.request("GET", "/deviceStates"))

    async def get_device_state(self, name: str) -> DeviceState:
        return _one(DeviceState, await self.request("GET", f"/deviceStates/{_id(name)}"))

    async def set_device_state(self, name: str, state: str) -> None:
        """Only for ``Stasis:<name>`` devices: NOT_INUSE, INUSE, BUSY, UNAVAILABLE, RINGING, ONHOLD..."""
        await self.request("PUT", f"/deviceStates/{_id(name)}", params={"deviceState": state})

    async def delete_device_state(self, name: str) -> None:
        await self.request("DELETE", f"/deviceStates/{_id(name)}")

    async def list_applications(self) -> list[Application]:
        return _many(Application, await self.request("GET", "/applications"))

    async def get_application(self, name: str) -> Application:
        return _one(Application, await self.request("GET", f"/applications/{_id(name)}"))

    async def subscribe(self, app: str, event_source: str | Sequence[str]) -> Application:
        """``event_source``: channel:<id>, bridge:<id>, endpoint:<tech>/<res>, deviceState:<name>."""
        params = {"eventSource": _csv(event_source)}
        return _one(
            Application, await self.request("POST", f"/applications/{_id(app)}/subscription", params=params)
        )

    async def unsubscribe(self, app: str, event_source: str | Sequence[str]) -> Application:
        params = {"eventSource": _csv(event_source)}
        reply = await self.request("DELETE", f"/applications/{_id(app)}/subscription", params=params)
        return _one(Application, reply)

    # ------------------------------------------------------------------------------------------- asterisk
    async def asterisk_info(self) -> AsteriskInfo:
        return AsteriskInfo.from_json(await self.request("GET", "/asterisk/info"))

    async def asterisk_ping(self) -> dict[str, Any]:
        reply = await self.request("GET", "/asterisk/ping")
        return reply if isinstance(reply, dict) else {}

    async def get_global_variable(self, variable: str) -> str:
        reply = await self.request("GET", "/asterisk/variable", params={"variable": variable})
        value = reply.get("value") if isinstance(reply, dict) else None
        return value if isinstance(value, str) else ""
