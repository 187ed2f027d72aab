"""Storing new appeals: validated submissions written in bulk, and a group-commit writer.

Rules:
* a submission is validated completely before anything is written (:func:`prepare`): bad input is
  refused with the field that is wrong, and nothing is queued;
* :func:`store` writes a list of submissions in the caller's transaction — for each one the appeal,
  its attachments, the acceptance clock, a ``submit`` event and an audit entry — with one
  statement per table, so a batch costs little more than a single appeal; it never commits;
* the classifier is not asked here: a new appeal's suggestion is *pending* (``suggestion`` NULL)
  until :mod:`shengxin.appeals.suggestions` fills it in after the commit;
* :class:`IntakeWriter` (the web server's intake path) commits many concurrent submissions in one
  transaction (group commit): one writer thread per process takes whatever submissions are
  waiting, stores them and commits once; each caller gets its appeal code only after that commit,
  so an answer with a code always means the appeal is durably stored. When a batch cannot be
  stored, each submission is retried alone, so one bad submission never takes others with it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import insert, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shengxin.appeals import attachments as att
from shengxin.appeals.apikeys import refused_keys, touch_keys
from shengxin.appeals.categories import Taxonomy
from shengxin.appeals.deadlines import WARN_FRACTION
from shengxin.appeals.models import Appeal, AppealAttachment, AppealClock, AppealEvent
from shengxin.audit.models import AuditEntry
from shengxin.audit.service import Actor
from shengxin.errors import Forbidden
from shengxin.workdays.calendar import TZ, WorkCalendar
from shengxin.workdays.service import load_calendar

log = logging.getLogger(__name__)

#: Most submissions one group commit takes (a burst larger than this is split into batches).
MAX_BATCH = 256
#: How often a batch is retried when the store is busy (another process holds SQLite's write lock).
BUSY_RETRIES = 3


@dataclass
class Submission:
    """A validated appeal, ready to store (see :func:`shengxin.appeals.service.prepare_submission`)."""

    channel: str
    actor: Actor
    submitted_at: datetime
    values: dict  # the appeal's own columns (enterprise, contact, text, place, category)
    uploads: list[att.CheckedUpload] = field(default_factory=list)
    api_key_id: int | None = None
    suggestion: dict | None = None  # the classifier's suggestion when the caller computed it in bulk


@dataclass(frozen=True)
class Receipt:
    """What a stored submission gets back: its id and code, and the acceptance deadline."""

    id: int
    code: str
    due_at: datetime | None
    provisional: bool


def appeal_code(appeal_id: int, submitted_at: datetime) -> str:
    """The appeal code: ``SQ`` + the year of arrival (Beijing time) + the id on six digits."""
    return f"SQ{submitted_at.astimezone(TZ).year}{appeal_id:06d}"


def _deadline_state(now: datetime, due: datetime | None, warn: datetime | None) -> str:
    if due is None:
        return "paused"
    if now > due:
        return "overdue"
    if warn is not None and now >= warn:
        return "warning"
    return "ok"


def store(session: Session, items: Sequence[Submission], calendar: WorkCalendar, taxonomy: Taxonomy,
          data_dir: Path) -> list[Receipt]:
    """Write the submissions in the caller's transaction (see the module rules); one receipt each,
    in order."""
    if not items:
        return []
    rows, clocks = [], []
    deadlines: dict[tuple, tuple] = {}  # without pauses, due and warning depend on the day and limit only
    for s in items:
        now = s.submitted_at.astimezone(timezone.utc)
        limit = taxonomy.limit(s.values.get("subcategory_code"), "accept", None)
        day = (now.astimezone(TZ).date(), limit)
        if day not in deadlines:
            due = calendar.add_working_days(now, limit, [])
            warn = calendar.instant_at_fraction(now, limit, WARN_FRACTION, [])
            deadlines[day] = (due.due.astimezone(timezone.utc) if due else None,
                              warn.astimezone(timezone.utc) if warn else None, bool(due and due.provisional))
        due_at, warn_at, provisional = deadlines[day]
        row = {
            **s.values, "channel": s.channel, "status": "submitted", "submitted_by": s.actor.name[:64],
            "api_key_id": s.api_key_id, "submitted_at": now, "updated_at": now, "reopen_count": 0,
            "bounce_count": 0, "stage": "accept", "due_at": due_at, "warn_at": warn_at,
            "due_provisional": provisional, "deadline_state": _deadline_state(now, due_at, warn_at),
        }
        if s.suggestion is not None:  # left out otherwise: pending is SQL NULL (a None would store JSON null)
            row.update(suggestion=s.suggestion, suggested_subcategory=s.suggestion.get("subcategory_code"),
                       suggested_unit=s.suggestion.get("unit_code"),
                       suggestion_confidence=s.suggestion.get("confidence"))
        rows.append(row)
        clocks.append({"stage": "accept", "unit_code": None, "limit_days": limit, "started_at": now,
                       "due_at": due_at, "warn_at": warn_at, "provisional": provisional})
    if session.get_bind().dialect.name == "postgresql":
        codes = _insert_with_sequence_ids(session, rows, items)
        ids = [r["id"] for r in rows]
    else:
        ids = list(session.scalars(insert(Appeal).returning(Appeal.id, sort_by_parameter_order=True), rows))
        codes = [appeal_code(i, s.submitted_at) for i, s in zip(ids, items)]
        session.execute(update(Appeal), [{"id": i, "code": c} for i, c in zip(ids, codes)])
    session.execute(insert(AppealClock), [{**c, "appeal_id": i} for c, i in zip(clocks, ids)])
    files = []
    for appeal_id, s in zip(ids, items):
        for u in s.uploads:
            files.append({"appeal_id": appeal_id, "display_name": u.display_name,
                          "stored_name": att.store(data_dir, u, s.submitted_at), "content_type": u.content_type,
                          "size": len(u.content), "sha256": u.sha256, "uploaded_by": s.actor.name[:64],
                          "uploaded_at": s.submitted_at})
    if files:
        session.execute(insert(AppealAttachment), files)
    session.execute(insert(AppealEvent), [
        {"appeal_id": i, "at": s.submitted_at, "actor": s.actor.name, "actor_role": s.actor.role,
         "action": "submit", "from_status": None, "to_status": "submitted", "reason": None, "unit_code": None,
         "detail": {"channel": s.channel, "attachments": len(s.uploads)}}
        for i, s in zip(ids, items)])
    session.execute(insert(AuditEntry), [
        {"at": datetime.now(timezone.utc), "actor": s.actor.name, "actor_role": s.actor.role,
         "client": s.actor.client, "action": "appeal.submit", "object_type": "appeal", "object_id": code,
         "detail": {"from": None, "to": "submitted", "reason": None, "unit": None, "channel": s.channel,
                    "attachments": len(s.uploads)}}
        for code, s in zip(codes, items)])
    return [Receipt(i, c, r["due_at"], r["due_provisional"]) for i, c, r in zip(ids, codes, rows)]


def _insert_with_sequence_ids(session: Session, rows: list[dict], items: Sequence[Submission]) -> list[str]:
    """PostgreSQL: take the ids from the table's sequence first, so each row is inserted complete
    (with its code) by the driver's pipelined ``executemany`` — one short statement parsed once,
    where a multi-row ``INSERT … RETURNING`` of a big batch costs the driver more to parse than the
    server to run."""
    ids = list(session.scalars(text("SELECT nextval(pg_get_serial_sequence('appeals', 'id')) "
                                    "FROM generate_series(1, :n)"), {"n": len(rows)}))
    codes = []
    for row, appeal_id, s in zip(rows, ids, items):
        row["id"], row["code"] = appeal_id, appeal_code(appeal_id, s.submitted_at)
        codes.append(row["code"])
    table = Appeal.__table__
    for keys in {tuple(sorted(r)) for r in rows}:  # executemany needs one set of columns per call
        group = [r for r in rows if tuple(sorted(r)) == keys]
        session.connection().execute(table.insert(), group)
    return codes


# -- group commit -------------------------------------------------------------------------------
@dataclass
class _Job:
    submission: Submission
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)


class IntakeWriter:
    """One writer thread per process that stores waiting submissions in one transaction each round.

    ``submit`` returns a future that resolves to the :class:`Receipt` after the commit (or to the
    error that kept the submission out of the store). ``on_stored`` is called with the ids of every
    committed batch (the classifier worker's queue).
    """

    def __init__(self, sessions: sessionmaker[Session], taxonomy: Taxonomy, data_dir: Path,
                 on_stored: Callable[[list[int]], None] | None = None):
        self._sessions = sessions
        self._taxonomy = taxonomy
        self._data_dir = data_dir
        self._on_stored = on_stored
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.stored = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="appeal-intake-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Store what is queued, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def submit(self, submission: Submission) -> concurrent.futures.Future:
        if self._thread is None:
            raise RuntimeError("the intake writer is not running")
        job = _Job(submission)
        self._queue.put(job)
        return job.future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            jobs = [first]
            while len(jobs) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            self._write(jobs)

    def _write(self, jobs: list[_Job]) -> None:
        try:
            receipts = self._commit([j.submission for j in jobs])
        except Exception as exc:
            if len(jobs) == 1:
                log.exception("an appeal could not be stored")
                jobs[0].future.set_exception(exc)
                return
            log.warning("a batch of %d appeals could not be stored together; storing one by one", len(jobs))
            for job in jobs:
                self._write([job])
            return
        self.batches += 1
        self.stored += sum(1 for r in receipts if isinstance(r, Receipt))
        stored_ids = [r.id for r in receipts if isinstance(r, Receipt)]
        if stored_ids and self._on_stored is not None:  # queued before anyone is answered
            try:
                self._on_stored(stored_ids)
            except Exception:  # the suggestion sweep classifies them later
                log.exception("could not queue stored appeals for classification")
        for job, result in zip(jobs, receipts):
            if isinstance(result, Exception):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _commit(self, items: list[Submission]) -> list[Receipt | Exception]:
        return commit_batch(self._sessions, items, self._taxonomy, self._data_dir)


def commit_batch(sessions: sessionmaker[Session], items: Sequence[Submission], taxonomy: Taxonomy,
                 data_dir: Path) -> list[Receipt | Exception]:
    """Store submissions in one transaction of a new session and commit: first a short read
    (the calendar in force, the API keys still valid), then the writes. A submission whose key was
    revoked since its request was authenticated gets :class:`Forbidden` instead of a receipt.
    Retried a few times when the store is busy; raises when it cannot commit."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            with sessions() as session:
                calendar = load_calendar(session)
                refused = refused_keys(session, {s.api_key_id for s in items if s.api_key_id is not None})
                # End the read transaction before writing: on SQLite a transaction that read first
                # and writes later fails when another process committed in between.
                session.commit()
                results: list[Receipt | Exception | None] = [None] * len(items)
                keep = []
                for index, s in enumerate(items):
                    if s.api_key_id in refused:
                        results[index] = Forbidden(refused[s.api_key_id], where="api_key")
                    else:
                        keep.append(index)
                receipts = store(session, [items[i] for i in keep], calendar, taxonomy, data_dir)
                for index, receipt in zip(keep, receipts):
                    results[index] = receipt
                used = {items[i].api_key_id for i in keep if items[i].api_key_id is not None}
                if used:
                    touch_keys(session, used)
                session.commit()
                return results  # type: ignore[return-value]
        except OperationalError:
            if attempt == BUSY_RETRIES:
                raise
            log.warning("the store is busy; retrying a batch of %d appeals", len(items))
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
