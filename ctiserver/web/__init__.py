"""The web console: static files only (vanilla JS modules, no build step), served by the API at ``/``.

``STATIC`` is the folder to mount: ``index.html`` (sign-in), ``agent.html``, ``wallboard.html``,
``admin.html``, ``js/``, ``css/``, ``i18n/`` (en, ru, uk, pl) and ``vendor/mermaid/`` (from the npm registry).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
PAGES = ("index.html", "agent.html", "wallboard.html", "admin.html")
