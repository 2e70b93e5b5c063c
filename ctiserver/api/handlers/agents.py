# mypy: disable-error-code="type-abstract"
"""Agents (login/logout/ready/pause/wrap-up end/skills), queues (live KPIs) and KPI reports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ctiserver.api.app import service
from ctiserver.api.auth import ALL_ROLES, STAFF, Role
from ctiserver.api.errors import ApiError, forbidden, not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import REPORT_INTERVALS, AgentActionIn, ReportQuery, SkillsIn
from ctiserver.api.services import AgentsService, QueuesService, ReportsService

JsonList = list[dict[str, Any]]
ACTIONS = ("login", "logout", "ready", "pause", "wrapup-end")
MAX_REPORT_DAYS = 400
SELF_OR_STAFF = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


def own_agent(req: ApiRequest) -> str:
    """The path's ``agent_id``; an agent token may name only its own agent."""
    agent_id = req.path["agent_id"]
    if req.principal.is_agent() and req.principal.agent != agent_id:
        raise forbidden("an agent token controls only its own agent")
    return agent_id


def visible_agents(req: ApiRequest, agents: Iterable[Mapping[str, Any]]) -> JsonList:
    """The agents a token may list: an agent token sees itself, the others everybody."""
    if req.principal.is_agent():
        return [dict(a) for a in agents if str(a.get("agent") or a.get("id")) == req.principal.agent]
    return [dict(a) for a in agents]


@ROUTER.route(
    "GET", "/api/agents", roles=ALL_ROLES, summary="Agents and their states", tag="agents", response=JsonList
)
async def list_agents(req: ApiRequest) -> JsonList:
    return visible_agents(req, service(req, AgentsService, "acd").list_agents())


@ROUTER.route(
    "GET",
    "/api/agents/{agent_id}",
    roles=ALL_ROLES,
    summary="One agent",
    tag="agents",
    response=dict[str, Any],
)
async def get_agent(req: ApiRequest) -> dict[str, Any]:
    agent = service(req, AgentsService, "acd").get_agent(own_agent(req))
    if agent is None:
        raise not_found("agent", "agent_id")
    return dict(agent)


def _action(action: str) -> Any:
    async def handler(req: ApiRequest) -> dict[str, Any]:
        body: AgentActionIn = req.body
        result = await service(req, AgentsService, "acd").agent_action(own_agent(req), action, body.reason)
        return dict(result)

    handler.__name__ = "agent_" + action.replace("-", "_")
    return handler


for _name in ACTIONS:
    ROUTER.route(
        "POST",
        f"/api/agents/{{agent_id}}/{_name}",
        roles=SELF_OR_STAFF,
        summary=f"Agent {_name}",
        tag="agents",
        body=AgentActionIn,
        response=dict[str, Any],
        errors=(409,),
    )(_action(_name))


@ROUTER.route(
    "PUT",
    "/api/agents/{agent_id}/skills",
    roles=STAFF,
    summary="Set an agent's skills",
    tag="agents",
    body=SkillsIn,
    response=dict[str, Any],
)
async def set_skills(req: ApiRequest) -> dict[str, Any]:
    body: SkillsIn = req.body
    return dict(await service(req, AgentsService, "acd").set_skills(req.path["agent_id"], body.skills))


@ROUTER.route(
    "GET",
    "/api/queues",
    roles=frozenset({Role.SUPERVISOR, Role.ADMIN, Role.CRM, Role.AGENT}),
    summary="Queues with live KPIs",
    tag="queues",
    response=JsonList,
)
async def list_queues(req: ApiRequest) -> JsonList:
    return [dict(q) for q in service(req, QueuesService, "queue statistics").queue_stats()]


@ROUTER.route(
    "GET",
    "/api/kpi/agents",
    roles=ALL_ROLES,
    summary="Agents with live KPIs: per window (15m, 60m, today) calls handled, talk / hold / wrap-up, AHT, busy "
    "and ready-idle seconds, occupancy (an agent token: itself)",
    tag="queues",
    response=JsonList,
)
async def list_agent_kpis(req: ApiRequest) -> JsonList:
    only = req.principal.agent if req.principal.is_agent() else None  # an agent's token: itself, computed alone
    return visible_agents(req, service(req, QueuesService, "agent statistics").agent_stats(only))


@ROUTER.route(
    "GET",
    "/api/reports/kpi",
    roles=frozenset({Role.SUPERVISOR, Role.ADMIN, Role.CRM}),
    summary="Historical KPI report: rows by queue and interval (or by agent and day), totals per interval",
    tag="reports",
    query=ReportQuery,
    response=dict[str, Any],
    errors=(400,),
)
async def kpi_report(req: ApiRequest) -> dict[str, Any]:
    return await report_of(req)


async def report_of(req: ApiRequest) -> dict[str, Any]:
    q: ReportQuery = req.query
    start, end = report_range(q)
    report = await service(req, ReportsService, "reports").kpi_report(
        since=start, until=end, queue=q.queue, interval=REPORT_INTERVALS[q.interval], by=q.by
    )
    return dict(report)


def report_range(q: Any) -> tuple[float, float]:
    """``from``/``to`` (or ``since``/``until``) of a report query, checked."""
    start = q.from_ if q.from_ is not None else q.since
    end = q.to if q.to is not None else q.until
    if start is None:
        raise ApiError(422, "invalid", "'from' is required (epoch seconds or ISO date)", "query.from")
    if end is None:
        raise ApiError(422, "invalid", "'to' is required (epoch seconds or ISO date)", "query.to")
    if end <= start:
        raise ApiError(422, "invalid", "'to' must be after 'from'", "query.to")
    if end - start > MAX_REPORT_DAYS * 86_400:
        raise ApiError(422, "invalid", f"at most {MAX_REPORT_DAYS} days per report", "query.to")
    return float(start), float(end)
