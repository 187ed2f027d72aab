"""Overlap reading, validating and writing on the machine's cores.

Arrow and Parquet release the GIL while they decode, compute and compress, so one thread reading
ahead and one thread writing behind let a 2-core machine work on three batches at once. Queues
are short (``depth``), so memory stays bounded by a few batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_DONE = object()


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc


def prefetch(items: Iterator, depth: int = 1) -> Iterator:
    """Iterate ``items`` in a background thread, ``depth`` items ahead; exceptions are re-raised
    in the consumer. Abandoning the iterator stops the producer at its next item."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            q.put(_Raised(exc))

    thread = threading.Thread(target=produce, name="hub-read", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.1)


class BackgroundWriter:
    """A Parquet writer that encodes and compresses in its own thread. Errors surface at the next
    :meth:`write_batch` or at :meth:`close`."""

    def __init__(self, path: Path, schema: pa.Schema, depth: int = 1, **options):
        self.path = path
        self._writer = pq.ParquetWriter(path, schema, **options)
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hub-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._q.get()
            if batch is _DONE:
                return
            if self._error is None:
                try:
                    self._writer.write_batch(batch)
                except BaseException as exc:
                    self._error = exc

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(batch)

    def close(self) -> None:
        self._q.put(_DONE)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error
