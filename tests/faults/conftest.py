"""The browser tests' database and factory fixtures, for the fault tests that use Chromium."""

from tests.browser.conftest import db_session, seed  # noqa: F401
from tests.rooms.conftest import seeded  # noqa: F401
