"""Staff accounts: the real SMTP server of the consultation tests, and reading its links."""

from __future__ import annotations

import re
from email.message import EmailMessage

from tests.booking.conftest import SmtpServer, smtp  # noqa: F401 — the fixture, reused
from tests.browser.conftest import db_session, seed, web_only  # noqa: F401 — the same

LINK = re.compile(r"http://[^\s]+?(/(?:invitation|password/reset)/[0-9a-f]+)")


def link_path(message: EmailMessage) -> str:
    """The path of the one link in an e-mail (its site part is PUBLIC_URL)."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    found = LINK.search(text)
    assert found, text
    return found.group(1)


__all__ = ["SmtpServer", "link_path"]
