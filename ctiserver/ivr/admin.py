"""The registry as the admin API sees it (``ctiserver.api.services.IvrScripts``): JSON-ready dicts."""

from __future__ import annotations

import re
from typing import Any

from ctiserver.ivr.diagnostics import Diagnostic, ScriptInvalid
from ctiserver.ivr.registry import ScriptRegistry

_PATH = re.compile(r"^([A-Za-z_][\w.-]*): ")


def problem(d: Diagnostic) -> dict[str, Any]:
    m = _PATH.match(d.message)
    return {
        "line": d.line,
        "column": d.column,
        "message": d.message,
        "path": m.group(1) if m else "",
        "severity": d.severity.value,
    }


class IvrAdmin:
    def __init__(self, registry: ScriptRegistry) -> None:
        self.registry = registry

    def list_scripts(self) -> list[dict[str, Any]]:
        errors = self.registry.errors
        out = []
        for info in self.registry.list_scripts():
            refused = errors.get(info.file, [])
            out.append(
                {
                    "name": info.name,
                    "version": info.version,
                    "file": info.file,
                    "dids": list(info.dids),
                    "language": info.language,
                    "description": info.description,
                    "loaded_at": info.loaded_at,
                    "refused_change": [problem(d) for d in refused if d.is_error],
                }
            )
        return out

    def get_script(self, name: str) -> dict[str, Any] | None:
        script = self.registry.get(name)
        if script is None:
            return None
        return {
            "name": script.name,
            "version": script.version,
            "file": script.file,
            "dids": list(script.dids),
            "language": script.language,
            "start": script.start,
            "source": script.text,
            "nodes": [
                {"name": n, "type": node.kind, "label": node.label} for n, node in script.nodes.items()
            ],
            "history": list(self.registry.history.get(name, [])),
        }

    def validate_script(self, source: str) -> list[dict[str, Any]]:
        """The errors of ``source`` (empty when it would be accepted); warnings do not refuse a script."""
        _, diags = self.registry.validate(source, "<api>")
        return [problem(d) for d in diags if d.is_error]

    async def put_script(self, name: str, source: str) -> dict[str, Any]:
        """Validate, save and serve; raises ``ScriptInvalid`` (with every problem) and changes nothing."""
        script = await self.registry.put(name, source)
        info = self.get_script(script.name)
        assert info is not None
        return info


__all__ = ["IvrAdmin", "ScriptInvalid", "problem"]
