"""Held-out evaluation of the appeal classifier and the baselines it is compared with.

Rules:
* the split is deterministic and does not depend on row order: within each subcategory the
  examples are ranked by SHA-256 of their id and the first :data:`TEST_SHARE` (rounded up) are
  held out — adding examples to one subcategory never moves another's;
* staff corrections are always training data (they are few and precious);
* the hard set (``examples_hard.csv``) is never trained on and is reported on its own;
* because generated texts share sentence templates, the random split flatters the model; a second
  split (:func:`split_unseen_templates`) holds out whole templates and is reported as well;
* macro-F1 is the unweighted mean of per-class F1 over the classes present in the test labels.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from shengxin.appeals.classify.corpus import Example, load_examples, load_hard_examples
from shengxin.appeals.classify.model import DEFAULT_SEED, Correction, Model, train
from shengxin.appeals.classify.taxonomy import Taxonomy, load_taxonomy

TEST_SHARE = 0.2


def split(examples: Iterable[Example], test_share: float = TEST_SHARE) -> tuple[list[Example], list[Example]]:
    """Deterministic stratified split into (train, test)."""
    by_sub: dict[str, list[Example]] = {}
    for e in examples:
        by_sub.setdefault(e.subcategory, []).append(e)
    train_rows, test_rows = [], []
    for sub in sorted(by_sub):
        ranked = sorted(by_sub[sub], key=lambda e: hashlib.sha256(e.id.encode("utf-8")).hexdigest())
        k = math.ceil(len(ranked) * test_share) if len(ranked) > 1 else 0
        test_rows += ranked[:k]
        train_rows += ranked[k:]
    return train_rows, test_rows


_TEMPLATE_ID = re.compile(r"^g-(?P<sub>.+)-\d+-c(?P<core>\d+)$")


def split_unseen_templates(examples: Iterable[Example],
                           test_share: float = TEST_SHARE) -> tuple[list[Example], list[Example]]:
    """Generated examples only, split by core sentence template: within each subcategory the first
    :data:`TEST_SHARE` of its templates (ranked by SHA-256 of ``<subcategory>:<template>``, at least
    one) are held out with every text built on them — the test texts state their problem in words
    the model never saw in that subcategory. Hand-written examples stay in training."""
    train_rows, test_rows = [], []
    templates: dict[str, set[int]] = {}
    parsed = []
    for e in examples:
        m = _TEMPLATE_ID.match(e.id)
        core = int(m.group("core")) if m and e.source == "generated" else None
        parsed.append((e, core))
        if core is not None and core >= 0:
            templates.setdefault(e.subcategory, set()).add(core)
    held: set[tuple[str, int]] = set()
    for sub, cores in templates.items():
        ranked = sorted(cores, key=lambda c: hashlib.sha256(f"{sub}:{c}".encode()).hexdigest())
        held |= {(sub, c) for c in ranked[:max(1, math.ceil(len(ranked) * test_share))]}
    for e, core in parsed:
        (test_rows if core is not None and (e.subcategory, core) in held else train_rows).append(e)
    return train_rows, test_rows


@dataclass(frozen=True)
class Scores:
    n: int
    macro_f1_subcategory: float
    macro_f1_category: float
    accuracy_subcategory: float
    accuracy_category: float

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def scores(true_sub: Sequence[str], pred_sub: Sequence[str], true_cat: Sequence[str],
           pred_cat: Sequence[str]) -> Scores:
    if not true_sub:
        return Scores(0, 0.0, 0.0, 0.0, 0.0)
    ts, ps, tc, pc = map(np.asarray, (true_sub, pred_sub, true_cat, pred_cat))
    return Scores(
        n=len(ts),
        macro_f1_subcategory=float(f1_score(ts, ps, labels=sorted(set(ts)), average="macro", zero_division=0)),
        macro_f1_category=float(f1_score(tc, pc, labels=sorted(set(tc)), average="macro", zero_division=0)),
        accuracy_subcategory=float((ts == ps).mean()),
        accuracy_category=float((tc == pc).mean()),
    )


def _calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error of the top suggestion, and accuracy per confidence band."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    bands = []
    for b in range(bins):
        mask = idx == b
        if not mask.any():
            continue
        acc, conf = correct[mask].mean(), confidence[mask].mean()
        ece += mask.mean() * abs(acc - conf)
        bands.append({"band": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(mask.sum()),
                      "mean_confidence": round(float(conf), 3), "accuracy": round(float(acc), 3)})
    return {"ece": round(float(ece), 4), "bands": bands}


def score_model(model: Model, rows: Sequence[Example]) -> tuple[Scores, list, dict]:
    """Scores of ``model`` on ``rows``, the (true, predicted) category pairs and calibration."""
    if not rows:
        return scores([], [], [], []), [], {"ece": 0.0, "bands": []}
    sugg = model.suggest_many([e.text for e in rows])
    s = scores([e.subcategory for e in rows], [x.subcategory_code for x in sugg],
               [e.category for e in rows], [x.category_code for x in sugg])
    pairs = [(e.category, x.category_code) for e, x in zip(rows, sugg)]
    conf = np.asarray([x.confidence for x in sugg])
    correct = np.asarray([e.subcategory == x.subcategory_code for e, x in zip(rows, sugg)], dtype=float)
    return s, pairs, _calibration(conf, correct)


def per_category(pairs: Sequence[tuple[str, str]], taxonomy: Taxonomy) -> list[dict]:
    true = [t for t, _ in pairs]
    pred = [p for _, p in pairs]
    labels = [c.code for c in taxonomy.categories if c.code in set(true)]
    p, r, f, support = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    return [{"category": code, "name": taxonomy.category(code).name, "precision": round(float(p[i]), 4),
             "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(support[i])}
            for i, code in enumerate(labels)]


def confusions(pairs: Sequence[tuple[str, str]], top: int = 10) -> list[dict]:
    counts = Counter((t, p) for t, p in pairs if t != p)
    return [{"true": t, "predicted": p, "count": n} for (t, p), n in counts.most_common(top)]


def evaluate(examples: Sequence[Example] | None = None, corrections: Iterable[Correction] = (), *,
             hard: Sequence[Example] | None = None, seed: int = DEFAULT_SEED) -> dict:
    """Train on the training split (+ corrections), score the held-out split and the hard set."""
    taxonomy = load_taxonomy()
    examples = load_examples() if examples is None else list(examples)
    hard = load_hard_examples() if hard is None else list(hard)
    train_rows, test_rows = split(examples)
    started = time.perf_counter()
    model = train(train_rows, corrections, seed=seed, taxonomy=taxonomy)
    train_seconds = time.perf_counter() - started
    test_scores, pairs, calibration = score_model(model, test_rows)
    handwritten = [e for e in test_rows if e.source == "handwritten"]
    hw_scores, _, _ = score_model(model, handwritten)
    hard_scores, hard_pairs, hard_cal = score_model(model, hard)
    unseen_train, unseen_test = split_unseen_templates(examples)
    unseen_model = train(unseen_train, corrections, seed=seed, taxonomy=taxonomy)
    unseen_scores, _, _ = score_model(unseen_model, unseen_test)
    by_kind = {}
    for kind in sorted({e.kind for e in hard if e.kind}):
        subset = [e for e in hard if e.kind == kind]
        by_kind[kind] = score_model(model, subset)[0].as_dict()
    return {
        "seed": seed,
        "n_train": len(train_rows),
        "n_corrections": model.n_corrections,
        "train_seconds": round(train_seconds, 2),
        "test": test_scores.as_dict(),
        "test_handwritten": hw_scores.as_dict(),
        "unseen_templates": unseen_scores.as_dict(),
        "hard": hard_scores.as_dict(),
        "hard_by_kind": by_kind,
        "per_category": per_category(pairs, taxonomy),
        "hard_per_category": per_category(hard_pairs, taxonomy),
        "confusions": confusions(pairs),
        "hard_confusions": confusions(hard_pairs),
        "calibration": calibration,
        "hard_calibration": hard_cal,
    }


# -- baselines --------------------------------------------------------------------------------

class KeywordRules:
    """The rule classifier a district would write by hand: keywords per subcategory.

    Keywords are the subcategory's Chinese name, the parts of the name split at 与/和/及, and its
    taxonomy tags; a text goes to the subcategory with the most keyword hits (longer keywords
    first on ties), and to the most frequent training subcategory when nothing matches.
    """

    def __init__(self, taxonomy: Taxonomy, fallback: str):
        self.fallback = fallback
        self.subs = taxonomy.subcategories_by_code()
        self.keywords: dict[str, list[str]] = {}
        for s in taxonomy.active_subcategories():
            words = {s.name, *re.split(r"[与和及、]", s.name), *s.tags}
            self.keywords[s.code] = sorted((w for w in words if len(w) >= 2), key=len, reverse=True)

    @classmethod
    def fit(cls, examples: Sequence[Example], taxonomy: Taxonomy | None = None) -> "KeywordRules":
        taxonomy = taxonomy or load_taxonomy()
        fallback = Counter(e.subcategory for e in examples).most_common(1)[0][0]
        return cls(taxonomy, fallback)

    def predict(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            best, best_key = self.fallback, (0, 0)
            for code, words in self.keywords.items():
                hits = sum(text.count(w) for w in words)
                if hits:
                    key = (hits, max(len(w) for w in words if w in text))
                    if key > best_key:
                        best, best_key = code, key
            out.append(best)
        return out

    def category_of(self, sub: str) -> str:
        return self.subs[sub].category_code


def baseline_scores(train_rows: Sequence[Example], rows: Sequence[Example]) -> dict:
    """Keyword-rule and majority-class scores on ``rows``."""
    rules = KeywordRules.fit(train_rows)
    pred = rules.predict([e.text for e in rows])
    majority = Counter(e.subcategory for e in train_rows).most_common(1)[0][0]
    return {
        "keyword_rules": scores([e.subcategory for e in rows], pred, [e.category for e in rows],
                                [rules.category_of(p) for p in pred]).as_dict(),
        "majority_class": scores([e.subcategory for e in rows], [majority] * len(rows),
                                 [e.category for e in rows], [rules.category_of(majority)] * len(rows)).as_dict(),
    }
