"""Colour-truth fixtures: a staffed brand (as for consultations)."""

from __future__ import annotations

from tests.booking.conftest import smtp, team  # noqa: F401  (fixtures)
