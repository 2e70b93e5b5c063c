"""The ``ivr:`` section of ctiserver.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IvrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    scripts_dir: str = "ivr_scripts"
    sound_dirs: tuple[str, ...] = ()  # where `ivr check` looks for prompts (missing ones are warnings)
    watch_interval: float = Field(2.0, gt=0, description="seconds between looks at scripts_dir (hot reload)")
    transfer_context: str = "from-agents"  # `transfer` to an extension
    external_context: str = "ctiserver-outbound"  # `transfer` to an external number (+…, > 6 digits)
    queue_context: str = "queues"  # used by `queue` nodes when no ACD is running
    var_prefix: str = "__CTI_"
    max_steps: int = Field(500, ge=10)
    vars: dict[str, str] = {}  # site settings every script sees as vars.* (e.g. billing_url)
    default_script: str | None = None  # for DIDs no script is bound to; None: hang up
    keep_sessions: int = Field(1000, ge=0)  # finished IVR sessions kept in memory for queries


def acd_queue_names(config: Any) -> set[str] | None:
    """Queue names configured for the ACD (``acd.queues[].name``), read from the raw configuration so the IVR
    does not depend on the ACD's models; None when the ACD has no queues configured."""
    raw = (getattr(config, "model_extra", None) or {}).get("acd") or {}
    queues = raw.get("queues") if isinstance(raw, dict) else None
    if not isinstance(queues, list) or not queues:
        return None
    return {str(q.get("name")) for q in queues if isinstance(q, dict) and q.get("name")}
