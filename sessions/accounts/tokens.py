"""The secret in an e-mailed staff link, and how it is checked without being stored.

The token is ``HMAC-SHA256(app secret, purpose:id:salt)``; the row keeps the salt and the
SHA-256 of the token. A look-up goes by that hash (one indexed equality, no timing to
learn from), so a stolen copy of the database holds no working link, while the outbox,
which knows the app's secret, can write the link again after a failed send. A new salt
(a resend) makes the old link worthless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_salt() -> str:
    return secrets.token_hex(16)


def make_token(secret: str, purpose: str, row_id: int, salt: str) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{row_id}:{salt}".encode(), hashlib.sha256)
    return mac.hexdigest()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
