"""The live-room fixtures (a live show with its host, socket clients, a seeded database)."""

from tests.rooms.conftest import connect, room, seeded  # noqa: F401
