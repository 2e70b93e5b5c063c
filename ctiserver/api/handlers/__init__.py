"""The REST endpoints, one module per resource; importing this package declares them all on ``ROUTER``."""

from ctiserver.api.routing import Router

ROUTER = Router()

from ctiserver.api.handlers import (  # noqa: E402,F401
    admin,
    agents,
    calls,
    contacts,
    dialer,
    dialer_admin,
    dialer_desk,
    dialer_dnc,
    dialer_records,
    ivr_graph,
    lists,
    me,
    observer_agents,
    privacy,
    reports,
)

__all__ = ["ROUTER"]
