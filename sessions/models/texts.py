"""A brand's own texts in other languages than its default (sessions/brand_texts.py).

One table for every kind of object, keyed by (kind, object id, field, language), rather
than a JSON column on each model: adding a translatable field or a language changes no
schema, one query fetches every translation a page needs, and a text in the brand's default
language stays where it always was (the model's own column), so nothing else changes.
"""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class BrandText(SQLModel, table=True):
    __tablename__ = "brand_texts"
    __table_args__ = (UniqueConstraint("kind", "object_id", "field", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    # The owning brand: every row is the brand's, deleted with it.
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # "brand", "show", "product"
    object_id: int = Field(index=True)
    field: str = Field(max_length=32)  # "offline_message", "title", "name", "description"
    language: str = Field(max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
