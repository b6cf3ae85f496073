"""Fixtures reused by the language tests: the real SMTP server and a brand's cast."""

from tests.booking.conftest import smtp  # noqa: F401  (the real SMTP server, reused)
from tests.shows.conftest import cast  # noqa: F401  (a brand, its shows and people)
