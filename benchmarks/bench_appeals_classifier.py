"""Benchmark of the appeal classifier and the problem library's grouping.

Run: ``python benchmarks/bench_appeals_classifier.py [--n 4000] [--naive 1000] [--json]``

Quality (macro-F1, subcategory and category level), all measured in this run:

* held-out split of ``examples.csv`` (20% per subcategory, deterministic) — generated texts share
  sentence templates with the training texts, so this figure flatters the model;
* the hand-written part of that split;
* *unseen templates*: a model trained without some of each subcategory's sentence templates,
  scored on the texts built from them;
* the hard set (``examples_hard.csv``: paraphrases, colloquial texts, mixed topics; never trained
  on);
* baselines on the same sets: keyword rules (taxonomy names and tags) and the majority class.

Speed, against a baseline in the same process (the machine is shared, absolute times vary):

* training time of the model vs building the keyword rules;
* classifying ``--n`` demo appeal texts in one vectorised call, and one by one as intake does,
  vs the keyword rules;
* grouping ``--n`` demo appeals (cold, then with the segmentation cache warm) and, on the first
  ``--naive`` of them, the vectorised grouping vs a naive pairwise Python loop over the same
  vectors — the two must find the same groups.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter

import numpy as np

from shengxin.appeals.classify import corpus
from shengxin.appeals.classify import evaluate as ev
from shengxin.appeals.classify import model as m
from shengxin.appeals.library import grouping


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def naive_groups(records, window_days: int, threshold: float, min_size: int = 2) -> list[tuple[str, ...]]:
    """The same rule as ``group_similar``, written as a pairwise Python loop (the baseline)."""
    recs = grouping.coerce_records(records)
    X, _, _ = grouping._vectorise([r.text for r in recs])
    rows = [dict(zip(X[i].indices.tolist(), X[i].data.tolist())) for i in range(X.shape[0])]
    times = [grouping._epoch(r.submitted_at) for r in recs]
    window = window_days * 86400.0
    parent = list(range(len(recs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(recs)):
        for j in range(i + 1, len(recs)):
            if recs[i].category != recs[j].category or abs(times[i] - times[j]) > window:
                continue
            a, b = rows[i], rows[j]
            if len(b) < len(a):
                a, b = b, a
            if sum(v * b.get(k, 0.0) for k, v in a.items()) >= threshold:
                parent[find(i)] = find(j)
    members: dict[int, list[int]] = {}
    for i in range(len(recs)):
        members.setdefault(find(i), []).append(i)
    return sorted(tuple(sorted(recs[i].id for i in g)) for g in members.values() if len(g) >= min_size)


def quality(seed: int) -> dict:
    examples = corpus.load_examples()
    hard = corpus.load_hard_examples()
    report = ev.evaluate(examples, seed=seed, hard=hard)
    train_rows, test_rows = ev.split(examples)
    unseen_train, unseen_test = ev.split_unseen_templates(examples)
    report["baselines"] = {
        "test": ev.baseline_scores(train_rows, test_rows),
        "test_handwritten": ev.baseline_scores(train_rows, [e for e in test_rows if e.source == "handwritten"]),
        "unseen_templates": ev.baseline_scores(unseen_train, unseen_test),
        "hard": ev.baseline_scores(train_rows, hard),
    }
    return report


def speed(n: int, seed: int) -> dict:
    examples = corpus.load_examples()
    demo = corpus.generate_demo_appeals(n, 2025, seed)
    texts = [a["text"] for a in demo]
    model, train_s = timed(m.train, examples, seed=42)
    rules, rules_fit_s = timed(ev.KeywordRules.fit, examples)
    # warm both once (jieba's dictionary load is a one-off per process)
    model.suggest_many(texts[:10])
    rules.predict(texts[:10])
    batch, batch_s = timed(model.suggest_many, texts)
    one_by_one_n = min(n, 500)
    _, single_s = timed(lambda: [model.suggest(t) for t in texts[:one_by_one_n]])
    kw, kw_s = timed(rules.predict, texts)
    agree = float(np.mean([s.subcategory_code == a["subcategory_code"] for s, a in zip(batch, demo)]))
    kw_agree = float(np.mean([p == a["subcategory_code"] for p, a in zip(kw, demo)]))
    return {
        "train_seconds": round(train_s, 3), "keyword_rules_build_seconds": round(rules_fit_s, 4),
        "classify_texts": n,
        "classify_batch_seconds": round(batch_s, 3),
        "classify_batch_per_text_ms": round(1000 * batch_s / n, 3),
        "classify_one_by_one_per_text_ms": round(1000 * single_s / one_by_one_n, 3),
        "keyword_rules_seconds": round(kw_s, 3),
        "ratio_batch_vs_keyword_rules": round(batch_s / kw_s, 2) if kw_s else None,
        "demo_texts_subcategory_accuracy": round(agree, 4),
        "demo_texts_keyword_rules_accuracy": round(kw_agree, 4),
    }


def library(n: int, naive_n: int, seed: int) -> dict:
    demo = corpus.generate_demo_appeals(n, 2025, seed)
    records = [{"id": str(i), "text": a["text"], "category": a["category_code"], "town_code": a["town_code"],
                "submitted_at": a["submitted_at"]} for i, a in enumerate(demo)]
    grouping._content_doc.cache_clear()
    groups, cold_s = timed(grouping.group_similar, records)
    _, warm_s = timed(grouping.group_similar, records)
    subset = records[:naive_n]
    vec, vec_s = timed(grouping.group_similar, subset, min_size=2)
    naive, naive_s = timed(naive_groups, subset, grouping.DEFAULT_WINDOW_DAYS, grouping.DEFAULT_THRESHOLD)
    same = sorted(tuple(sorted(g.record_ids)) for g in vec) == naive
    hot = Counter(a["hotspot"] for a in demo if a["hotspot"] is not None)
    recall = []
    for h, size in sorted(hot.items()):
        ids = {str(i) for i, a in enumerate(demo) if a["hotspot"] == h}
        recall.append(max(len(ids & set(g.record_ids)) for g in groups) / size)
    return {
        "appeals": n, "groups": len(groups), "appeals_in_groups": sum(g.count for g in groups),
        "largest_group": max((g.count for g in groups), default=0),
        "group_seconds_cold": round(cold_s, 3), "group_seconds_warm": round(warm_s, 3),
        "naive_subset": naive_n, "vectorised_subset_seconds": round(vec_s, 3),
        "naive_subset_seconds": round(naive_s, 3),
        "ratio_naive_vs_vectorised": round(naive_s / vec_s, 1) if vec_s else None,
        "naive_and_vectorised_agree": same,
        "planted_hotspot_recall_min": round(min(recall), 3) if recall else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="demo appeals to classify and group")
    parser.add_argument("--naive", type=int, default=4000, help="appeals for the naive grouping baseline")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()},
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quality": quality(args.seed),
        "speed": speed(args.n, 7),
        "library": library(args.n, args.naive, 7),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    q = result["quality"]
    print(f"machine: {result['machine']}  date: {result['date']}")
    print("macro-F1                       subcategory  category   (keyword rules: sub / cat)")
    for name in ("test", "test_handwritten", "unseen_templates", "hard"):
        s, b = q[name], q["baselines"][name]["keyword_rules"]
        print(f"  {name:28s} {s['macro_f1_subcategory']:.3f}       {s['macro_f1_category']:.3f}"
              f"      ({b['macro_f1_subcategory']:.3f} / {b['macro_f1_category']:.3f})  n={s['n']}")
    for kind, s in q["hard_by_kind"].items():
        print(f"    hard/{kind:20s}   {s['macro_f1_subcategory']:.3f}       {s['macro_f1_category']:.3f}  n={s['n']}")
    maj = q["baselines"]["test"]["majority_class"]
    print(f"  majority class (held-out)      {maj['macro_f1_subcategory']:.3f}       {maj['macro_f1_category']:.3f}")
    print(f"  calibration (held-out) ECE {q['calibration']['ece']}, hard set ECE {q['hard_calibration']['ece']}")
    sp = result["speed"]
    print(f"training: {sp['train_seconds']} s (keyword rules: {sp['keyword_rules_build_seconds']} s)")
    print(f"classify {sp['classify_texts']} texts: {sp['classify_batch_seconds']} s batch "
          f"({sp['classify_batch_per_text_ms']} ms/text), one by one {sp['classify_one_by_one_per_text_ms']} ms/text; "
          f"keyword rules {sp['keyword_rules_seconds']} s; ratio {sp['ratio_batch_vs_keyword_rules']}×")
    lib = result["library"]
    print(f"grouping {lib['appeals']} appeals: {lib['group_seconds_cold']} s cold, {lib['group_seconds_warm']} s warm; "
          f"{lib['groups']} groups, {lib['appeals_in_groups']} appeals in groups, largest {lib['largest_group']}, "
          f"planted hotspot recall ≥ {lib['planted_hotspot_recall_min']}")
    print(f"  on {lib['naive_subset']} appeals: vectorised {lib['vectorised_subset_seconds']} s vs naive pairwise loop "
          f"{lib['naive_subset_seconds']} s ({lib['ratio_naive_vs_vectorised']}×), same groups: "
          f"{lib['naive_and_vectorised_agree']}")


if __name__ == "__main__":
    main()
