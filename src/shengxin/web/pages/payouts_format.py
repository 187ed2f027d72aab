"""Display helpers shared by the payout pages: money in yuan from integer fen (no float ever
touches an amount), local times, town names."""

from __future__ import annotations

import datetime as dt
import re

from shengxin.errors import InvalidInput
from shengxin.web.templating import templates
from shengxin.workdays.calendar import TZ


def yuan(fen: int | None) -> str:
    """Integer fen as yuan with two decimals and thousands separators: ``1234567`` → ``12,345.67``."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


_YUAN = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")


def parse_yuan(text: str, where: str) -> int:
    """A yuan amount typed by staff (``12,345.6`` or ``12345.60``) as integer fen; never via float."""
    cleaned = (text or "").strip().replace(",", "").replace("，", "").removesuffix("元")
    m = _YUAN.match(cleaned)
    if not m:
        raise InvalidInput(f"金额“{text}”格式不正确：请填写以元为单位、最多两位小数的正数，例如 50000 或 12345.60",
                           where=where)
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def when(value) -> str:
    """A date or an aware/naive-UTC datetime shown in Beijing time (``2026-11-28 14:05``)."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def install_filters() -> None:
    """Register the filters once (page modules call this when they are imported)."""
    templates.env.filters["yuan"] = yuan
    templates.env.filters["payout_time"] = when
