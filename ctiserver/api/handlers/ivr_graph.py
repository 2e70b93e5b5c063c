"""``POST /api/ivr/graph``: the Mermaid flowchart of an IVR script text, for the console's editor (drawn
beside the source while it is edited, before it is saved). Pure: parses and checks the text, touches nothing.
(Added by the web engineer as a small additive endpoint.)"""

from __future__ import annotations

from pydantic import BaseModel

from ctiserver.api.auth import STAFF
from ctiserver.api.handlers import ROUTER
from ctiserver.api.routing import ApiRequest
from ctiserver.api.schemas import ScriptIn
from ctiserver.ivr.graph import mermaid
from ctiserver.ivr.validate import validate_text


class ScriptGraph(BaseModel):
    valid: bool
    mermaid: str
    problems: list[dict[str, object]]


@ROUTER.route(
    "POST",
    "/api/ivr/graph",
    roles=STAFF,
    summary="Mermaid flowchart of an IVR script text",
    tag="ivr",
    body=ScriptIn,
    response=ScriptGraph,
)
async def ivr_graph(req: ApiRequest) -> ScriptGraph:
    body: ScriptIn = req.body
    script, diags = validate_text(body.source, "<editor>")
    problems = [{"line": d.line, "column": d.column, "message": d.message} for d in diags if d.is_error]
    if script is None:
        return ScriptGraph(valid=False, mermaid="", problems=problems)
    return ScriptGraph(valid=True, mermaid=mermaid(script), problems=problems)
