"""The appeals domain's background parts in a server process: the intake writer and the
suggestion worker (see :mod:`shengxin.appeals.intake` and :mod:`shengxin.appeals.suggestions`).

Rules:
* ``background=True`` (a server with its own database engine): at start-up the classifier model is
  loaded — trained once and saved under ``<data_dir>/models/`` when missing — and used once (so
  the segmenter's dictionary is loaded too) before any request is taken; these long-lived objects
  are then frozen out of the garbage collector's passes; then the suggestion worker starts
  (sweeping what is pending) and the intake writer;
* ``background=False`` (an app on a caller's session factory, as in tests): no threads; each
  submission is committed by the request itself and suggestions stay pending until a sweep
  (``shengxin appeals sweep``) or :func:`shengxin.appeals.suggestions.classify_all_pending`;
* stopping stores what is queued, then stops the threads.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker

from shengxin.appeals import intake
from shengxin.appeals.categories import load_taxonomy
from shengxin.appeals.suggestions import SuggestionWorker
from shengxin.config import Settings

log = logging.getLogger(__name__)


class AppealRuntime:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, *, background: bool):
        self.sessions = session_factory
        self.settings = settings
        self.background = background
        self.suggestions: SuggestionWorker | None = None
        self.writer: intake.IntakeWriter | None = None

    def start(self) -> None:
        if not self.background:
            return
        from shengxin.appeals.classify import get_model

        model = get_model(self.settings.data_dir)
        model.suggest("厂区停电影响生产，请协调供电")  # loads the segmenter's dictionary now, not on a request
        # The model and the dictionary are millions of long-lived objects: keep them out of the
        # garbage collector's full passes, which otherwise stall a burst of requests every few
        # hundred submissions (gc.freeze moves what exists now to a permanent generation).
        gc.collect()
        gc.freeze()
        log.info("appeal classifier ready (%s)", model.fingerprint[:12])
        self.suggestions = SuggestionWorker(self.sessions, self.settings.data_dir)
        self.suggestions.start()
        self.writer = intake.IntakeWriter(self.sessions, load_taxonomy(), self.settings.data_dir,
                                          on_stored=self.suggestions.notify)
        self.writer.start()

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.stop()
            self.writer = None
        if self.suggestions is not None:
            self.suggestions.stop()
            self.suggestions = None

    def stored(self, ids: Sequence[int]) -> None:
        """Appeals committed outside the writer (portal, QR, staff entry): queue them for the
        classifier."""
        if self.suggestions is not None and ids:
            self.suggestions.notify(list(ids))

    async def submit(self, item: intake.Submission) -> intake.Receipt:
        """Store one submission and return its receipt once committed (group commit when the
        writer runs, otherwise a transaction of its own in a worker thread)."""
        if self.writer is not None:
            self.suggestions.intake_active()
            return await asyncio.wrap_future(self.writer.submit(item))
        result = (await asyncio.to_thread(intake.commit_batch, self.sessions, [item], load_taxonomy(),
                                          self.settings.data_dir))[0]
        if isinstance(result, Exception):
            raise result
        return result
