"""Benchmark of policy matching: 744 policies × the district's 232,800 enterprises.

Run: ``python benchmarks/bench_policies.py [--enterprises 232800] [--policies 744] [--data-dir DIR]``

Measures, each stage in a forked child process so its peak memory is its own:

* **full match** — the SQL condition matrix (every distinct condition once) and the vectorised
  combiner writing sparse rows (eligible, near miss, missing data) with exact amounts and
  per-condition masks; median of ``--repeat`` runs;
* **single-enterprise re-match** — the evaluator on every live policy for one enterprise whose
  facts are in memory (median and 95th percentile over ``--rematch`` enterprises), and the time to
  load one enterprise's facts from the Parquet snapshot;
* **baseline: plain pandas** — the way a typical Python team writes it: raw tables read into
  pandas, aggregates with ``groupby``, each policy evaluated as boolean masks (missing data counts
  as "no") with float64 amounts; reported as a time ratio, plus how many eligible pairs and amounts
  differ from the exact result;
* **baseline: OpenFisca** — ``openfisca-core`` from PyPI in its own virtual environment (created on
  first use under ``--openfisca-venv``; skipped with a note when it cannot be installed): a sample of
  the policies written as OpenFisca variables over the same population (inputs precomputed),
  against our combiner on the same sample.

Data: ``--data-dir`` with an ingested district, or a synthetic district generated and ingested
into a temporary folder first (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

AS_OF = dt.date(2026, 10, 31)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(fn, *args):
    """Run ``fn(*args)`` in a forked child; returns its result with the child's peak RSS (MB)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)

    def target():
        try:
            result = fn(*args)
            child.send(("ok", result, rss_mb()))
        except BaseException as exc:  # report, don't hang the parent
            child.send(("error", repr(exc), 0.0))

    p = ctx.Process(target=target)
    p.start()
    status, result, peak = parent.recv()
    p.join()
    if status != "ok":
        raise RuntimeError(result)
    return result, peak


# ----------------------------------------------------------------------------- set-up


def prepare_data(args) -> Path:
    if args.data_dir:
        return Path(args.data_dir) / "analytic"
    from shengxin.enterprises.hub.run import ingest
    from shengxin.synth.generate import SynthConfig, generate

    root = Path(tempfile.mkdtemp(prefix="bench-policies-"))
    print(f"generating and ingesting {args.enterprises:,} enterprises into {root} (not timed)…", flush=True)
    generate(SynthConfig(enterprises=args.enterprises, months=36, seed=20241), root / "delivery")
    ingest([root / "delivery"], analytic_dir=root / "data" / "analytic")
    return root / "data" / "analytic"


def compiled_policies(count: int):
    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.policies.compile import compile_text
    from shengxin.policies.library.generate import dump, generate
    from shengxin.reference.district import load_district

    district = load_district(DEFAULT_DISTRICT_FILE)
    return [compile_text(dump(p), district) for p in generate(20241, count, min(429, count * 429 // 744))]


# ----------------------------------------------------------------------------- ours


def full_match(analytic: Path, count: int, save_eligible: str | None = None):
    from shengxin.enterprises.store import current_snapshot, open_snapshot
    from shengxin.policies import bulk
    from shengxin.policies import sql as Q
    from shengxin.policies.facts import add_input_columns

    policies = compiled_policies(count)
    data = current_snapshot(analytic)
    con = open_snapshot(data, analytic_dir=analytic)
    add_input_columns(con, data, {s.column: s.type for p in policies for s in p.context.vocabulary.inputs})
    start = time.perf_counter()
    mp_ = Q.build([(p, 1) for p in policies], AS_OF)
    table = bulk.run(con, mp_)
    seconds = time.perf_counter() - start
    peak = rss_mb()  # before the comparison data below is built
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    counts = {s: int(pc.sum(pc.equal(table.column("status"), s)).as_py() or 0)
              for s in ("eligible", "near_miss", "missing_data")}
    if save_eligible:
        eligible = table.filter(pc.equal(table.column("status"), "eligible")).select(["policy_id", "uscc", "amount_fen"])
        pq.write_table(eligible, save_eligible)
    enterprises = con.execute("SELECT count(*) FROM enterprises").fetchone()[0]
    return {"seconds": seconds, "peak_rss_mb": peak, "rows": table.num_rows, "counts": counts,
            "conditions": mp_.distinct_conditions, "atoms": len(mp_.plan.atoms), "enterprises": enterprises}


def sample_match(analytic: Path, count: int, sample: list[str]):
    """Our combiner on the OpenFisca sample: the matrix and combine times separately."""
    from shengxin.enterprises.store import current_snapshot, open_snapshot
    from shengxin.engine.backend import register_reference
    from shengxin.policies import bulk
    from shengxin.policies import sql as Q
    from shengxin.policies.facts import add_input_columns

    policies = [p for p in compiled_policies(count) if p.id in set(sample)]
    data = current_snapshot(analytic)
    con = open_snapshot(data, analytic_dir=analytic)
    add_input_columns(con, data, {s.column: s.type for p in policies for s in p.context.vocabulary.inputs})
    register_reference(con)
    mp_ = Q.build([(p, 1) for p in policies], AS_OF)
    t0 = time.perf_counter()
    con.sql(Q.matrix_sql(mp_)).create("policy_matrix")
    t1 = time.perf_counter()
    combiner = bulk.Combiner(mp_)
    batches = list(con.sql(combiner.fetch_query("policy_matrix").sql("duckdb")).to_arrow_reader(65_536))
    t2 = time.perf_counter()
    rows = sum(combiner.combine(b).num_rows for b in batches)
    t3 = time.perf_counter()
    return {"matrix": t1 - t0, "fetch": t2 - t1, "combine": t3 - t2, "rows": rows}


def rematch(analytic: Path, count: int, n: int):
    from shengxin.engine.evaluate import FactsEnv
    from shengxin.enterprises.store import open_current
    from shengxin.policies.evaluate import CachedEnv, outcome
    from shengxin.policies.facts import load_facts

    policies = compiled_policies(count)
    con = open_current(analytic)
    usccs = [r[0] for r in con.execute("SELECT uscc FROM enterprises WHERE status = 'active' "
                                       "ORDER BY hash(uscc) LIMIT ?", [n + 1]).fetchall()]
    load_times, eval_times = [], []
    facts = load_facts(con, usccs[0])
    [outcome(p, CachedEnv(FactsEnv(facts, AS_OF))) for p in policies]  # warm the reference caches
    for uscc in usccs[1:]:
        t = time.perf_counter()
        facts = load_facts(con, uscc)
        load_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        env = CachedEnv(FactsEnv(facts, AS_OF))
        for p in policies:
            outcome(p, env)
        eval_times.append(time.perf_counter() - t)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]  # noqa: E731
    return {"evaluate_median": statistics.median(eval_times), "evaluate_p95": q(eval_times, 0.95),
            "load_median": statistics.median(load_times), "load_p95": q(load_times, 0.95), "n": len(eval_times)}


# ----------------------------------------------------------------------------- pandas baseline


class Numpy:
    """A plain NumPy interpreter of the policies' expressions (the baselines' "formulas"): missing
    values are NaN, a comparison with NaN is False, amounts are float64 — what teams usually write."""

    def __init__(self, atoms: dict, n: int, as_of: dt.date, ref):
        self.atoms, self.n, self.as_of, self.ref = atoms, n, as_of, ref

    def value(self, node):
        from fractions import Fraction

        from shengxin.engine import ir

        if node in self.atoms:
            return self.atoms[node]
        if isinstance(node, ir.Const):
            v = node.value
            if isinstance(v, Fraction):
                return np.full(self.n, float(v))
            if isinstance(v, dt.date):
                return np.full(self.n, np.datetime64(v))
            return np.full(self.n, v, dtype=object)
        if isinstance(node, ir.AsOf):
            return np.full(self.n, np.datetime64(self.as_of))
        if isinstance(node, ir.Arith):
            a, b = self.value(node.left), self.value(node.right)
            with np.errstate(divide="ignore", invalid="ignore"):
                return {"+": a + b, "-": a - b, "*": a * b, "/": a / np.where(b == 0, np.nan, b)}[node.op]
        if isinstance(node, ir.Neg):
            return -self.value(node.operand)
        if isinstance(node, ir.Growth):
            now, before = self.value(node.now), self.value(node.before)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(before > 0, (now - before) / before, np.nan)
        if isinstance(node, ir.Avg):
            total, count = self.value(node.total), self.value(node.count)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(count > 0, total / count, np.nan)
        if isinstance(node, ir.Coalesce):
            out = self.value(node.items[0]).astype(float)
            for item in node.items[1:]:
                out = np.where(np.isnan(out), self.value(item), out)
            return out
        if isinstance(node, ir.YearsSince):
            d = self.value(node.operand)
            days = (np.datetime64(self.as_of) - d.astype("datetime64[D]")).astype("timedelta64[D]").astype(float)
            return np.floor(days / (365.2425 if node.unit_name == "year" else 30.436875))
        if isinstance(node, ir.IndustryLevel):
            return self.ref[{"section": "section", "division": "division", "group": "grp"}[node.level]]
        if isinstance(node, ir.SizeClass):
            return self.ref["size"]
        raise NotImplementedError(type(node).__name__)

    def cond(self, node) -> np.ndarray:
        from shengxin.engine import ir

        if isinstance(node, ir.Compare):
            a, b = self.value(node.left), self.value(node.right)
            ops = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
                   ">=": np.greater_equal}
            if a.dtype == object or b.dtype == object:
                return np.array([False if x is None or y is None else ops[node.op](x, y) for x, y in zip(a, b)])
            with np.errstate(invalid="ignore"):
                return ops[node.op](a, b)
        if isinstance(node, ir.InValues):
            a = self.value(node.operand)
            got = np.isin(a, [c.value if not hasattr(c.value, "numerator") else float(c.value) for c in node.values])
            return ~got if node.negated else got
        if isinstance(node, ir.IsNull):
            a = self.value(node.operand)
            missing = np.array([x is None for x in a]) if a.dtype == object else np.isnan(a.astype(float)) \
                if a.dtype.kind == "f" else np.isnat(a) if a.dtype.kind == "M" else np.zeros(self.n, bool)
            return ~missing if node.negated else missing
        if isinstance(node, ir.Under):
            hit = np.zeros(self.n, bool)
            for level, col in (("section", "section"), ("division", "division"), ("group", "grp"), ("class", "class")):
                codes = [c for c in node.codes if {"section": c.isalpha(), "division": len(c) == 2,
                                                  "group": len(c) == 3, "class": len(c) == 4}[level]]
                if codes:
                    hit |= np.isin(self.ref[col], codes)
            return ~hit if node.negated else hit
        if isinstance(node, ir.And):
            out = np.ones(self.n, bool)
            for i in node.items:
                out &= self.cond(i)
            return out
        if isinstance(node, ir.Or):
            out = np.zeros(self.n, bool)
            for i in node.items:
                out |= self.cond(i)
            return out
        if isinstance(node, ir.Not):
            return ~self.cond(node.operand)
        if isinstance(node, ir.TagRef):
            return self.cond(node.body)
        v = self.value(node)
        return v.astype(bool) if v.dtype != object else np.array([bool(x) for x in v])

    def amount(self, a) -> np.ndarray:
        from shengxin.policies import amounts as A

        if isinstance(a, A.Fixed):
            return np.full(self.n, float(a.fen))
        if isinstance(a, A.Rate):
            return self.value(a.base) * float(a.rate)
        if isinstance(a, A.PerUnit):
            u = self.value(a.units)
            if a.per is not None:
                u = np.floor(u / float(a.per))
            return u * float(a.unit_fen)
        if isinstance(a, A.BandTiers):
            out = np.zeros(self.n)
            for cond, part in reversed(list(zip(a.conditions, a.parts))):
                out = np.where(self.cond(cond), self.amount(part), out)
            return out
        if isinstance(a, A.ProgressiveTiers):
            by = self.value(a.by)
            total = np.zeros(self.n)
            for (lo, hi), rate in zip(a.bounds, a.rates):
                top = by if hi is None else np.minimum(by, float(hi))
                total += np.maximum(top - float(lo), 0) * float(rate)
            return total
        if isinstance(a, A.Sum):
            return sum(self.amount(p) for p in a.parts)
        if isinstance(a, A.Choose):
            out = self.amount(a.otherwise) if a.otherwise is not None else np.zeros(self.n)
            for cond, part in reversed(a.cases):
                out = np.where(self.cond(cond), self.amount(part), out)
            return out
        if isinstance(a, A.When):
            return np.where(self.cond(a.condition), self.amount(a.inner), 0.0)
        if isinstance(a, A.Clamp):
            v = self.amount(a.inner)
            if a.high is not None:
                v = np.minimum(v, float(a.high))
            if a.low is not None:
                v = np.maximum(v, float(a.low))
            return v
        if isinstance(a, A.Round):
            v, u = self.amount(a.inner), float(a.unit)
            return {"floor": np.floor(v / u), "ceil": np.ceil(v / u), "half_up": np.floor(v / u + 0.5)}[a.mode] * u
        if isinstance(a, A.Expr):
            return self.value(a.node)
        raise NotImplementedError(type(a).__name__)


def pandas_atoms(analytic: Path, policies, as_of: dt.date):
    """Every atom the policies read, computed with pandas from the raw Parquet tables."""
    import pandas as pd

    from shengxin.engine import asof as AS
    from shengxin.engine import ir
    from shengxin.engine import reference as R
    from shengxin.engine import vocabulary as V
    from shengxin.engine.evaluate import atoms as atoms_of
    from shengxin.enterprises.store import current_snapshot
    from shengxin.policies import amounts as A

    snap = current_snapshot(analytic)

    def table(name, columns):
        frames = [pd.read_parquet(f, columns=columns) for f in snap.table_files(name)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    ent = table("enterprises", ["uscc", "town_code", "industry_code", "status", "status_changed_on", "established_on",
                                "registered_capital_fen", "legal_form"])
    est = pd.to_datetime(ent["established_on"])
    ent = ent[est.isna() | (est <= pd.Timestamp(as_of))].reset_index(drop=True)
    idx = pd.Index(ent["uscc"])
    n = len(ent)
    nodes = []
    for p in policies:
        for a in p.atomics():
            nodes += atoms_of(a.node)
        for x in A.conditions_of(p.amount) + A.values_of(p.amount):
            nodes += atoms_of(x)
    nodes = list(dict.fromkeys(nodes + [ir.ANNUAL_EMPLOYEES, ir.ANNUAL_REVENUE, ir.ANNUAL_ASSETS]))
    out = {}
    annual = table(V.ANNUAL_TABLE, ["uscc", "year", "employees", "revenue_fen", "assets_fen", "rd_expense_fen"])
    annual = annual[annual["year"] <= AS.annual_year(as_of)].sort_values("year").drop_duplicates("uscc", keep="last")
    annual = annual.set_index("uscc").reindex(idx)
    cache: dict[str, object] = {}
    for node in nodes:
        if isinstance(node, ir.EntField):
            col = ent[node.column] if node.column in ent else pd.Series([None] * n)
            if node.column == "established_on":
                out[node] = pd.to_datetime(col).values.astype("datetime64[D]")
            elif node.type.kind == "number":
                out[node] = pd.to_numeric(col, errors="coerce").astype(float).values
            else:
                out[node] = col.astype(object).where(col.notna(), None).values
        elif isinstance(node, ir.AnnualField):
            out[node] = annual[node.column].astype(float).values
        elif isinstance(node, ir.SeriesAgg):
            if node.table not in cache:
                cache[node.table] = table(node.table, None)
            df = cache[node.table]
            first, last = AS.series_window(as_of, node.months, node.offset)
            months = pd.to_datetime(df["month"])
            w = df[(months >= pd.Timestamp(first)) & (months <= pd.Timestamp(last)) & df[node.column].notna()]
            g = w.groupby("uscc")[node.column]
            if node.func == "latest":
                s = w.sort_values("month").groupby("uscc")[node.column].last()
            else:
                s = getattr(g, node.func)()
            s = s.astype(float).reindex(idx)
            out[node] = s.fillna(0).values if node.func == "count" else s.values
        elif isinstance(node, ir.EventAgg):
            spec = V.COLLECTIONS[node.table]
            if node.table not in cache:
                cache[node.table] = table(node.table, None)
            df = cache[node.table]
            d = pd.to_datetime(df[spec.date])
            keep = d.notna() & (d <= pd.Timestamp(as_of))
            if node.months is not None:
                keep &= d > pd.Timestamp(AS.event_window_start(as_of, node.months))
            if node.active and spec.end:
                end = pd.to_datetime(df[spec.end])
                keep &= end.isna() | ((end >= pd.Timestamp(as_of)) if spec.end_inclusive else (end > pd.Timestamp(as_of)))
            if node.where is not None:
                rows = df[keep]
                row_atoms = {}
                from shengxin.engine.ir import walk

                for rn in walk(node.where):
                    if isinstance(rn, ir.RowField):
                        row_atoms[rn] = rows[rn.column].astype(object).values
                keep_rows = Numpy(row_atoms, len(rows), as_of, None).cond(node.where)
                w = rows[keep_rows]
            else:
                w = df[keep]
            if node.func == "count":
                s = w.groupby("uscc").size().astype(float).reindex(idx).fillna(0)
            else:
                s = getattr(w.groupby("uscc")[node.column], node.func)().astype(float).reindex(idx)
                if node.func == "sum":
                    s = s.fillna(0)
            out[node] = s.values
        else:
            raise NotImplementedError(type(node).__name__)
    refs = R.class_refs()
    codes = ent["industry_code"].values
    ref = {"class": codes.astype(object)}
    for col in ("section", "division", "grp"):
        ref[col] = np.array([getattr(refs[c], col) if c in refs else None for c in codes], dtype=object)
    emp, rev, ast = (out[ir.ANNUAL_EMPLOYEES], out[ir.ANNUAL_REVENUE], out[ir.ANNUAL_ASSETS])
    ref["size"] = np.array([R.size_of(refs.get(c), None if np.isnan(e) else e, None if np.isnan(r) else r,
                                      None if np.isnan(a) else a) for c, e, r, a in zip(codes, emp, rev, ast)],
                           dtype=object)
    active = (ent["status"].values == "active") | (
        pd.to_datetime(ent["status_changed_on"]).values > np.datetime64(as_of))
    return out, ref, ent["uscc"].values, active, n


def pandas_baseline(analytic: Path, count: int, exact_file: str):
    import pyarrow.parquet as pq

    policies = compiled_policies(count)
    start = time.perf_counter()
    atoms, ref, usccs, active, n = pandas_atoms(analytic, policies, AS_OF)
    interp = Numpy(atoms, n, AS_OF, ref)
    eligible = {}
    for p in policies:
        ok = active.copy()
        for item in p.items:
            from shengxin.policies.conditions import node_of

            ok &= interp.cond(node_of(item))
        if p.amount is not None:
            amounts = interp.amount(p.amount)
            for i in np.nonzero(ok)[0]:
                eligible[(p.id, usccs[i])] = amounts[i]
        else:
            for i in np.nonzero(ok)[0]:
                eligible[(p.id, usccs[i])] = None
    seconds = time.perf_counter() - start
    peak = rss_mb()
    exact = {(r["policy_id"], r["uscc"]): r["amount_fen"] for r in pq.read_table(exact_file).to_pylist()}
    pairs = set(exact) ^ set(eligible)
    amounts = sum(1 for k in set(exact) & set(eligible) if exact[k] is not None and eligible[k] is not None
                  and int(exact[k]) != eligible[k])
    return {"seconds": seconds, "peak_rss_mb": peak, "pairs_differing": len(pairs), "amounts_differing": amounts}


# ----------------------------------------------------------------------------- OpenFisca baseline

OPENFISCA_WORKER = r'''
import json, sys, time
import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.variables import Variable
from openfisca_core.periods import DateUnit

data = np.load(sys.argv[1], allow_pickle=False)
spec = json.loads(open(sys.argv[2], encoding="utf-8").read())
Enterprise = build_entity(key="enterprise", plural="enterprises", label="企业", is_person=True)
tbs = TaxBenefitSystem([Enterprise])
for name in data.files:
    tbs.add_variable(type(name, (Variable,), {"value_type": float, "entity": Enterprise,
                                              "definition_period": DateUnit.YEAR, "label": name}))
def make(pid, expr, kind):
    code = compile(expr, pid, "eval")
    def formula(enterprise, period):
        env = {name: enterprise(name, period) for name in spec["inputs"][pid]}
        env["np"] = np
        return eval(code, env)
    return type(f"{kind}_{pid}", (Variable,), {"value_type": bool if kind == "eligible" else float,
        "entity": Enterprise, "definition_period": DateUnit.YEAR, "label": pid, "formula": formula})
for pid, (cond, amount) in spec["formulas"].items():
    tbs.add_variable(make(pid, cond, "eligible"))
    tbs.add_variable(make(pid, amount, "amount"))
n = len(data[data.files[0]])
sim = SimulationBuilder().build_default_simulation(tbs, n)
for name in data.files:
    sim.set_input(name, "2026", data[name])
start = time.perf_counter()
eligible = 0
for pid in spec["formulas"]:
    ok = sim.calculate(f"eligible_{pid}", "2026")
    amount = sim.calculate(f"amount_{pid}", "2026")
    eligible += int(ok.sum())
print(json.dumps({"seconds": time.perf_counter() - start, "eligible": eligible, "n": n}))
'''


def openfisca_formulas(policies, atoms, n):
    """Each sampled policy as a NumPy expression over named input variables (OpenFisca formulas)."""
    from shengxin.engine import ir
    from shengxin.policies import amounts as A
    from shengxin.policies.conditions import node_of

    names = {node: f"v{i}" for i, node in enumerate(atoms)}

    def val(node):
        if node in names:
            return names[node]
        if isinstance(node, ir.Const):
            return repr(float(node.value))
        if isinstance(node, ir.Arith):
            return f"({val(node.left)} {node.op} {val(node.right)})"
        if isinstance(node, ir.Neg):
            return f"(-{val(node.operand)})"
        if isinstance(node, ir.Growth):
            return f"np.where({val(node.before)} > 0, ({val(node.now)} - {val(node.before)}) / np.where({val(node.before)} > 0, {val(node.before)}, 1), np.nan)"
        if isinstance(node, ir.Coalesce):
            out = val(node.items[0])
            for i in node.items[1:]:
                out = f"np.where(np.isnan({out}), {val(i)}, {out})"
            return out
        raise NotImplementedError(type(node).__name__)

    def cond(node):
        if isinstance(node, ir.Compare):
            return f"({val(node.left)} {'==' if node.op == '=' else node.op} {val(node.right)})"
        if isinstance(node, ir.And):
            return "(" + " & ".join(cond(i) for i in node.items) + ")"
        if isinstance(node, ir.Or):
            return "(" + " | ".join(cond(i) for i in node.items) + ")"
        if isinstance(node, ir.Not):
            return f"(~{cond(node.operand)})"
        raise NotImplementedError(type(node).__name__)

    def amount(a):
        if isinstance(a, A.Fixed):
            return repr(float(a.fen))
        if isinstance(a, A.Rate):
            return f"({val(a.base)} * {float(a.rate)!r})"
        if isinstance(a, A.PerUnit):
            return f"({val(a.units)} * {float(a.unit_fen)!r})"
        if isinstance(a, A.Clamp):
            v = amount(a.inner)
            if a.high is not None:
                v = f"np.minimum({v}, {float(a.high)!r})"
            if a.low is not None:
                v = f"np.maximum({v}, {float(a.low)!r})"
            return v
        if isinstance(a, A.Round):
            return f"(np.floor({amount(a.inner)} / {float(a.unit)!r}) * {float(a.unit)!r})"
        if isinstance(a, A.Choose):
            out = amount(a.otherwise) if a.otherwise else "0.0"
            for c, part in reversed(a.cases):
                out = f"np.where({cond(c)}, {amount(part)}, {out})"
            return out
        if isinstance(a, A.BandTiers):
            out = "0.0"
            for c, part in reversed(list(zip(a.conditions, a.parts))):
                out = f"np.where({cond(c)}, {amount(part)}, {out})"
            return out
        raise NotImplementedError(type(a).__name__)

    formulas, inputs = {}, {}
    for p in policies:
        try:
            c = " & ".join(cond(node_of(i)) for i in p.items)
            m = amount(p.amount) if p.amount is not None else "0.0"
        except NotImplementedError:
            continue
        formulas[p.id] = [c, m]
        inputs[p.id] = sorted({nm for nm in names.values() if nm in c or nm in m}, key=lambda s: int(s[1:]))
    return formulas, inputs, names


def openfisca_python(args) -> str | None:
    if args.openfisca_python == "skip":
        return None
    if args.openfisca_python != "auto":
        return args.openfisca_python
    venv = Path(args.openfisca_venv)
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing openfisca-core into {venv} …", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "openfisca-core"], check=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"OpenFisca baseline skipped: openfisca-core could not be installed ({exc})")
            return None
    return str(python)


def openfisca_baseline(args, analytic: Path, count: int, sample_size: int):
    python = openfisca_python(args)
    if python is None:
        return None
    from shengxin.engine import ir

    policies = compiled_policies(count)
    atoms, ref, usccs, active, n = pandas_atoms(analytic, policies, AS_OF)
    numeric = [k for k, v in atoms.items() if v.dtype.kind == "f" and not isinstance(k, ir.EntField)]
    rng = random.Random(7)
    candidates = [p for p in policies if all(x in numeric for a in p.atomics() for x in __import__(
        "shengxin.engine.evaluate", fromlist=["atoms"]).atoms(a.node))]
    sample = rng.sample(candidates, min(sample_size, len(candidates)))
    formulas, inputs, names = openfisca_formulas(sample, numeric, n)
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "inputs.npz", **{names[k]: atoms[k].astype(np.float32) for k in numeric})
        (Path(tmp) / "spec.json").write_text(json.dumps({"formulas": formulas, "inputs": inputs}), encoding="utf-8")
        (Path(tmp) / "worker.py").write_text(OPENFISCA_WORKER, encoding="utf-8")
        done = subprocess.run([python, str(Path(tmp) / "worker.py"), str(Path(tmp) / "inputs.npz"),
                               str(Path(tmp) / "spec.json")], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        print("OpenFisca baseline failed:", done.stderr[-2000:])
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["policies"] = sorted(formulas)
    return result


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=232_800)
    parser.add_argument("--policies", type=int, default=744)
    parser.add_argument("--data-dir", help="a data dir with an ingested district (default: generate one)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rematch", type=int, default=50)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--openfisca-python", default="auto", help="python with openfisca-core, 'auto' or 'skip'")
    parser.add_argument("--openfisca-venv", default=str(Path(tempfile.gettempdir()) / "shengxin-openfisca-venv"))
    parser.add_argument("--openfisca-sample", type=int, default=100)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("SHENGXIN_DEMO", "true")
    analytic = prepare_data(args)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"date {dt.date.today()}", flush=True)
    figures: dict = {"policies": args.policies}
    runs = []
    for i in range(args.repeat):
        result, _ = in_child(full_match, analytic, args.policies)
        peak = result["peak_rss_mb"]
        runs.append((result, peak))
        print(f"full match run {i + 1}: {result['seconds']:.2f} s, peak RSS {peak:,.0f} MB", flush=True)
    ours = sorted(runs, key=lambda r: r[0]["seconds"])[len(runs) // 2]
    r = ours[0]
    figures["full_match"] = {"seconds_median": r["seconds"], "peak_rss_mb": ours[1], "enterprises": r["enterprises"],
                             "rows": r["rows"], "counts": r["counts"], "distinct_conditions": r["conditions"],
                             "atoms": r["atoms"]}
    print(f"full match: {r['enterprises']:,} enterprises × {args.policies} policies = "
          f"{r['enterprises'] * args.policies:,} pairs → {r['rows']:,} sparse rows {r['counts']}; "
          f"{r['conditions']} distinct conditions, {r['atoms']} atoms; median {r['seconds']:.2f} s", flush=True)
    re_, peak = in_child(rematch, analytic, args.policies, args.rematch)
    figures["rematch"] = dict(re_, peak_rss_mb=peak)
    print(f"re-match one enterprise ({re_['n']} samples): evaluate {re_['evaluate_median'] * 1000:.1f} ms median, "
          f"{re_['evaluate_p95'] * 1000:.1f} ms p95; load facts from Parquet {re_['load_median'] * 1000:.1f} ms median",
          flush=True)
    if not args.no_baselines:
        exact_file = str(Path(tempfile.mkdtemp()) / "eligible.parquet")
        in_child(full_match, analytic, args.policies, exact_file)
        base, _ = in_child(pandas_baseline, analytic, args.policies, exact_file)
        peak, pairs, diff = base["peak_rss_mb"], base["pairs_differing"], base["amounts_differing"]
        figures["pandas"] = {"seconds": base["seconds"], "peak_rss_mb": peak,
                             "ratio": base["seconds"] / r["seconds"], "eligible_pairs_differing": pairs,
                             "amounts_differing": diff}
        print(f"baseline pandas: {base['seconds']:.2f} s, peak RSS {peak:,.0f} MB → ours is "
              f"{base['seconds'] / r['seconds']:.1f}× faster; {pairs:,} eligible pairs and {diff:,} amounts differ "
              f"from the exact result (missing data read as 'no', float64 money)", flush=True)
        of, _ = in_child(openfisca_baseline, args, analytic, args.policies, args.openfisca_sample)
        if of is None:
            figures["openfisca"] = {"skipped": True}
        else:
            ours_sample, _ = in_child(sample_match, analytic, args.policies, of["policies"])
            figures["openfisca"] = {"seconds": of["seconds"], "policies": len(of["policies"]),
                                    "ours_combine_seconds": ours_sample["combine"],
                                    "ours_matrix_seconds": ours_sample["matrix"],
                                    "ratio_vs_combine": of["seconds"] / max(ours_sample["combine"], 1e-9),
                                    "ratio_vs_matrix_plus_combine": of["seconds"] / (ours_sample["matrix"] + ours_sample["fetch"] + ours_sample["combine"])}
            print(f"baseline OpenFisca ({len(of['policies'])} policies, inputs precomputed, float32 storage): "
                  f"{of['seconds']:.2f} s; ours on the same sample: matrix {ours_sample['matrix']:.2f} s + fetch "
                  f"{ours_sample['fetch']:.2f} s + combine {ours_sample['combine']:.2f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
