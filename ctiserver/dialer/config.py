"""The ``dialer:`` configuration section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.dialer.ami_lines import AmiLinesConfig
from ctiserver.dialer.callbacks import AbandonedCallbackConfig
from ctiserver.dialer.model import CampaignSettings


class DialerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    lines: AmiLinesConfig = AmiLinesConfig()
    desk: str = Field("auto", pattern="^(auto|acd|ami)$")  # auto: the ACD when it runs, else the AMI desk
    agents: tuple[str, ...] = ()  # AMI desk: the agents' extensions
    agent_context: str = "from-agents"
    agent_device: str = Field("PJSIP/{agent}", pattern=r"\{agent\}")  # AMI desk: the phone its context rings
    wrapup: float = Field(15.0, ge=0)  # AMI desk
    campaigns: tuple[CampaignSettings, ...] = ()
    abandoned_callbacks: AbandonedCallbackConfig = AbandonedCallbackConfig(enabled=False)
