"""The planner: from checked definitions to a plan that computes every shared piece once.

Input: outputs (a key such as a tag id, a boolean condition, optionally a numeric value) and the
as-of date. The plan lists

* **atoms** — values read from data (registry and annual fields, series and event aggregates,
  ranks). Each distinct atom is computed once however many definitions use it, and aggregates of
  one table share one scan of that table (one ``GROUP BY uscc`` per table);
* **shared sub-expressions** — every boolean or text sub-expression that occurs more than once
  across all outputs (a tag referenced by other tags, a growth band used by several tags, the size
  class) becomes one column of an intermediate layer; a shared node that contains another shared
  node lands in a later layer;
* **outputs** — one boolean column per definition (and a value column when it has one).

Column names are deterministic (derived from the canonical text of the node), so two plans of the
same definitions are identical and the golden SQL files stay stable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from shengxin.engine import ir, render
from shengxin.engine import vocabulary as V

ATOM_TYPES = (ir.EntField, ir.AnnualField, ir.SeriesAgg, ir.EventAgg, ir.Rank)


@dataclass(frozen=True)
class Output:
    key: str
    condition: ir.Node
    value: ir.Node | None = None


@dataclass
class Plan:
    as_of: dt.date
    outputs: list[Output]
    #: atom -> evidence column name, in a stable order
    atoms: dict[ir.Node, str] = field(default_factory=dict)
    #: shared sub-expression -> column name, by layer (layer 0 first)
    layers: list[dict[ir.Node, str]] = field(default_factory=list)
    #: tables read, for lineage (canonical table names)
    tables: set[str] = field(default_factory=set)
    #: reference columns the expressions need from ``ref_class``
    ref_columns: set[str] = field(default_factory=set)

    @property
    def shared(self) -> dict[ir.Node, str]:
        out: dict[ir.Node, str] = {}
        for layer in self.layers:
            out.update(layer)
        return out

    def output_column(self, key: str) -> str:
        return "t_" + _ident(key)

    def value_column(self, key: str) -> str:
        return "v_" + _ident(key)

    def evidence(self) -> dict[str, str]:
        """Evidence column -> canonical text of the atom it holds."""
        return {col: render.dsl(node) for node, col in self.atoms.items()}


def _ident(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "__", text.lower())


def _digest(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def atom_column(node: ir.Node) -> str:
    """The deterministic column name of an atom."""
    if isinstance(node, ir.EntField):
        return f"e_{node.column}"
    if isinstance(node, ir.AnnualField):
        return f"y_{node.column}"
    text = render.dsl(node)
    if isinstance(node, ir.SeriesAgg):
        base = f"a_{node.func}_{node.series}_m{node.months}" + (f"_o{node.offset}" if node.offset else "")
        return base + (f"_{_digest(text, 6)}" if node.where is not None else "")
    if isinstance(node, ir.EventAgg):
        base = f"a_{node.func}_{node.table}" + (f"_{node.field_name}" if node.field_name else "")
        base += (f"_m{node.months}" if node.months else "") + ("_active" if node.active else "")
        return base + (f"_{_digest(text, 6)}" if node.where is not None else "")
    if isinstance(node, ir.Rank):
        return f"r_{_digest(text)}"
    raise TypeError(type(node).__name__)


def _is_shareable(node: ir.Node) -> bool:
    """Booleans and texts computed from several atoms are worth a column; numbers are not (a ratio
    in a column would be a float and lose the exact comparison)."""
    if isinstance(node, (ir.Const, ir.AsOf) + ATOM_TYPES):
        return False
    if isinstance(node, ir.TagRef):
        return False  # the body is shared instead
    return node.type.kind in ("bool", "string") and not isinstance(node, ir.IndustryLevel)


def _ref_columns(node: ir.Node) -> set[str]:
    from shengxin.engine.evaluate import under_levels

    if isinstance(node, ir.IndustryLevel):
        return {"grp" if node.level == "group" else node.level}
    if isinstance(node, ir.Under):
        return {("grp" if lvl == "group" else lvl) for lvl in under_levels(node.codes) if lvl != "class"}
    if isinstance(node, ir.SizeClass):
        return {"size_sector"} | {f"{m}_{t}" for m in ("emp", "rev", "ast") for t in ("large", "medium", "small")}
    if isinstance(node, (ir.ScopeName, ir.ScopeThreshold, ir.ScopeRule)):
        return {"scope_name", "scope_threshold_fen"}
    return set()


def make_plan(outputs: list[Output], as_of: dt.date) -> Plan:
    """Plan the computation of ``outputs`` at ``as_of``."""
    outputs = sorted(outputs, key=lambda o: o.key)
    if len({o.key for o in outputs}) != len(outputs):
        raise ValueError("output keys must be unique")
    plan = Plan(as_of, outputs)

    # Atoms and reference columns, in a stable order (by column name).
    atoms: dict[ir.Node, str] = {}
    occurrences: Counter[ir.Node] = Counter()

    def visit(node: ir.Node, counted: bool) -> None:
        if counted:
            occurrences[node] += 1
        plan.ref_columns |= _ref_columns(node)
        if isinstance(node, ATOM_TYPES):
            atoms.setdefault(node, atom_column(node))
            if isinstance(node, ir.Rank):
                for c in node.children():
                    visit(c, False)
            return
        for c in node.children():
            visit(c, counted)

    for o in outputs:
        visit(o.condition, True)
        if o.value is not None:
            visit(o.value, True)
    # The reference join reads the industry code, so it is an atom whenever a lookup is used.
    if plan.ref_columns:
        atoms.setdefault(ir.INDUSTRY, atom_column(ir.INDUSTRY))
    plan.atoms = dict(sorted(atoms.items(), key=lambda kv: kv[1]))
    # An output's own condition counts once; a second occurrence anywhere makes it shared.
    shared = {n for n, c in occurrences.items() if c > 1 and _is_shareable(n)}
    # A tag's condition that another tag references appears twice (itself and in the TagRef body).
    # Layer of a shared node: one more than the deepest shared node below it.
    depth: dict[ir.Node, int] = {}

    def level(node: ir.Node) -> int:
        if node in depth:
            return depth[node]
        below = [level(c) for c in node.children() if not isinstance(c, ATOM_TYPES)] if not isinstance(node, ATOM_TYPES) else []
        own = max(below, default=-1)
        d = own + 1 if node in shared else own
        depth[node] = d
        return d

    layers: dict[int, dict[ir.Node, str]] = {}
    for node in shared:
        layers.setdefault(level(node), {})[node] = f"s_{_digest(render.dsl(node), 10)}"
    plan.layers = [dict(sorted(layers[k].items(), key=lambda kv: kv[1])) for k in sorted(layers)]
    plan.tables = _tables(plan)
    return plan


def _tables(plan: Plan) -> set[str]:
    tables = {V.ENTERPRISE_TABLE}
    for node in plan.atoms:
        if isinstance(node, ir.AnnualField):
            tables.add(V.ANNUAL_TABLE)
        elif isinstance(node, (ir.SeriesAgg, ir.EventAgg)):
            tables.add(node.table)
    return tables


def tables_of(node: ir.Node) -> set[str]:
    """The canonical tables one definition reads (for lineage)."""
    from shengxin.engine.evaluate import atoms

    tables = {V.ENTERPRISE_TABLE}
    for a in atoms(node):
        if isinstance(a, ir.AnnualField):
            tables.add(V.ANNUAL_TABLE)
        elif isinstance(a, (ir.SeriesAgg, ir.EventAgg)):
            tables.add(a.table)
    for n in ir.walk(node):
        if isinstance(n, (ir.SizeClass, ir.ScopeName)):
            tables.add(V.ANNUAL_TABLE)
    return tables
