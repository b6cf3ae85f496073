"""Template globals: the current actor, money formatting, the CSRF token."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from web.identity import current_actor

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "¥", "CHF": "CHF "}
_ZERO_DECIMAL = {"JPY", "KRW"}


def format_money(amount_minor: int, currency: str) -> str:
    if currency in _ZERO_DECIMAL:
        value = f"{amount_minor:,}"
    else:
        value = f"{Decimal(amount_minor) / 100:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"actor": current_actor()}
