"""Refuse text no database column can hold, at the door, for every route.

PostgreSQL's text types cannot store a NUL character (U+0000): a name sent as
``"\\x00"`` reached the INSERT and came back as a driver error, a 500. SQLite would
store it and hand it back to every page. No person types one, so a request that
carries one, in the query string, a form field or a JSON string, is refused with
a 400 before any view runs. JSON bodies are checked where they are parsed
(web/api/spec.py), with the same helper.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from sessions.errors import N_, InvalidInput

NUL = "\x00"


class NulCharacter(InvalidInput):
    status = 400
    code = "bad_text"


def refuse_nul(values: Iterable[str], where: str) -> None:
    if any(NUL in value for value in values):
        raise NulCharacter(
            N_("The %(where)s contains a NUL character, which text cannot hold."),
            params={"where": where},
        )


def strings_in(value: Any) -> Iterable[str]:
    """Every string (keys included) inside a parsed JSON value, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_request() -> None:
    refuse_nul(request.path.split("/"), "address")
    refuse_nul((*request.args.keys(), *request.args.values()), "query string")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        refuse_nul((*request.form.keys(), *request.form.values()), "form")


def init_app(app: Flask) -> None:
    app.before_request(_check_request)
