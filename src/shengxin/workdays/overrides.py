"""Override files: one year's public holidays and make-up working days, as staff load them.

When the State Council publishes next year's holiday schedule (usually in November), a district
admin writes it into a small file and loads it (web upload or ``shengxin workdays load FILE``).
Two formats are accepted, UTF-8 (a BOM is fine):

YAML::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知
    holidays:
      - {date: 2027-01-01, name: 元旦}
      - {from: 2027-02-06, to: 2027-02-12, name: 春节}
    workdays:
      - {date: 2027-02-20, name: 春节调休上班}

CSV with the header ``date,kind,name`` where ``kind`` is ``holiday`` (or 休) or ``workday`` (or
班); an optional ``source`` column; ranges are written one date per row.

Rules: every date lies in the file's one year; a date is not both a holiday and a make-up working
day; a make-up working day is a Saturday or Sunday (a weekday is a working day anyway). Errors name
the file and the entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import yaml

from shengxin.errors import InvalidInput
from shengxin.workdays.calendar import YearOverride

MAX_OVERRIDE_BYTES = 256 * 1024
_HOLIDAY_KINDS = {"holiday", "休", "假", "off"}
_WORKDAY_KINDS = {"workday", "班", "work", "make-up", "makeup"}


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date; write YYYY-MM-DD", where=where) from None


def _entries_yaml(items, where: str) -> list[tuple[dt.date, str]]:
    out: list[tuple[dt.date, str]] = []
    if items is None:
        return out
    if not isinstance(items, list):
        raise InvalidInput("must be a list of {date: ...} or {from: ..., to: ...} entries", where=where)
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if isinstance(item, (str, dt.date)):
            out.append((_date(item, here), ""))
            continue
        if not isinstance(item, dict):
            raise InvalidInput("entry must be a date or a mapping", where=here)
        name = str(item.get("name") or "")
        if "date" in item:
            out.append((_date(item["date"], here), name))
        elif "from" in item and "to" in item:
            first, last = _date(item["from"], here), _date(item["to"], here)
            if last < first:
                raise InvalidInput(f"range ends ({last}) before it starts ({first})", where=here)
            if (last - first).days > 40:
                raise InvalidInput("a holiday range longer than 40 days is surely a typo", where=here)
            day = first
            while day <= last:
                out.append((day, name))
                day += dt.timedelta(days=1)
        else:
            raise InvalidInput("entry needs 'date' or both 'from' and 'to'", where=here)
    return out


def _parse_yaml(text: str, source: str):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"not valid YAML: {exc}", where=source) from None
    if not isinstance(data, dict):
        raise InvalidInput("expected a mapping with year, source, holidays, workdays", where=source)
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise InvalidInput(f"unknown keys {sorted(unknown)}; allowed: year, source, holidays, workdays",
                           where=source)
    if "year" not in data:
        raise InvalidInput("missing key 'year'", where=source)
    try:
        year = int(data["year"])
    except (TypeError, ValueError):
        raise InvalidInput(f"year {data['year']!r} is not a number", where=source) from None
    holidays = _entries_yaml(data.get("holidays"), f"{source}: holidays")
    workdays = _entries_yaml(data.get("workdays"), f"{source}: workdays")
    return year, str(data.get("source") or ""), holidays, workdays


def _parse_csv(text: str, source: str):
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "date" not in fields or "kind" not in fields:
        raise InvalidInput("CSV header must contain date,kind (and optionally name, source)", where=source)
    holidays, workdays, sources = [], [], set()
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        here = f"{source}: line {line}"
        day = _date(row.get("date", ""), here)
        kind = row.get("kind", "").lower()
        if kind in _HOLIDAY_KINDS:
            holidays.append((day, row.get("name", "")))
        elif kind in _WORKDAY_KINDS:
            workdays.append((day, row.get("name", "")))
        else:
            raise InvalidInput(f"kind {kind!r} must be holiday (休) or workday (班)", where=here)
        if row.get("source"):
            sources.add(row["source"])
    years = {d.year for d, _ in holidays + workdays}
    if len(years) != 1:
        raise InvalidInput(f"a file holds exactly one year; found {sorted(years) or 'no dates'}", where=source)
    return years.pop(), "; ".join(sorted(sources)), holidays, workdays


def parse_override(content: bytes | str, filename: str) -> YearOverride:
    """Parse and validate an override file (YAML or CSV by extension; YAML otherwise)."""
    if isinstance(content, bytes):
        if len(content) > MAX_OVERRIDE_BYTES:
            raise InvalidInput(f"file is larger than {MAX_OVERRIDE_BYTES // 1024} KiB", where=filename)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("file is not UTF-8 text; save it as UTF-8", where=filename) from None
    else:
        text = content.lstrip("\ufeff")
    if not text.strip():
        raise InvalidInput("file is empty", where=filename)
    if filename.lower().endswith(".csv"):
        year, source, holidays, workdays = _parse_csv(text, filename)
    else:
        year, source, holidays, workdays = _parse_yaml(text, filename)
    if not 1990 <= year <= 2100:
        raise InvalidInput(f"year {year} is out of range 1990-2100", where=filename)
    if not holidays and not workdays:
        raise InvalidInput("no holidays and no make-up working days listed", where=filename)
    names: dict[dt.date, str] = {}
    for day, name in holidays + workdays:
        if day.year != year:
            raise InvalidInput(f"date {day} is not in {year}", where=filename)
        if name:
            names[day] = name
    holiday_set = frozenset(d for d, _ in holidays)
    workday_set = frozenset(d for d, _ in workdays)
    both = sorted(holiday_set & workday_set)
    if both:
        raise InvalidInput(f"dates listed both as holiday and as working day: {', '.join(map(str, both))}",
                           where=filename)
    weekday_workdays = sorted(d for d in workday_set if d.weekday() < 5)
    if weekday_workdays:
        raise InvalidInput(
            "make-up working days must fall on a Saturday or Sunday: "
            + ", ".join(str(d) for d in weekday_workdays), where=filename)
    return YearOverride(year=year, holidays=holiday_set, workdays=workday_set, source=source, names=names)


def override_to_dict(o: YearOverride) -> dict:
    """A JSON-able form (stored in the operational store and exported)."""
    return {
        "year": o.year,
        "source": o.source,
        "holidays": [{"date": d.isoformat(), "name": o.names.get(d, "")} for d in sorted(o.holidays)],
        "workdays": [{"date": d.isoformat(), "name": o.names.get(d, "")} for d in sorted(o.workdays)],
    }


def override_from_dict(data: dict, version: int) -> YearOverride:
    names = {}
    holidays, workdays = set(), set()
    for key, target in (("holidays", holidays), ("workdays", workdays)):
        for e in data.get(key, []):
            day = dt.date.fromisoformat(e["date"])
            target.add(day)
            if e.get("name"):
                names[day] = e["name"]
    return YearOverride(year=int(data["year"]), holidays=frozenset(holidays), workdays=frozenset(workdays),
                        source=data.get("source", ""), version=version, names=names)
