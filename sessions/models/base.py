"""Column types shared by every table."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, TypeDecorator
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlmodel import Field

from sessions.clock import as_utc, utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Stores timezone-aware UTC; always returns aware datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def utc_field(*, nullable: bool = False, default_now: bool = False, index: bool = False) -> Any:
    kwargs: dict[str, Any] = {"sa_type": UTCDateTime, "nullable": nullable, "index": index}
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs["default"] = None
    return Field(**kwargs)


def enum_column(enum_cls: type[enum.Enum], length: int, *, nullable: bool = False) -> Column[Any]:
    """A portable enum column storing the readable value ('live'), not the member name."""
    return Column(
        SAEnum(
            enum_cls,
            native_enum=False,
            length=length,
            values_callable=lambda members: [member.value for member in members],
        ),
        nullable=nullable,
    )
