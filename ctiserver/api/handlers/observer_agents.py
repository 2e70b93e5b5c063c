# mypy: disable-error-code="type-abstract"
"""Observer mode (app_queue installations): agents whose phones we do not control are logged in/out of app_queue
queues and paused/unpaused through AMI (``QueueAdd``/``QueueRemove``/``QueuePause``), naming the queues and the
penalty. The generic ``/api/agents/{id}/...`` endpoints reach the same agents (with the queues of their last
logout); these take the queues explicitly and work in hybrid daemons (our ACD + app_queue) too."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.api.app import service
from ctiserver.api.auth import ALL_ROLES
from ctiserver.api.errors import not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.agents import SELF_OR_STAFF, JsonList, own_agent, visible_agents
from ctiserver.api.observed import ObservedAgents
from ctiserver.api.routing import ApiRequest

ACTIONS = ("login", "logout", "pause", "ready")
QueueName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]


class ObserverActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        None, max_length=64, description="pause reason (pause; login paused); one of GET /api/pause-reasons"
    )
    queues: list[QueueName] = Field(
        [],
        max_length=50,
        description="app_queue queues: login adds to these (default: those of the last logout), logout removes "
        "from these (default: all), pause/ready apply to these (default: every queue)",
    )
    penalty: int = Field(0, ge=0, le=1000, description="login: the member's penalty")


def _observed(req: ApiRequest) -> ObservedAgents:
    return service(req, ObservedAgents, "observer mode (acd.observer)")


@ROUTER.route(
    "GET",
    "/api/observer/agents",
    roles=ALL_ROLES,
    summary="app_queue agents (observer mode): state, queues, interface; an agent token sees itself",
    tag="observer",
    response=JsonList,
)
async def list_observed_agents(req: ApiRequest) -> JsonList:
    return visible_agents(req, _observed(req).list_agents())


@ROUTER.route(
    "GET",
    "/api/observer/agents/{agent_id}",
    roles=ALL_ROLES,
    summary="One app_queue agent (observer mode)",
    tag="observer",
    response=dict[str, Any],
)
async def get_observed_agent(req: ApiRequest) -> dict[str, Any]:
    agent = _observed(req).get_agent(own_agent(req))
    if agent is None:
        raise not_found("agent", "agent_id")
    return dict(agent)


def _action(action: str) -> Any:
    async def handler(req: ApiRequest) -> dict[str, Any]:
        body: ObserverActionIn = req.body
        result = await _observed(req).agent_action(
            own_agent(req), action, body.reason, queues=body.queues, penalty=body.penalty
        )
        return dict(result)

    handler.__name__ = "observed_agent_" + action
    return handler


for _name in ACTIONS:
    ROUTER.route(
        "POST",
        f"/api/observer/agents/{{agent_id}}/{_name}",
        roles=SELF_OR_STAFF,
        summary=f"app_queue agent {_name} (observer mode, through AMI); 'confirmed' once Asterisk reported it",
        tag="observer",
        body=ObserverActionIn,
        response=dict[str, Any],
        errors=(409,),
    )(_action(_name))
