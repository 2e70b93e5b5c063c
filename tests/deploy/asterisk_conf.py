"""A small parser for Asterisk's .conf syntax and the option catalogue used to lint asterisk-conf/.

Options of the modules that publish a configuration schema (pjsip, ari, cel, cdr, features, ...) come from
the ``<configInfo>`` sections of Asterisk 22's documentation XML (shared/asterisk-api/core-en_US.xml).
Files whose modules publish no schema (manager, http, queues, musiconhold, modules, rtp, logger, asterisk)
are checked against ``KNOWN`` below: option names from the ``configs/samples/*.conf.sample`` files of the
same Asterisk release.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


@dataclass
class Section:
    name: str
    line: int
    bases: tuple[str, ...] = ()
    template: bool = False
    options: list[tuple[str, str, int]] = field(default_factory=list)  # (key, value, line)

    def get(self, key: str) -> str | None:
        for k, v, _ in self.options:
            if k == key:
                return v
        return None


@dataclass
class ConfFile:
    path: Path
    sections: list[Section]
    includes: list[str]


_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<opts>[^)]*)\))?\s*$")


class ConfSyntaxError(ValueError):
    pass


def strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


def parse(path: Path) -> ConfFile:
    sections: list[Section] = []
    includes: list[str] = []
    current: Section | None = None
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = strip_comment(raw)
        if not line:
            continue
        if line.startswith("#include") or line.startswith("#tryinclude"):
            includes.append(line.split(None, 1)[1].strip().strip('"'))
            continue
        m = _SECTION.match(line)
        if m:
            opts = [o.strip() for o in (m.group("opts") or "").split(",") if o.strip()]
            current = Section(
                name=m.group("name").strip(),
                line=no,
                bases=tuple(o for o in opts if o != "!"),
                template="!" in opts,
            )
            sections.append(current)
            continue
        if "=" not in line:
            raise ConfSyntaxError(f"{path.name}:{no}: not 'key = value': {raw!r}")
        if current is None:
            raise ConfSyntaxError(f"{path.name}:{no}: option outside a [section]")
        key, _, value = line.partition("=")
        value = value[1:] if value.startswith(">") else value
        current.options.append((key.strip(), value.strip(), no))
    return ConfFile(path, sections, includes)


def effective(conf: ConfFile, section: Section) -> dict[str, str]:
    """Options of ``section`` including those inherited from its templates (template-first)."""
    out: dict[str, str] = {}
    for base in section.bases:
        tpl = next((s for s in conf.sections if s.name == base and s.template), None)
        if tpl is None:
            raise ConfSyntaxError(
                f"{conf.path.name}:{section.line}: template [{base}] is not defined (as (!))"
            )
        out.update(effective(conf, tpl))
    for k, v, _ in section.options:
        out[k] = v
    return out


# ---- the catalogue -----------------------------------------------------------------------------------------


@cache
def xml_root(xml_path: Path) -> ET.Element:
    return ET.parse(xml_path).getroot()


@cache
def xml_schema(xml_path: Path) -> dict[str, dict[str, frozenset[str]]]:
    """{config file: {object type: option names}} from every <configInfo> of the documentation XML."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for info in xml_root(xml_path).iter("configInfo"):
        for cfile in info.iter("configFile"):
            objs = out.setdefault(cfile.get("name", ""), {})
            for obj in cfile.iter("configObject"):
                names = {o.get("name", "") for o in obj.iter("configOption")}
                objs[obj.get("name", "")] = frozenset(objs.get(obj.get("name", ""), frozenset()) | names)
    return out


@cache
def xml_names(xml_path: Path, tag: str) -> frozenset[str]:
    """Names of every <application>, <function>, <manager> ... in the documentation XML."""
    return frozenset(e.get("name", "") for e in xml_root(xml_path).iter(tag))


@cache
def xml_modules(xml_path: Path) -> frozenset[str]:
    return frozenset(e.get("module", "") for e in xml_root(xml_path).iter() if e.get("module"))


@cache
def xml_app_options(xml_path: Path, app: str) -> frozenset[str]:
    for e in xml_root(xml_path).iter("application"):
        if e.get("name") == app:
            return frozenset(o.get("name", "") for o in e.iter("option"))
    return frozenset()


ANY = frozenset({"*"})

# Files without a published schema: option names from Asterisk 22's configs/samples/<file>.sample.
KNOWN: dict[str, dict[str, frozenset[str]]] = {
    "manager.conf": {
        "general": frozenset(
            "enabled webenabled port bindaddr tlsenable tlsbindaddr tlscertfile tlsprivatekey tlscipher "
            "allowmultiplelogin displayconnects timestampevents brokeneventsaction channelvars debug "
            "authtimeout "
            "authlimit httptimeout".split()
        ),
        "*user*": frozenset(
            "secret deny permit acl setvar eventfilter writetimeout displayconnects read write".split()
        ),
    },
    "http.conf": {
        "general": frozenset(
            "servername enabled bindaddr bindport prefix sessionlimit session_inactivity session_keep_alive "
            "enablestatic redirect tlsenable tlsbindaddr tlscertfile tlsprivatekey tlscipher tlsdisablev1 "
            "tlsdisablev11 tlsdisablev12 tlsservercipherorder".split()
        ),
        "post_mappings": ANY,
    },
    "queues.conf": {
        "general": frozenset(
            "persistentmembers enable_cidname_logging autofill monitor-type shared_lastcall "
            "negative_penalty_invalid log_membername_as_agent log-restricted-caller-id "
            "force_longest_waiting_caller".split()
        ),
        "*queue*": frozenset(
            "musicclass announce queue-callerannounce strategy servicelevel context "
            "penaltymemberslimit timeout "
            "retry timeoutpriority weight wrapuptime autofill autopause autopausedelay autopausebusy "
            "autopauseunavail maxlen setinterfacevar setqueueentryvar setqueuevar membergosub "
            "announce-frequency "
            "min-announce-frequency periodic-announce-frequency periodic-announce-startdelay "
            "random-periodic-announce relative-periodic-announce announce-holdtime announce-position "
            "announce-to-first-user announce-position-limit announce-round-seconds queue-youarenext "
            "queue-thereare queue-callswaiting queue-holdtime queue-minute queue-minutes queue-seconds "
            "queue-thankyou queue-reporthold periodic-announce monitor-format joinempty leavewhenempty "
            "eventwhencalled eventmemberstatus reportholdtime ringinuse memberdelay timeoutrestart "
            "defaultrule "
            "member".split()
        ),
    },
    "musiconhold.conf": {
        "general": frozenset({"cachertclasses", "preferchannelclass"}),
        "*class*": frozenset(
            "mode directory sort random application format kill_escalation_delay kill_method digit "
            "announcement loop_last answeredonly entry".split()
        ),
    },
    "modules.conf": {"modules": frozenset("autoload preload load noload require preload-require".split())},
    "rtp.conf": {
        "general": frozenset(
            "rtpstart rtpend rtpchecksums dtmftimeout rtcpinterval strictrtp probation icesupport stunaddr "
            "turnaddr turnusername turnpassword ice_blacklist ice_acl stun_blacklist stun_acl dtls_mtu "
            "srtpreplayprotection".split()
        ),
    },
    "cdr.conf": {"csv": frozenset("usegmtime loguniqueid loguserfield accountlogs newcdrcolumns".split())},
    "cdr_manager.conf": {"general": frozenset({"enabled"}), "mappings": ANY},
    "cel.conf": {"manager": frozenset({"enabled", "show_user_defined"})},
    "logger.conf": {
        "general": frozenset(
            "dateformat use_callids appendhostname queue_log queue_log_to_file queue_log_name "
            "queue_log_realtime_use_gmt rotatestrategy exec_after_rotate logger_queue_limit".split()
        ),
        "logfiles": ANY,
    },
    "asterisk.conf": {
        "directories": frozenset(
            "astcachedir astetcdir astmoddir astvarlibdir astdbdir astkeydir astdatadir astagidir "
            "astspooldir "
            "astrundir astlogdir astsbindir".split()
        ),
        "options": frozenset(
            "verbose debug trace refdebug alwaysfork nofork quiet timestamp execincludes console "
            "highpriority "
            "initcrypto nocolor dontwarn dumpcore languageprefix systemname autosystemname mindtmfduration "
            "maxcalls maxload maxfiles minmemfree cache_media_frames cache_record_files record_cache_dir "
            "transmit_silence transcode_via_sln runuser rungroup lightbackground forceblackbackground "
            "defaultlanguage documentation_language hideconnect lockconfdir stdexten live_dangerously "
            "entityid rtp_use_dynamic rtp_pt_dynamic sounds_search_custom_dir channel_storage_backend "
            "disable_remote_console_shell".split()
        ),
    },
    "extensions.conf": {
        "general": frozenset(
            "static writeprotect autofallthrough extenpatternmatchnew clearglobalvars userscontext".split()
        ),
        "globals": ANY,
    },
}

# Modules without documentation in the XML (no application/function/manager action of their own), as named in
# Asterisk 22's source tree (res/, bridges/, codecs/, formats/, channels/, cdr/, cel/).
UNDOCUMENTED_MODULES = frozenset(
    """res_sorcery_config res_sorcery_memory res_sorcery_astdb res_timing_timerfd res_rtp_asterisk
    res_pjproject
    res_pjsip_session res_pjsip_authenticator_digest res_pjsip_outbound_authenticator_digest
    res_pjsip_endpoint_identifier_ip res_pjsip_endpoint_identifier_user
    res_pjsip_endpoint_identifier_anonymous
    res_pjsip_caller_id res_pjsip_dtmf_info res_pjsip_sdp_rtp res_pjsip_nat res_pjsip_rfc3326
    res_pjsip_diversion
    res_pjsip_refer res_pjsip_logger res_pjsip_exten_state res_pjsip_pidf_body_generator
    res_pjsip_dialog_info_body_generator res_pjsip_acl res_http_websocket res_stasis res_stasis_answer
    res_stasis_playback res_stasis_recording res_stasis_snoop res_stasis_device_state res_ari res_ari_model
    res_ari_applications res_ari_asterisk res_ari_bridges res_ari_channels res_ari_device_states
    res_ari_endpoints res_ari_events res_ari_playbacks res_ari_recordings res_ari_sounds bridge_simple
    bridge_softmix bridge_native_rtp bridge_holding bridge_builtin_features bridge_builtin_interval_features
    chan_bridge_media codec_ulaw codec_alaw codec_gsm codec_g722 codec_resample format_wav format_wav_gsm
    format_gsm format_pcm format_sln cdr_csv""".split()
)

MANAGER_CLASSES = frozenset(
    "all system call log verbose agent user config command dtmf reporting cdr dialplan originate agi cc aoc "
    "test security message".split()
)


# ---- the lint ----------------------------------------------------------------------------------------------

DIALPLAN_KEYS = frozenset({"exten", "same", "include", "switch", "ignorepat"})
_XML_OBJECT = {  # file -> how a section maps to the XML object name
    "features.conf": {"general": "globals", "featuremap": "featuremap", "applicationmap": "applicationmap"},
}


def _allowed(fname: str, section: Section, conf: ConfFile, xml: Path) -> tuple[frozenset[str], str]:
    """(allowed option names, object description) for one section, or raise ConfSyntaxError."""
    schema = xml_schema(xml).get(fname, {})
    known = KNOWN.get(fname, {})
    if fname == "pjsip.conf" or (fname == "ari.conf" and section.name != "general"):
        kind = effective(conf, section).get("type")
        if kind is None:
            raise ConfSyntaxError(f"{fname}:{section.line}: [{section.name}] has no type")
        if kind not in schema:
            raise ConfSyntaxError(f"{fname}:{section.line}: [{section.name}] unknown type {kind!r}")
        return schema[kind] | {"type"}, kind
    obj = _XML_OBJECT.get(fname, {}).get(section.name, section.name)
    names: frozenset[str] = schema.get(obj, frozenset()) | known.get(section.name, frozenset())
    if names:
        return names, section.name
    if fname.startswith("extensions"):
        return DIALPLAN_KEYS, "context"
    for wildcard in ("*user*", "*queue*", "*class*"):
        if wildcard in known:
            return known[wildcard], wildcard
    raise ConfSyntaxError(f"{fname}:{section.line}: section [{section.name}] is not known for {fname}")


def lint_file(path: Path, xml: Path) -> list[str]:
    """Unknown sections/options of one file (empty when clean)."""
    fname = path.name
    if fname.startswith("extensions"):
        fname_key = "extensions.conf"
    else:
        fname_key = fname
    if fname_key not in KNOWN and fname_key not in xml_schema(xml):
        return [f"{fname}: no option catalogue for this file"]
    try:
        conf = parse(path)
    except ConfSyntaxError as exc:
        return [str(exc)]
    errors: list[str] = []
    for section in conf.sections:
        if section.template:
            continue  # checked through the sections that use it
        try:
            allowed, what = _allowed(fname_key, section, conf, xml)
            opts = effective(conf, section)
        except ConfSyntaxError as exc:
            errors.append(str(exc))
            continue
        if allowed == ANY:
            continue
        for key, _, line in section.options:
            if key not in allowed:
                errors.append(f"{fname}:{line}: [{section.name}] ({what}) unknown option {key!r}")
        for key in opts:
            if key not in allowed and key not in {k for k, _, _ in section.options}:
                errors.append(
                    f"{fname}:{section.line}: [{section.name}] ({what}) inherits unknown option {key!r}"
                )
    return errors
