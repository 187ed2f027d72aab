"""Preview of a catalogue change: who gains and who loses each changed tag, by town.

The changed tags — and every tag that depends on one of them through ``tag()`` — are computed
with the changed catalogue at the current tag snapshot's as-of date, over the same data-hub
snapshot the current tag snapshot was computed from (or the hub's current snapshot if that one was
pruned), and compared with the current tag snapshot.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shengxin.engine import backend
from shengxin.enterprises import store
from shengxin.errors import NotFound
from shengxin.reference.district import District
from shengxin.tags import snapshots
from shengxin.tags.catalogue import Catalogue, compile_at
from shengxin.tags.compute import connect, plan_for


def _dependents(compiled, changed: set[str]) -> set[str]:
    affected = set(changed)
    grew = True
    while grew:
        grew = False
        for tag_id, t in compiled.items():
            if tag_id not in affected and affected & set(t.depends_on):
                affected.add(tag_id)
                grew = True
    return affected


def _by_town(table: pa.Table) -> dict[str | None, int]:
    if table.num_rows == 0:
        return {}
    grouped = table.group_by("town").aggregate([("uscc", "count")])
    return dict(zip(grouped.column("town").to_pylist(), grouped.column("uscc_count").to_pylist()))


def preview(base: Catalogue, change: Catalogue, district: District, analytic_dir: Path) -> dict:
    """Counts before/after and gains/losses per changed tag and town (see module doc)."""
    snap = snapshots.current(analytic_dir)
    if snap is None:
        raise NotFound("还没有标签快照，无法预览：请先运行 shengxin tags compute")
    as_of = snap.as_of
    input_id = snap.manifest["input"]["snapshot_id"]
    note = None
    try:
        source = store.get_snapshot(input_id, analytic_dir)
    except NotFound:
        source = store.current_snapshot(analytic_dir)
        note = f"当前标签快照所用的数据快照 {input_id} 已被清理，预览改用最新数据快照 {source.id if source else '（无）'}"
    merged = base.merged(change)
    compiled, skipped = compile_at(merged, as_of, district)
    changed = {v.id for v in change.versions}
    affected = _dependents(compiled, changed) | changed
    selected = {k: v for k, v in compiled.items() if k in affected}
    if selected:
        con = connect(source, analytic_dir)
        try:
            new, _ = backend.run(con, plan_for(selected, as_of))
        finally:
            con.close()
    else:
        new = backend.SPARSE_SCHEMA.empty_table()
    old = pq.read_table(snap.tags_file, columns=["uscc", "town", "tag_id"],
                        filters=[("tag_id", "in", sorted(affected))]) if affected else new.select(["uscc", "town", "tag_id"])
    latest_before = base.latest()
    town_names = {t.code: t.name for t in district.towns}
    tags = []
    for tag_id in sorted(affected, key=lambda t: (t not in changed, t)):  # the changed tags first
        o = old.filter(pc.equal(old.column("tag_id"), tag_id))
        n = new.filter(pc.equal(new.column("tag_id"), tag_id))
        gained = n.filter(pc.invert(pc.is_in(n.column("uscc"), value_set=o.column("uscc").combine_chunks())))
        lost = o.filter(pc.invert(pc.is_in(o.column("uscc"), value_set=n.column("uscc").combine_chunks())))
        before_t, after_t, gained_t, lost_t = _by_town(o), _by_town(n), _by_town(gained), _by_town(lost)
        towns = sorted(set(before_t) | set(after_t), key=lambda t: (t is None, t or ""))
        after_version = compiled[tag_id].version if tag_id in compiled else None
        before_version = latest_before.get(tag_id)
        if after_version is None:
            state = "retired" if any(v.id == tag_id and v.retired for v in change.versions) else "not_in_force"
        else:
            state = "new" if before_version is None else ("changed" if tag_id in changed else "dependent")
        tags.append({
            "id": tag_id,
            "name": (after_version or before_version).name if (after_version or before_version) else tag_id,
            "state": state,
            "version_before": before_version.version if before_version else None,
            "version_after": after_version.version if after_version else None,
            "before": o.num_rows, "after": n.num_rows, "gained": gained.num_rows, "lost": lost.num_rows,
            "by_town": [{"town": t, "town_name": town_names.get(t, "（不在本区）" if t else "（未登记）"),
                         "before": before_t.get(t, 0), "after": after_t.get(t, 0),
                         "gained": gained_t.get(t, 0), "lost": lost_t.get(t, 0)} for t in towns],
        })
    return {"snapshot_id": snap.id, "as_of": as_of.isoformat(), "input_snapshot": source.id if source else None,
            "note": note, "skipped": {k: v for k, v in skipped.items() if k in affected}, "tags": tags}
