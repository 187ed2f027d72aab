"""The classifier's suggestions for stored appeals, filled in after intake.

Rules:
* intake never waits for the classifier: a new appeal is stored with its suggestion *pending*
  (``appeals.suggestion`` is NULL) and staff see "分类建议生成中" until it is filled in;
* :func:`classify_pending` fills in the suggestion of pending appeals, many texts per classifier
  call; it only writes where the suggestion is still pending, so two workers classifying the same
  appeal cannot overwrite each other or a staff decision;
* an appeal whose text the classifier cannot handle is marked ``{"source": "unavailable"}`` (no
  suggestion; staff classify it) so it is not retried for ever; when the model itself cannot be
  loaded nothing is marked and the next sweep tries again;
* nothing is lost by a crash between the commit and the classification: the web server's worker
  (:class:`SuggestionWorker`) sweeps every pending appeal at start-up and every
  :data:`SWEEP_SECONDS`, and so does ``shengxin appeals sweep``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shengxin.appeals.models import Appeal

log = logging.getLogger(__name__)

#: Seconds between two sweeps of the worker for appeals still pending (a crash, another process).
SWEEP_SECONDS = 60.0
#: Most appeals classified in one classifier call and one transaction.
BATCH = 500
#: The worker classifies once intake has been quiet this long (it yields the CPU to a burst of
#: submissions and classifies the whole burst in one call afterwards) …
QUIET_SECONDS = 0.1
#: … but never lets a queued appeal wait longer than this.
MAX_DELAY_SECONDS = 1.0
#: Wait before retrying when the store was busy.
RETRY_SECONDS = 0.2
PENDING_LABEL = "分类建议生成中"


def is_pending(appeal: Appeal) -> bool:
    """The classifier has not looked at this appeal yet."""
    return appeal.suggestion is None


def _columns(suggestion: dict) -> dict:
    return {"suggestion": suggestion, "suggested_subcategory": suggestion.get("subcategory_code"),
            "suggested_unit": suggestion.get("unit_code"), "suggestion_confidence": suggestion.get("confidence")}


def _write(session: Session, appeal_id: int, suggestion: dict) -> int:
    result = session.execute(update(Appeal).where(Appeal.id == appeal_id, Appeal.suggestion.is_(None))
                             .values(**_columns(suggestion)).execution_options(synchronize_session=False))
    return result.rowcount or 0


def classify_pending(session: Session, data_dir: Path, ids: Sequence[int] | None = None, *,
                     limit: int = BATCH, model=None) -> int:
    """Suggest category, subcategory and unit for pending appeals (``ids``, or the oldest pending
    ones); returns how many were filled in. The read is committed before the classifier runs; the
    writes are left for the caller to commit. Raises when the model cannot be loaded (nothing is
    written then)."""
    from shengxin.appeals.classify import get_model

    q = select(Appeal.id, Appeal.title, Appeal.description).where(Appeal.suggestion.is_(None))
    q = q.where(Appeal.id.in_(list(ids))) if ids is not None else q.order_by(Appeal.id).limit(limit)
    rows = session.execute(q).all()
    # End the read transaction before writing: on SQLite a transaction that read first and writes
    # later fails at once when another connection (the intake writer) committed in between.
    session.commit()
    if not rows:
        return 0
    model = model or get_model(data_dir)
    texts = [f"{title}\n{description}" for _, title, description in rows]
    try:
        suggestions = [s.as_dict() for s in model.suggest_many(texts)]
    except Exception:  # one text spoils the batch: classify one by one
        suggestions = []
        for appeal_id, text in zip((r[0] for r in rows), texts):
            try:
                suggestions.append(model.suggest(text).as_dict())
            except Exception as exc:
                log.exception("the classifier failed on appeal %s; it stays without a suggestion", appeal_id)
                suggestions.append({"source": "unavailable", "error": f"{type(exc).__name__}: {exc}"[:300]})
    return sum(_write(session, appeal_id, s) for (appeal_id, _, _), s in zip(rows, suggestions))


def classify_all_pending(session_factory: sessionmaker[Session], data_dir: Path) -> int:
    """Classify every pending appeal, a batch per transaction; returns how many were filled in."""
    total = 0
    while True:
        with session_factory() as session:
            done = classify_pending(session, data_dir)
            session.commit()
        total += done
        if done < 1:
            return total


class SuggestionWorker:
    """A background thread of the web server that classifies appeals after their commit.

    ``notify(ids)`` queues stored appeals; the thread classifies whatever is queued in one call,
    and sweeps all pending appeals when it starts and every :data:`SWEEP_SECONDS`.
    ``drain()`` waits until everything notified so far is classified (tests, shutdown).
    """

    def __init__(self, session_factory: sessionmaker[Session], data_dir: Path,
                 sweep_seconds: float = SWEEP_SECONDS):
        self._sessions = session_factory
        self._data_dir = data_dir
        self._sweep_seconds = sweep_seconds
        self._cond = threading.Condition()
        self._pending: list[int] = []
        self._first_queued = self._last_queued = 0.0
        self._sweep_due = True
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.classified = 0

    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="appeal-suggestions", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def notify(self, ids: Sequence[int]) -> None:
        with self._cond:
            if not self._pending:
                self._first_queued = time.monotonic()
            self._last_queued = time.monotonic()
            self._pending.extend(ids)
            self._cond.notify_all()

    def intake_active(self) -> None:
        """A submission is arriving: hold classification back until intake has been quiet for
        :data:`QUIET_SECONDS` (up to :data:`MAX_DELAY_SECONDS`), so a burst is not slowed down."""
        self._last_queued = time.monotonic()

    def sweep_now(self) -> None:
        """Ask for a sweep of every pending appeal at once."""
        with self._cond:
            self._sweep_due = True
            self._cond.notify_all()

    def drain(self) -> None:
        """Block until the queue is empty, no sweep is due and the thread is idle."""
        with self._cond:
            self._cond.wait_for(lambda: self._thread is None
                                or not (self._pending or self._sweep_due or self._busy))

    def _ready(self) -> bool:
        """Queued appeals are due: intake has been quiet for a moment, or the oldest waited long."""
        now = time.monotonic()
        return bool(self._pending) and (now - self._last_queued >= QUIET_SECONDS
                                        or now - self._first_queued >= MAX_DELAY_SECONDS)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._stopping or self._sweep_due or self._ready()):
                    timeout = QUIET_SECONDS if self._pending else self._sweep_seconds
                    if not self._cond.wait(timeout) and not self._pending:
                        self._sweep_due = True  # the periodic sweep
                if self._stopping:
                    self._cond.notify_all()
                    return
                ids, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                if self._pending:
                    self._first_queued = time.monotonic()
                sweep = self._sweep_due and not ids
                if sweep:
                    self._sweep_due = False
                self._busy = True
            try:
                if ids:
                    with self._sessions() as session:
                        self.classified += classify_pending(session, self._data_dir, ids)
                        session.commit()
                elif sweep:
                    self.classified += classify_all_pending(self._sessions, self._data_dir)
            except OperationalError:  # the store was busy: retry shortly
                log.warning("classifying stored appeals: the store was busy; retrying")
                with self._cond:
                    self._pending[:0] = ids
                    self._sweep_due = self._sweep_due or sweep
                time.sleep(RETRY_SECONDS)
            except Exception:  # never let the thread die; the periodic sweep finds them
                log.exception("classifying stored appeals failed; the next sweep retries")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
