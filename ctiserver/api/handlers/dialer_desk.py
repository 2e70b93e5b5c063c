"""What the agent console needs of the dialer: each campaign's wrap-up dispositions and the pending call-backs
(agents: their own personal ones; supervisors: all, or one agent's). Forwards to ``DialerService``."""

from __future__ import annotations

from ctiserver.api.dialer_schemas import CallbackItem, CallbacksQuery, CampaignDispositions
from ctiserver.api.errors import not_found
from ctiserver.api.handlers import ROUTER
from ctiserver.api.handlers.dialer import acting_agent, dialer_of
from ctiserver.api.handlers.dialer_dnc import AGENTS_TOO, callback_out
from ctiserver.api.routing import ApiRequest
from ctiserver.dialer.model import Contact


@ROUTER.route(
    "GET",
    "/api/dialer/dispositions",
    roles=AGENTS_TOO,
    summary="Every campaign's wrap-up dispositions (what the agent console offers for a dialler call)",
    tag="dialer",
    response=list[CampaignDispositions],
)
async def campaign_dispositions(req: ApiRequest) -> list[CampaignDispositions]:
    return [
        CampaignDispositions(
            campaign=r.settings.name,
            state=r.state.value,
            queue=r.settings.queue,
            dispositions=list(r.settings.dispositions),
        )
        for r in dialer_of(req).runners.values()
    ]


@ROUTER.route(
    "GET",
    "/api/callbacks",
    roles=AGENTS_TOO,
    summary="Pending call-backs across the campaigns, earliest first (agents: only their own personal ones)",
    tag="dialer",
    query=CallbacksQuery,
    response=list[CallbackItem],
    errors=(404,),
)
async def list_callbacks(req: ApiRequest) -> list[CallbackItem]:
    q: CallbacksQuery = req.query
    agent = acting_agent(req, q.agent, "an agent may list only its own call-backs")
    dialer = dialer_of(req)
    if q.campaign is not None and q.campaign not in dialer.runners:
        raise not_found("campaign", "query.campaign")
    campaigns = [q.campaign] if q.campaign is not None else list(dialer.runners)
    return [_item(c) for c in await dialer.store.callbacks(campaigns, agent, q.limit)]


def _item(c: Contact) -> CallbackItem:
    return CallbackItem(**callback_out(c).model_dump(), name=c.name, fields=dict(c.fields))
