"""What an AMI action can fail with. None of them carries HTTP; the API layer maps them."""

from __future__ import annotations

from ctiserver.pbx.ami.messages import AmiResponse

# Actions that only read state: safe for a caller to send again after AmiLinkLost. Everything else
# (Originate, Redirect, Hangup, QueueAdd, MixMonitor...) may have run before the link dropped.
IDEMPOTENT_ACTIONS = frozenset(
    a.lower()
    for a in (
        "Ping", "CoreShowChannels", "CoreStatus", "CoreSettings", "Status", "QueueStatus", "QueueSummary",
        "Queues", "PJSIPShowEndpoints", "PJSIPShowEndpoint", "PJSIPShowContacts",
        "PJSIPShowRegistrationsInbound",
        "DeviceStateList", "ExtensionStateList", "BridgeList", "BridgeInfo", "Getvar", "ListCommands",
        "ShowDialPlan", "MixMonitorList", "Challenge", "Events", "WaitEvent", "CoreShowChannelMap",
    )
)


class AmiError(Exception):
    """Base of the AMI client's errors."""


class AmiNotConnected(AmiError):
    """The link was not up within the action's timeout; the action was NOT sent."""


class AmiLinkLost(AmiError):
    """The link dropped while the action was in flight. It may or may not have run on Asterisk; it is never
    re-sent automatically. ``idempotent`` says whether sending it again is harmless."""

    def __init__(self, action: str, action_id: str) -> None:
        self.action = action
        self.action_id = action_id
        self.idempotent = action.lower() in IDEMPOTENT_ACTIONS
        hint = "safe to retry" if self.idempotent else "it may have run: check before retrying"
        super().__init__(f"AMI link lost while {action} (ActionID {action_id}) was in flight; {hint}")


class AmiTimeout(AmiError):
    """No response within the timeout. The action was sent and may still run."""

    def __init__(self, action: str, action_id: str, timeout: float) -> None:
        self.action = action
        self.action_id = action_id
        super().__init__(f"no AMI response to {action} (ActionID {action_id}) within {timeout:g} s")


class AmiAuthError(AmiError):
    """Asterisk refused the login (wrong user/secret, ACL). Not retried at start-up: fix the configuration."""


class AmiActionError(AmiError):
    """``Response: Error`` for an action, raised by ``action(..., check=True)``."""

    def __init__(self, action: str, response: AmiResponse) -> None:
        self.action = action
        self.response = response
        super().__init__(f"AMI {action} failed: {response.message or response.response}")
