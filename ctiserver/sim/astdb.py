"""Asterisk's internal database (main/db.c, ``astdb.sqlite3``); its AMI actions are in ``ami_db_actions``.

Entries are ``/<family>/<key>`` → value. The dialplan writes them with the ``DB`` function (func_db.c
``function_db_write``: ``Set(DB(<family>/<key>)=<value>)``, no ``VarSet``; an argument without ``/`` is refused
with a warning).
"""

from __future__ import annotations


class AstDb:
    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def put(self, family: str, key: str, value: str) -> None:
        self.entries[f"/{family}/{key}"] = value

    def get(self, family: str, key: str) -> str | None:
        return self.entries.get(f"/{family}/{key}")

    def delete(self, family: str, key: str) -> bool:
        return self.entries.pop(f"/{family}/{key}", None) is not None

    def tree(self, family: str = "", key: str = "") -> list[tuple[str, str]]:
        """db.c ``gettree_stmt``: ``key || '/' LIKE prefix || '/%'`` — the prefix and everything under it."""
        prefix = f"/{family}/{key}" if family and key else f"/{family}" if family else ""
        return sorted((k, v) for k, v in self.entries.items() if not prefix or (k + "/").startswith(prefix + "/"))

    def write_function(self, argument: str, value: str) -> bool:
        """``Set(DB(<family>/<key>)=<value>)``; False (Asterisk logs a warning) without a ``/``."""
        family, sep, key = argument.partition("/")
        if not sep or not family or not key:
            return False
        self.put(family, key, value)
        return True
