"""The appeal classifier: jieba words + character n-grams, TF-IDF, a calibrated linear model.

Rules:
* the model predicts the **subcategory** (the taxonomy's second level); the category is the
  subcategory's parent, and the suggested category is the one with the highest summed probability
  of its subcategories (so three weak votes for ``tax.*`` beat one stronger vote for
  ``finance.loan``); the subcategory is then the most probable one inside that category;
* the responsible unit is the subcategory's default unit in the taxonomy as it is now (a retired
  subcategory is never suggested, even by a model trained before it was retired), unless a staff
  correction of a near-identical text (cosine ≥ :data:`NEAR_DUPLICATE` on the model's own
  features) named another one; such a correction also decides category and subcategory, with
  ``source="correction"`` — staff already answered this question for this text;
* training is reproducible: examples are sorted by id before fitting, the linear SVM has a fixed
  ``random_state``, calibration folds are unshuffled stratified folds (one SVM on all rows, sigmoid
  calibrators on its out-of-fold decisions); the same data and seed give the same model and the
  same predictions;
* staff corrections are trained on with weight :data:`CORRECTION_WEIGHT` (they are real appeals
  checked by a person, the examples are mostly generated);
* the saved file holds only scikit-learn/numpy/scipy objects and plain values: the format
  version, the scikit-learn version, the training data fingerprint, the seed. A file written by
  another format or scikit-learn version is not loaded (pickles do not survive version changes);
  :func:`get_model` then retrains from the packaged examples.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from shengxin.appeals.classify import segment
from shengxin.appeals.classify.corpus import MAX_TEXT_CHARS, Example, fingerprint, load_examples
from shengxin.appeals.classify.taxonomy import Taxonomy, load_taxonomy
from shengxin.errors import InvalidInput

log = logging.getLogger(__name__)

MODEL_FORMAT = 1
DEFAULT_SEED = 42
CORRECTION_WEIGHT = 3.0
NEAR_DUPLICATE = 0.9
CALIBRATION_FOLDS = 3
MODEL_FILE = Path("models") / "appeal_classifier.joblib"
#: What :func:`build_pipeline` builds; part of the model fingerprint, so a change shows.
MODEL_CONFIG = "tfidf(words 1-2)+tfidf(chars 1-3, min_df 2)|LinearSVC(C=0.5,tol=1e-3)|sigmoid(cv=3,ensemble=False)"
ALTERNATIVES = 3


@dataclass(frozen=True)
class Correction:
    """A staff decision on a real appeal: the labels it should have had."""

    text: str
    category: str
    subcategory: str
    unit: str


@dataclass(frozen=True)
class Alternative:
    category_code: str
    subcategory_code: str
    unit_code: str
    confidence: float


@dataclass(frozen=True)
class Suggestion:
    """What the classifier proposes for one text.

    ``confidence`` is the calibrated probability of the suggested subcategory (or, when
    ``source == "correction"``, the similarity to the corrected text); ``category_confidence`` the
    summed probability of the suggested category; ``alternatives`` the next most probable
    subcategories.
    """

    category_code: str
    subcategory_code: str
    unit_code: str
    confidence: float
    alternatives: tuple[Alternative, ...]
    category_confidence: float
    source: str  # model | correction
    model_fingerprint: str

    def as_dict(self) -> dict:
        return {
            "category_code": self.category_code,
            "subcategory_code": self.subcategory_code,
            "unit_code": self.unit_code,
            "confidence": round(self.confidence, 4),
            "category_confidence": round(self.category_confidence, 4),
            "source": self.source,
            "model_fingerprint": self.model_fingerprint,
            "alternatives": [
                {"category_code": a.category_code, "subcategory_code": a.subcategory_code,
                 "unit_code": a.unit_code, "confidence": round(a.confidence, 4)}
                for a in self.alternatives
            ],
        }


@dataclass
class Model:
    """A trained classifier and what it was trained on."""

    pipeline: Pipeline
    classes: list[str]
    class_category: list[str]
    default_units: dict[str, str]
    fingerprint: str
    taxonomy_fingerprint: str
    seed: int
    trained_at: str
    n_examples: int
    n_corrections: int
    correction_vectors: sparse.csr_matrix | None = None
    correction_labels: list[tuple[str, str, str]] = field(default_factory=list)
    sklearn_version: str = sklearn.__version__
    format: int = MODEL_FORMAT
    report: dict | None = None

    # -- prediction -------------------------------------------------------------------------

    def _vectors(self, texts: Sequence[str]):
        return self.pipeline.named_steps["features"].transform(features(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one column per entry of :attr:`classes`."""
        return self.pipeline.predict_proba(features(texts))

    def suggest_many(self, texts: Sequence[str], *, taxonomy: Taxonomy | None = None) -> list[Suggestion]:
        """One suggestion per text (vectorised over all texts); units from ``taxonomy`` (default:
        the packaged one)."""
        if not texts:
            return []
        clean = [_clean(t, where=f"texts[{i}]") for i, t in enumerate(texts)]
        X = self._vectors(clean)
        proba = self.pipeline.named_steps["clf"].predict_proba(X)
        units = self._current_units(taxonomy or load_taxonomy())
        if len(units) < len(self.classes):  # retired since training: never suggested
            live = np.asarray([c in units for c in self.classes])
            proba = np.where(live[None, :], proba, 0.0)
            proba = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-12, None)
        cats = np.asarray(self.class_category)
        cat_codes = sorted(set(self.class_category))
        cat_index = {c: i for i, c in enumerate(cat_codes)}
        membership = np.zeros((len(self.classes), len(cat_codes)))
        membership[np.arange(len(self.classes)), [cat_index[c] for c in self.class_category]] = 1.0
        cat_proba = proba @ membership
        best_cat = cat_proba.argmax(axis=1)
        # best subcategory inside the best category
        masked = np.where(cats[None, :] == np.asarray(cat_codes)[best_cat][:, None], proba, -1.0)
        best_sub = masked.argmax(axis=1)
        order = np.argsort(-proba, axis=1, kind="stable")

        near_idx = near_sim = None
        if self.correction_vectors is not None and self.correction_vectors.shape[0]:
            sims = (normalize(X) @ self.correction_vectors.T).toarray()
            near_idx = sims.argmax(axis=1)
            near_sim = sims[np.arange(len(clean)), near_idx]

        out = []
        for i in range(len(clean)):
            if near_sim is not None and near_sim[i] >= NEAR_DUPLICATE:
                cat, sub, unit = self.correction_labels[near_idx[i]]
                alts = self._alternatives(proba[i], order[i], exclude=sub, units=units)
                out.append(Suggestion(cat, sub, unit, float(near_sim[i]), alts,
                                      float(cat_proba[i, cat_index[cat]]) if cat in cat_index else 0.0,
                                      "correction", self.fingerprint))
                continue
            j = int(best_sub[i])
            sub = self.classes[j]
            out.append(Suggestion(self.class_category[j], sub, units[sub], float(proba[i, j]),
                                  self._alternatives(proba[i], order[i], exclude=sub, units=units),
                                  float(cat_proba[i, best_cat[i]]), "model", self.fingerprint))
        return out

    def _current_units(self, taxonomy: Taxonomy) -> dict[str, str]:
        """Unit per suggestible subcategory from the taxonomy as it is now (units may have moved
        since training); retired subcategories are left out."""
        out = {}
        for code in self.classes:
            sub = taxonomy.subcategory(code)
            if sub is None:
                out[code] = self.default_units[code]
                continue
            category = taxonomy.category(sub.category_code)
            if not sub.retired and not (category and category.retired):
                out[code] = sub.unit
        return out

    def _alternatives(self, row: np.ndarray, order: np.ndarray, exclude: str,
                      units: dict[str, str]) -> tuple[Alternative, ...]:
        alts = []
        for j in order:
            sub = self.classes[j]
            if sub == exclude or sub not in units:
                continue
            alts.append(Alternative(self.class_category[j], sub, units[sub], float(row[j])))
            if len(alts) == ALTERNATIVES:
                break
        return tuple(alts)

    def suggest(self, text: str) -> Suggestion:
        return self.suggest_many([text])[0]

    def info(self) -> dict:
        return {
            "format": self.format, "sklearn_version": self.sklearn_version, "fingerprint": self.fingerprint,
            "taxonomy_fingerprint": self.taxonomy_fingerprint, "seed": self.seed, "trained_at": self.trained_at,
            "n_examples": self.n_examples, "n_corrections": self.n_corrections, "classes": len(self.classes),
        }


def _clean(text: str, *, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("the appeal text is empty; give the text to classify", where=where)
    # an accepted appeal is never refused here: very long texts are classified on their beginning
    return text[:MAX_TEXT_CHARS]


def features(texts: Sequence[str]) -> np.ndarray:
    """Model input: one row per text, column 0 the segmented words, column 1 the normalised text."""
    arr = np.empty((len(texts), 2), dtype=object)
    for i, t in enumerate(texts):
        arr[i, 0] = " ".join(segment.tokens(t))
        arr[i, 1] = segment.normalise(t)
    return arr


def build_pipeline(seed: int = DEFAULT_SEED) -> Pipeline:
    """TF-IDF over jieba words (1-2 grams) and characters (1-3 grams) → calibrated linear SVM."""
    words = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), sublinear_tf=True,
                            min_df=1, dtype=np.float64)
    chars = TfidfVectorizer(analyzer="char", lowercase=False, ngram_range=(1, 3), sublinear_tf=True,
                            min_df=2, dtype=np.float64)
    svm = LinearSVC(C=0.5, tol=1e-3, random_state=seed, max_iter=5000)
    return Pipeline([
        ("features", ColumnTransformer([("words", words, 0), ("chars", chars, 1)])),
        # ensemble=False: one SVM fitted on all rows, sigmoid calibrators fitted on out-of-fold
        # decisions — a third of the size of the 3-model ensemble and better off-distribution
        ("clf", CalibratedClassifierCV(svm, method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False)),
    ])


def _rows(examples: Iterable[Example], corrections: Iterable[Correction], taxonomy: Taxonomy):
    """Validated, id-sorted training rows as (text, category, subcategory, unit, weight)."""
    rows = []
    for e in sorted(examples, key=lambda e: e.id):
        rows.append((_clean(e.text, where=f"example {e.id}"), e.category, e.subcategory, e.unit, 1.0))
    corr = []
    for i, c in enumerate(corrections):
        where = f"corrections[{i}]"
        taxonomy.check_labels(c.category, c.subcategory, where=where)
        if not c.unit or not str(c.unit).strip() or len(c.unit) > 32:
            raise InvalidInput("a correction needs the responsible unit's code (1-32 characters)", where=where)
        corr.append((_clean(c.text, where=where), c.category, c.subcategory, c.unit.strip(), CORRECTION_WEIGHT))
    return rows, corr


def train(examples: Iterable[Example] | None = None, corrections: Iterable[Correction] = (), *,
          seed: int = DEFAULT_SEED, taxonomy: Taxonomy | None = None) -> Model:
    """Fit a model on labelled examples (default: the packaged ``examples.csv``) plus corrections.

    Raises :class:`InvalidInput` for an empty text, unknown or inconsistent codes, or a
    subcategory with fewer examples than calibration folds.
    """
    taxonomy = taxonomy or load_taxonomy()
    examples = load_examples() if examples is None else list(examples)
    rows, corr = _rows(examples, corrections, taxonomy)
    data = rows + corr
    if not rows:
        raise InvalidInput("no labelled examples to train on", where="examples")
    labels = [r[2] for r in data]
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    thin = sorted(lab for lab, n in counts.items() if n < CALIBRATION_FOLDS)
    if thin:
        raise InvalidInput(f"subcategories {thin} have fewer than {CALIBRATION_FOLDS} examples; add examples "
                           "before training", where="examples")
    pipeline = build_pipeline(seed)
    weights = np.asarray([r[4] for r in data])
    pipeline.fit(features([r[0] for r in data]), np.asarray(labels), clf__sample_weight=weights)
    classes = [str(c) for c in pipeline.named_steps["clf"].classes_]
    subs = taxonomy.subcategories_by_code()
    model = Model(
        pipeline=pipeline,
        classes=classes,
        class_category=[subs[c].category_code for c in classes],
        default_units={c: subs[c].unit for c in classes},
        fingerprint=fingerprint([(r[0], r[1], r[2], r[3]) for r in data] + [("seed", str(seed), MODEL_CONFIG, "")]),
        taxonomy_fingerprint=taxonomy.fingerprint,
        seed=seed,
        trained_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        n_examples=len(rows),
        n_corrections=len(corr),
    )
    if corr:
        model.correction_vectors = sparse.csr_matrix(normalize(model._vectors([r[0] for r in corr])))
        model.correction_labels = [(r[1], r[2], r[3]) for r in corr]
    return model


# -- persistence ------------------------------------------------------------------------------

def model_path(data_dir: Path | None = None) -> Path:
    if data_dir is None:
        from shengxin.config import get_settings

        data_dir = get_settings().data_dir
    return Path(data_dir) / MODEL_FILE


_STATE_FIELDS = ("pipeline", "classes", "class_category", "default_units", "fingerprint", "taxonomy_fingerprint",
                 "seed", "trained_at", "n_examples", "n_corrections", "correction_vectors", "correction_labels",
                 "sklearn_version", "format", "report")


def save_model(model: Model, data_dir: Path | None = None) -> Path:
    """Write the model atomically (temp file + rename) under ``<data_dir>/models/``."""
    path = model_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: getattr(model, name) for name in _STATE_FIELDS}
    for _, vectorizer, _ in model.pipeline.named_steps["features"].transformers_:
        # terms dropped by min_df: only kept for introspection, safe to remove (sklearn docs)
        if getattr(vectorizer, "stop_words_", None) is not None:
            vectorizer.stop_words_ = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".appeal_classifier.", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(state, tmp, compress=1)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _cache.pop(str(path), None)
    return path


class IncompatibleModel(Exception):
    """A saved model written by another format or scikit-learn version."""


def load_model(data_dir: Path | None = None) -> Model | None:
    """The saved model, or ``None`` when there is none; :class:`IncompatibleModel` when stale."""
    path = model_path(data_dir)
    if not path.exists():
        return None
    state = joblib.load(path)
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise IncompatibleModel(f"{path}: model format {state.get('format') if isinstance(state, dict) else '?'}, "
                                f"expected {MODEL_FORMAT}")
    if state.get("sklearn_version") != sklearn.__version__:
        raise IncompatibleModel(f"{path}: written by scikit-learn {state.get('sklearn_version')}, "
                                f"running {sklearn.__version__}")
    return Model(**{name: state[name] for name in _STATE_FIELDS})


_cache: dict[str, tuple[float, Model]] = {}
_cache_lock = threading.Lock()
_packaged: dict[tuple[str, int], Model] = {}


def _packaged_model(seed: int = DEFAULT_SEED) -> Model:
    """The model trained on the packaged examples alone, trained once per process and data."""
    examples = load_examples()
    key = (fingerprint((e.text, e.category, e.subcategory, e.unit) for e in examples), seed)
    if key not in _packaged:
        started = time.perf_counter()
        _packaged[key] = train(examples, seed=seed)
        log.info("trained the appeal classifier in %.1f s", time.perf_counter() - started)
    return _packaged[key]


def get_model(data_dir: Path | None = None) -> Model:
    """The saved model (cached per file modification time); trained and saved when missing/stale."""
    path = model_path(data_dir)
    key = str(path)
    with _cache_lock:
        mtime = path.stat().st_mtime if path.exists() else None
        cached = _cache.get(key)
        if cached is not None and mtime is not None and cached[0] == mtime:
            return cached[1]
        try:
            model = load_model(data_dir)
        except IncompatibleModel as exc:
            log.warning("retraining the appeal classifier: %s", exc)
            model = None
        if model is None:
            model = _packaged_model()
            save_model(model, data_dir)
        _cache[key] = (path.stat().st_mtime, model)
        return model


def suggest(text: str, *, model: Model | None = None, data_dir: Path | None = None) -> Suggestion:
    """Suggest category, subcategory and responsible unit for one appeal text."""
    return (model or get_model(data_dir)).suggest(text)


def suggest_many(texts: Sequence[str], *, model: Model | None = None, data_dir: Path | None = None) -> list[Suggestion]:
    return (model or get_model(data_dir)).suggest_many(list(texts))
