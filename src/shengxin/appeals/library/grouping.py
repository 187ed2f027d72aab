"""Grouping similar appeals into classes of cases (一类事) for the problem library.

Rule: two appeals are *linked* when they have the same category, were submitted at most
``window_days`` apart, and the cosine similarity of their TF-IDF vectors (jieba content words and
word bigrams, stopwords removed, IDF fitted on the records being grouped) is at least
``threshold``. A group is a connected component of links with at least ``min_size`` appeals, so a
problem that keeps recurring forms one group even when its first and last appeals are further apart
than the window (each link is within it).

Everything is vectorised: per category the records are sorted by time and compared in blocks with a
sparse matrix product restricted to the time window (a contiguous slice after sorting); components
come from ``scipy.sparse.csgraph``. No Python loop runs over pairs of appeals.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer

from shengxin.appeals.classify import segment
from shengxin.errors import InvalidInput

DEFAULT_WINDOW_DAYS = 90
DEFAULT_THRESHOLD = 0.45
DEFAULT_MIN_SIZE = 2
TREND_DAYS = 30
_BLOCK = 1024
_DAY = 86400.0


@dataclass(frozen=True)
class LibraryRecord:
    """What grouping needs of an appeal (the appeals domain maps its rows to this)."""

    id: str
    text: str
    category: str
    town_code: str | None
    submitted_at: dt.datetime


@dataclass(frozen=True)
class CaseGroup:
    """A class of similar appeals.

    ``key`` is ``<category>:<id of the earliest appeal>`` — stable while the group grows, so a page
    can refer to it between rendering and a staff action. ``trend`` compares the last
    :data:`TREND_DAYS` days before ``as_of`` with the 30 days before those: rising, falling,
    steady, or quiet (none in either).
    """

    key: str
    category: str
    record_ids: tuple[str, ...]
    representative_id: str
    representative_text: str
    keywords: tuple[str, ...]
    first_at: dt.datetime
    last_at: dt.datetime
    by_month: tuple[tuple[str, int], ...]
    by_town: tuple[tuple[str | None, int], ...]
    trend: str
    cohesion: float

    @property
    def count(self) -> int:
        return len(self.record_ids)

    def as_dict(self) -> dict:
        return {
            "key": self.key, "category": self.category, "count": self.count, "record_ids": list(self.record_ids),
            "representative_id": self.representative_id, "representative_text": self.representative_text,
            "keywords": list(self.keywords), "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(), "by_month": dict(self.by_month),
            "by_town": [[t, n] for t, n in self.by_town], "trend": self.trend, "cohesion": round(self.cohesion, 4),
        }


def _get(record, name: str):
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def coerce_records(records: Iterable) -> list[LibraryRecord]:
    """Plain records from mappings or objects with ``id, text, category, town_code, submitted_at``."""
    out = []
    for i, r in enumerate(records):
        where = f"records[{i}]"
        rid, text, category, at = _get(r, "id"), _get(r, "text"), _get(r, "category"), _get(r, "submitted_at")
        if rid is None or str(rid) == "":
            raise InvalidInput("a record needs an id", where=where)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("a record needs a non-empty text", where=where)
        if not category:
            raise InvalidInput("a record needs a category code", where=where)
        if not isinstance(at, dt.datetime):
            raise InvalidInput("submitted_at must be a datetime", where=where)
        town = _get(r, "town_code")
        out.append(LibraryRecord(str(rid), text, str(category), str(town) if town else None, at))
    return out


def _epoch(at: dt.datetime) -> float:
    """Seconds since the epoch; naive datetimes are taken as UTC (the operational store's convention)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.timestamp()


@lru_cache(maxsize=100_000)
def _content_doc(text: str) -> str:
    """Content words of a text, space-joined (cached: pages regroup the same appeals repeatedly)."""
    return " ".join(segment.content_tokens(text))


def _vectorise(texts: Sequence[str]):
    docs = [_content_doc(t) for t in texts]
    vec = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True,
                          dtype=np.float64)
    try:
        X = vec.fit_transform(docs)
    except ValueError:  # no content words at all
        return sparse.csr_matrix((len(texts), 0)), np.asarray([], dtype=object), np.zeros(0)
    terms = vec.get_feature_names_out()
    # keywords shown to staff: words (not bigrams) of two characters or more, weighted by IDF
    label_weight = np.where([(" " not in t and len(t) >= 2) for t in terms], vec.idf_, 0.0)
    return X.tocsr(), terms, label_weight


def _links(X: sparse.csr_matrix, times: np.ndarray, cats: np.ndarray, window: float, threshold: float):
    """(rows, cols) of linked pairs i<j, computed per category in time-ordered blocks."""
    rows_out, cols_out = [], []
    for cat in np.unique(cats):
        idx = np.flatnonzero(cats == cat)
        idx = idx[np.argsort(times[idx], kind="stable")]
        t = times[idx]
        Xc = X[idx]
        for start in range(0, len(idx), _BLOCK):
            stop = min(start + _BLOCK, len(idx))
            hi = int(np.searchsorted(t, t[stop - 1] + window, side="right"))
            # only partners later in time order: j in [start, hi)
            S = (Xc[start:stop] @ Xc[start:hi].T).tocoo()
            i_loc, j_loc = S.row + start, S.col + start
            keep = (S.data >= threshold) & (j_loc > i_loc) & (t[j_loc] - t[i_loc] <= window)
            rows_out.append(idx[i_loc[keep]])
            cols_out.append(idx[j_loc[keep]])
    if not rows_out:
        return np.asarray([], dtype=np.int64), np.asarray([], dtype=np.int64)
    return np.concatenate(rows_out), np.concatenate(cols_out)


def _trend(times: np.ndarray, as_of: float) -> str:
    recent = int(((times > as_of - TREND_DAYS * _DAY) & (times <= as_of)).sum())
    before = int(((times > as_of - 2 * TREND_DAYS * _DAY) & (times <= as_of - TREND_DAYS * _DAY)).sum())
    if recent == 0 and before == 0:
        return "quiet"
    if recent > before:
        return "rising"
    if recent < before:
        return "falling"
    return "steady"


def _months(first: dt.datetime, last: dt.datetime, months: Counter) -> tuple[tuple[str, int], ...]:
    """Every month from the first to the last appeal (zeros included), as ("YYYY-MM", count)."""
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        label = f"{y:04d}-{m:02d}"
        out.append((label, months.get(label, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def group_similar(records: Iterable, window_days: int = DEFAULT_WINDOW_DAYS, threshold: float = DEFAULT_THRESHOLD,
                  *, min_size: int = DEFAULT_MIN_SIZE, as_of: dt.datetime | None = None,
                  keywords: int = 6) -> list[CaseGroup]:
    """Classes of similar appeals, largest first (ties: most recent first)."""
    if not 0 < threshold <= 1:
        raise InvalidInput("threshold must be in (0, 1]", where="threshold")
    if window_days < 1:
        raise InvalidInput("window_days must be at least 1", where="window_days")
    if min_size < 2:
        raise InvalidInput("min_size must be at least 2", where="min_size")
    recs = coerce_records(records)
    if len(recs) < min_size:
        return []
    times = np.asarray([_epoch(r.submitted_at) for r in recs])
    cats = np.asarray([r.category for r in recs], dtype=object)
    X, terms, label_weight = _vectorise([r.text for r in recs])
    if X.shape[1] == 0:
        return []
    rows, cols = _links(X, times, cats, window_days * _DAY, threshold)
    n = len(recs)
    graph = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    n_comp, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    as_of_ts = _epoch(as_of) if as_of is not None else float(times.max())

    groups = []
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    ids = np.asarray([r.id for r in recs], dtype=object)
    for comp in np.flatnonzero(sizes >= min_size):
        members = order[starts[comp]:starts[comp + 1]]
        members = members[np.lexsort((ids[members], times[members]))]
        Xg = X[members]
        cols = np.unique(Xg.indices)  # only the words this group uses
        Xg = Xg[:, cols]
        centroid = np.asarray(Xg.sum(axis=0)).ravel()
        sims = Xg @ centroid
        norm = np.linalg.norm(centroid)
        rep = members[int(np.argmax(sims))]
        # keywords: words most members share, rarer words first (group document frequency × IDF)
        share = np.asarray((Xg > 0).sum(axis=0)).ravel() / len(members)
        score = share * label_weight[cols]
        top = [cols[k] for k in np.argsort(-score, kind="stable")[:keywords] if score[k] > 0]
        first, last = recs[members[0]].submitted_at, recs[members[-1]].submitted_at
        month_counts = Counter(recs[i].submitted_at.strftime("%Y-%m") for i in members)
        towns = Counter(recs[i].town_code for i in members)
        groups.append(CaseGroup(
            key=f"{recs[members[0]].category}:{recs[members[0]].id}",
            category=recs[members[0]].category,
            record_ids=tuple(recs[i].id for i in members),
            representative_id=recs[rep].id,
            representative_text=recs[rep].text,
            keywords=tuple(str(terms[k]) for k in top),
            first_at=first,
            last_at=last,
            by_month=_months(first, last, month_counts),
            by_town=tuple(sorted(towns.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
            trend=_trend(times[members], as_of_ts),
            cohesion=float(sims.mean() / norm) if norm else 0.0,
        ))
    groups.sort(key=lambda g: (-g.count, -_epoch(g.last_at), g.key))
    return groups
