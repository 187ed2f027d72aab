"""Reading tags for people: an enterprise's tags, the catalogue with counts, portrait sections and
the statistics page (counts per tag by town, change between the two latest snapshots)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq

from shengxin.engine.evaluate import evaluate
from shengxin.engine.evaluate import explain as explain_tree
from shengxin.engine.render import display, json_value
from shengxin.reference.district import District
from shengxin.tags import snapshots
from shengxin.tags.catalogue import PROVENANCES, Catalogue, catalogue_from_json
from shengxin.tags.explain import (
    check_uscc,
    compiled_tags,
    evidence_row,
    feature_env,
    tag_rows,
)


def _catalogue_of(snap: snapshots.TagSnapshot) -> Catalogue:
    return _catalogue_cached(str(snap.path), snap.id)


@lru_cache(maxsize=8)
def _catalogue_cached(path: str, snapshot_id: str) -> Catalogue:
    return catalogue_from_json((Path(path) / snapshots.CATALOGUE_FILE).read_text(encoding="utf-8"), snapshot_id)


def tags_of(uscc: str, analytic_dir: Path, district: District) -> dict:
    """The enterprise's tags in the current snapshot, with names, categories and values."""
    uscc = check_uscc(uscc)
    snap = snapshots.require_current(analytic_dir)
    evidence_row(snap, uscc)  # NotFound when the enterprise is not in the snapshot
    held = tag_rows(snap, uscc)
    compiled = compiled_tags(snap, district)
    catalogue = _catalogue_of(snap)
    out = []
    for tag_id, value in held.items():
        t = compiled.get(tag_id)
        if t is None:
            continue
        v = t.version
        out.append({"id": tag_id, "name": v.name, "category": v.category,
                    "category_name": catalogue.categories[v.category].name if v.category in catalogue.categories else v.category,
                    "version": v.version, "provenance": v.provenance, "value": json_value(value),
                    "description": v.description})
    order = {k: i for i, k in enumerate(catalogue.categories)}
    tag_order = catalogue.order()
    out.sort(key=lambda t: (order.get(t["category"], 99), tag_order.get(t["id"], 0)))
    return {"uscc": uscc, "snapshot_id": snap.id, "as_of": snap.as_of.isoformat(), "tags": out}


def list_tags(catalogue: Catalogue, analytic_dir: Path) -> list[dict]:
    """Every tag of the catalogue (latest version) with its count in the current snapshot."""
    snap = snapshots.current(analytic_dir)
    counts = {k: v["count"] for k, v in (snap.manifest["tags"].items() if snap else [])}
    out = []
    order = catalogue.order()
    for tag_id, v in sorted(catalogue.latest().items(), key=lambda kv: order[kv[0]]):
        out.append({**v.public(), "category_name": catalogue.categories[v.category].name,
                    "provenance_name": PROVENANCES[v.provenance], "count": counts.get(tag_id)})
    return out


@dataclass(frozen=True)
class PortraitTag:
    id: str
    name: str
    provenance: str
    provenance_name: str
    description: str
    value_display: str | None
    because: list[str]  # the decisive conditions in one line each


@dataclass(frozen=True)
class PortraitCategory:
    key: str
    name: str
    tags: list[PortraitTag]


def _because(node_explanation: dict, limit: int = 3) -> list[str]:
    """Short lines of the conditions that made a true result true."""
    lines: list[str] = []

    def visit(e: dict) -> None:
        if len(lines) >= limit or e.get("result") is not True:
            return
        kind = e.get("kind")
        if kind in ("all", "any", "tag", "not") and e.get("conditions"):
            for c in e["conditions"]:
                visit(c)
            return
        actual = e.get("actual")
        if kind == "compare" and actual:
            op = {">=": "≥", "<=": "≤", "!=": "≠"}.get(e["op"], e["op"])
            lines.append(f"{actual['label']}：{actual['display']}（{op} {e['threshold']['display']}）")
        elif actual:
            lines.append(f"{e['label']}（{actual['display']}）")
        else:
            lines.append(e["label"])

    visit(node_explanation)
    return lines


def tags_for_portrait(uscc: str, analytic_dir: Path, district: District) -> list[PortraitCategory]:
    """The portrait's tag section: categories in display order, each with the enterprise's tags and
    a short "because" (the full explanation is loaded on demand from ``/tags/explain/...``).

    An enterprise without a snapshot or not in it gets an empty list.
    """
    snap = snapshots.current(analytic_dir)
    if snap is None:
        return []
    uscc = check_uscc(uscc)
    try:
        row = evidence_row(snap, uscc)
    except Exception:  # noqa: BLE001 - not in the snapshot: no tags to show
        return []
    held = tag_rows(snap, uscc)
    compiled = compiled_tags(snap, district)
    catalogue = _catalogue_of(snap)
    by_category: dict[str, list[PortraitTag]] = {}
    tag_order = catalogue.order()
    for tag_id in sorted(held, key=lambda t: tag_order.get(t, 0)):
        t = compiled.get(tag_id)
        if t is None:
            continue
        env = feature_env(row, t, snap.as_of)
        value = evaluate(t.value, env) if t.value is not None else None
        v = t.version
        by_category.setdefault(v.category, []).append(PortraitTag(
            v.id, v.name, v.provenance, PROVENANCES[v.provenance], v.description,
            display(value, t.value.type) if t.value is not None else None,
            _because(explain_tree(t.condition, env)),
        ))
    return [PortraitCategory(key, c.name, by_category[key]) for key, c in catalogue.categories.items() if key in by_category]


def members(tag_id: str, analytic_dir: Path, district: District, *, town: str | None = None,
            limit: int = 50) -> dict:
    """The enterprises that have a tag in the current snapshot (optionally in one town)."""
    from shengxin.errors import InvalidInput, NotFound

    if limit < 1 or limit > 10_000:
        raise InvalidInput("limit must be between 1 and 10000", where="--limit")
    if town is not None and district.town(town) is None:
        raise InvalidInput(f"{town!r} is not a town of {district.name}; known: "
                           + ", ".join(f"{t.code} {t.name}" for t in district.towns), where="--town")
    snap = snapshots.require_current(analytic_dir)
    if tag_id not in snap.manifest["tags"]:
        raise NotFound(f"标签 {tag_id} 不在标签快照 {snap.id} 中；用 shengxin tags list 查看全部标签")
    filters = [("tag_id", "=", tag_id)] + ([("town", "=", town)] if town else [])
    table = pq.read_table(snap.tags_file, filters=filters, columns=["uscc", "town", "value"])
    rows = table.slice(0, limit).to_pylist()
    names = {t.code: t.name for t in district.towns}
    return {"tag_id": tag_id, "name": snap.manifest["tags"][tag_id]["name"], "snapshot_id": snap.id,
            "as_of": snap.as_of.isoformat(), "total": table.num_rows,
            "enterprises": [{"uscc": r["uscc"], "town": r["town"], "town_name": names.get(r["town"]),
                             "value": json_value(r["value"])} for r in rows]}


# ----------------------------------------------------------------------------- statistics


@lru_cache(maxsize=8)
def _counts_by_town(tags_file: str, snapshot_id: str) -> dict[str, dict[str | None, int]]:
    table = pq.read_table(tags_file, columns=["tag_id", "town"])
    if table.num_rows == 0:
        return {}
    grouped = table.group_by(["tag_id", "town"]).aggregate([("tag_id", "count")])
    out: dict[str, dict[str | None, int]] = {}
    for tag_id, town, n in zip(grouped.column("tag_id").to_pylist(), grouped.column("town").to_pylist(),
                               grouped.column("tag_id_count").to_pylist()):
        out.setdefault(tag_id, {})[town] = n
    return out


def counts_by_town(snap: snapshots.TagSnapshot) -> dict[str, dict[str | None, int]]:
    return _counts_by_town(str(snap.tags_file), snap.id)


def statistics(analytic_dir: Path, district: District, towns: list[str] | None = None) -> dict:
    """Counts per tag by town in the current snapshot and the change since the previous one.

    ``towns`` limits the columns (town staff see their own town only); ``None`` means every town
    of the district plus "other" (enterprises registered outside the district's towns).
    """
    now, before = snapshots.latest_two(analytic_dir)
    if now is None:
        return {"snapshot": None, "previous": None, "towns": [], "categories": []}
    district_towns = [(t.code, t.name) for t in district.towns]
    columns = [(c, n) for c, n in district_towns if towns is None or c in towns]
    show_other = towns is None
    now_counts = counts_by_town(now)
    before_counts = counts_by_town(before) if before else None
    catalogue = _catalogue_of(now)
    manifest_tags = now.manifest["tags"]
    known = {c for c, _ in district_towns}
    categories = []
    for key, category in catalogue.categories.items():
        rows = []
        for tag_id, info in manifest_tags.items():
            if info["category"] != key:
                continue
            per_town = now_counts.get(tag_id, {})
            prev_town = before_counts.get(tag_id, {}) if before_counts is not None else None
            cells = []
            for code, _ in columns:
                n = per_town.get(code, 0)
                delta = None if prev_town is None else n - prev_town.get(code, 0)
                cells.append({"town": code, "count": n, "delta": delta})
            if show_other:
                other = sum(v for t, v in per_town.items() if t not in known)
                other_prev = None if prev_town is None else sum(v for t, v in prev_town.items() if t not in known)
                cells.append({"town": None, "count": other, "delta": None if other_prev is None else other - other_prev})
            total = sum(c["count"] for c in cells)
            prev_total = None if prev_town is None else (
                sum(prev_town.values()) if show_other else sum(prev_town.get(c, 0) for c, _ in columns))
            rows.append({"id": tag_id, "name": info["name"], "cells": cells, "total": total,
                         "delta": None if prev_total is None else total - prev_total})
        if rows:
            tag_order = catalogue.order()
            categories.append({"key": key, "name": category.name,
                               "tags": sorted(rows, key=lambda r: tag_order.get(r["id"], 0))})
    return {
        "snapshot": {"id": now.id, "as_of": now.as_of.isoformat(), "enterprises": now.manifest["enterprises"]},
        "previous": None if before is None else {"id": before.id, "as_of": before.as_of.isoformat()},
        "towns": [{"code": c, "name": n} for c, n in columns] + ([{"code": None, "name": "其他"}] if show_other else []),
        "categories": categories,
    }
