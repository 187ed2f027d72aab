"""Working-day calendar services: the calendar in force, loading overrides, coverage.

Rules:
* the calendar in force = chinesecalendar, then packaged override files (version 0), then the
  highest stored version of each year (staff loads win);
* loading an override adds a new version and writes the audit log; it never deletes history;
* callers whose results depend on the calendar (appeal deadlines) recompute provisional results
  after a load — see ``shengxin.appeals.deadlines.recompute_provisional``.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shengxin.audit.service import Actor, record
from shengxin.workdays.calendar import WorkCalendar, YearCoverage, YearOverride
from shengxin.workdays.models import WorkdayOverride
from shengxin.workdays.overrides import override_from_dict, override_to_dict, parse_override

PACKAGED_DIR = Path(str(resources.files("shengxin.workdays") / "overrides_data"))


def packaged_overrides(directory: Path = PACKAGED_DIR) -> list[YearOverride]:
    """Override files shipped in the package (version 0)."""
    out = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix.lower() in {".yaml", ".yml", ".csv"}:
                out.append(parse_override(path.read_bytes(), path.name))
    return out


def stored_overrides(session: Session) -> list[YearOverride]:
    """The highest stored version of each year."""
    latest = (select(WorkdayOverride.year, func.max(WorkdayOverride.version).label("v"))
              .group_by(WorkdayOverride.year).subquery())
    rows = session.scalars(
        select(WorkdayOverride).join(latest, (WorkdayOverride.year == latest.c.year)
                                     & (WorkdayOverride.version == latest.c.v))
    ).all()
    return [override_from_dict(r.content, r.version) for r in rows]


def load_calendar(session: Session | None) -> WorkCalendar:
    """The calendar in force (packaged overrides + stored overrides; without a session, packaged only)."""
    overrides = packaged_overrides()
    if session is not None:
        overrides += stored_overrides(session)
    return WorkCalendar(overrides)


def store_override(session: Session, content: bytes, file_name: str, actor: Actor) -> YearOverride:
    """Validate and store an override file as the next version of its year; audited."""
    name = Path(file_name).name or "override.yaml"
    parsed = parse_override(content, name)
    current = session.scalar(select(func.max(WorkdayOverride.version))
                             .where(WorkdayOverride.year == parsed.year)) or 0
    version = current + 1
    row = WorkdayOverride(
        year=parsed.year, version=version, source=parsed.source[:500], file_name=name[:255],
        sha256=hashlib.sha256(content).hexdigest(), content=override_to_dict(parsed), loaded_by=actor.name,
    )
    session.add(row)
    session.flush()
    record(session, actor, "workdays.override.load", "workday_override", f"{parsed.year}v{version}",
           {"year": parsed.year, "version": version, "file": name, "source": parsed.source,
            "holidays": len(parsed.holidays), "workdays": len(parsed.workdays), "sha256": row.sha256})
    return override_from_dict(row.content, version)


def override_history(session: Session, year: int | None = None) -> list[dict]:
    """Every stored version, newest first (for the admin page and the CLI)."""
    q = select(WorkdayOverride).order_by(WorkdayOverride.year.desc(), WorkdayOverride.version.desc())
    if year is not None:
        q = q.where(WorkdayOverride.year == year)
    return [{"year": r.year, "version": r.version, "source": r.source, "file_name": r.file_name,
             "sha256": r.sha256, "loaded_by": r.loaded_by, "loaded_at": r.loaded_at,
             "holidays": len(r.content.get("holidays", [])), "workdays": len(r.content.get("workdays", []))}
            for r in session.scalars(q)]


def coverage(calendar: WorkCalendar, years: list[int]) -> list[YearCoverage]:
    """Coverage of each year (which source decides it, and whether it is provisional)."""
    return [calendar.coverage(y) for y in years]
