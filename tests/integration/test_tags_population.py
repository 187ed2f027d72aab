"""A deterministic synthetic population for tag tests, built to sit on the tags' boundaries.

Every field is drawn from values chosen around the thresholds the catalogue uses (registered
capital bands ± 1 fen, size-standard bounds, the statistical scope thresholds and 80% of them,
growth of exactly 0%, 10%, 20%, 50%, certificates that expire on the as-of date, events dated on
the as-of date and the day after, months after the as-of month, …), so that every shipped tag has
enterprises on both sides. ``arrow_tables`` gives the canonical tables (hub schema, lineage
columns included) that the engine reads.
"""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa

from shengxin.engine import asof as A
from shengxin.engine.evaluate import Facts
from shengxin.enterprises.hub.tables import load_tables
from shengxin.enterprises.uscc import make_code

AS_OF = dt.date(2026, 10, 31)
TOWNS = ["330110005", "330110009", "330110010", "330110011", "330110012", "330110013", "330110014",
         "330110109", "330110110", "330110111", "330110112", "330110113"]
LEGAL_FORMS = ["有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "其他有限责任公司",
               "股份有限公司（非上市、自然人投资或控股）", "股份有限公司（上市、自然人投资或控股）",
               "有限责任公司（外国法人独资）", "有限责任公司（台港澳法人独资）", "有限合伙企业", "个人独资企业"]
#: one class per section, every key division, the chain lists, an unknown code and none
INDUSTRIES = ["0111", "0610", "1311", "4411", "4710", "5111", "5311", "6110", "6311", "6610", "7010", "7111",
              "7310", "7610", "8010", "8310", "8411", "8610", "9100", "9700",  # one class of each section
              "1711", "1811", "2611", "2710", "2911", "3011", "3311", "3411", "3511", "3611", "3811", "3911",
              "4011", "4811", "5011", "5211", "5411", "5910", "6210", "6410", "6511", "7211", "7410", "7511",
              "3491", "3562", "3612", "3841", "3825", "3973", "3983", "5193", "5292", "6431", "6432", "6520",
              "6572", "7020", "7224", "7251", "7340", "8710", "0000", None]
#: (industry class, annual threshold in 万元) for the near-the-threshold scenario
SCOPE_CLASSES = [("3911", 2000), ("5111", 2000), ("5211", 500), ("6110", 200), ("6210", 200), ("6511", 2000),
                 ("7211", 1000), ("8010", 500)]
GROWTH = [(0, 1), (2, 5), (1, 2), (7, 10), (4, 5), (9, 10), (19, 20), (1, 1), (11, 10), (6, 5), (3, 2), (2, 1)]
WAN = 1_000_000  # fen in one 万元


def _choice(rng: random.Random, items, weights=None):
    return rng.choices(items, weights=weights, k=1)[0]


def _month(i: int) -> dt.date:
    """The i-th month before the as-of month (0 = the as-of month, negative = later)."""
    return A.add_months(A.month_start(AS_OF), -i)


def _day(rng: random.Random, days_back: list[int]) -> dt.date:
    return AS_OF - dt.timedelta(days=_choice(rng, days_back))


def make_population(n: int = 900, seed: int = 4) -> list[Facts]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        uscc = make_code("9", "1", "330110", f"T{i:07d}X"[:9])
        facts = Facts({"uscc": uscc}, {})
        e = facts.enterprise
        e["name"] = f"测试企业{i}"
        e["established_on"] = _choice(rng, [
            None, AS_OF, AS_OF + dt.timedelta(days=1), AS_OF - dt.timedelta(days=100),
            A.add_months(AS_OF, -12), A.add_months(AS_OF, -12) + dt.timedelta(days=1),
            A.add_months(AS_OF, -36), A.add_months(AS_OF, -36) + dt.timedelta(days=1), A.add_months(AS_OF, -60),
            A.add_months(AS_OF, -61), A.add_months(AS_OF, -120), A.add_months(AS_OF, -119),
            A.add_months(AS_OF, -240), A.add_months(AS_OF, -300), dt.date(2024, 2, 29)])
        e["legal_form"] = _choice(rng, LEGAL_FORMS + [None])
        e["industry_code"] = _choice(rng, INDUSTRIES)
        near = rng.random() < 0.2
        if near:
            e["industry_code"], threshold = _choice(rng, SCOPE_CLASSES)
            facts.tables["_near"] = [{"threshold": threshold * WAN}]
        e["registered_capital_fen"] = _choice(rng, [None, 0, 100 * WAN - 1, 100 * WAN, 500 * WAN - 1, 500 * WAN,
                                                    1000 * WAN, 5000 * WAN - 1, 5000 * WAN, 10000 * WAN, 20000 * WAN, 30 * WAN])
        e["address"] = "测试地址"
        e["town_code"] = _choice(rng, TOWNS + [None, "330113001"], [1] * 12 + [0.3, 0.3])
        status = _choice(rng, ["active", "moved_out", "deregistered", None], [0.8, 0.08, 0.08, 0.04])
        e["status"] = status
        e["status_changed_on"] = None if status in ("active", None) else _choice(
            rng, [AS_OF, AS_OF + dt.timedelta(days=1), AS_OF - dt.timedelta(days=400)])
        e["legal_representative"] = "张三"
        e["phone"] = None
        _annual(rng, facts)
        _series(rng, facts)
        _events(rng, facts, i)
        out.append(facts)
    return out


def _annual(rng: random.Random, facts: Facts) -> None:
    if rng.random() < 0.1:
        return
    rows = []
    employees = _choice(rng, [None, 0, 5, 9, 10, 19, 20, 99, 100, 299, 300, 999, 1000, 2500])
    revenue = _choice(rng, [None, 0, 49 * WAN, 50 * WAN, 100 * WAN, 300 * WAN - 1, 300 * WAN, 500 * WAN, 1000 * WAN,
                            2000 * WAN - 1, 2000 * WAN, 5000 * WAN, 20000 * WAN, 40000 * WAN, 100000 * WAN])
    assets = _choice(rng, [None, 0, 300 * WAN, 5000 * WAN, 8000 * WAN, 120000 * WAN])
    ratio = _choice(rng, [None, 0, 0.005, 0.01, 0.03, 0.04, 0.05, 0.1, 0.2])
    rd = None if ratio is None or revenue is None else int(revenue * ratio)
    for year, factor in ((AS_OF.year - 2, 1), (AS_OF.year - 1, 1), (AS_OF.year, 50)):
        if year == AS_OF.year - 2 and rng.random() < 0.5:
            continue
        scale = factor if year == AS_OF.year else 1
        rows.append({"uscc": facts.uscc, "year": year,
                     "employees": None if employees is None else employees * scale,
                     "revenue_fen": None if revenue is None else revenue * scale,
                     "assets_fen": None if assets is None else assets * scale,
                     "rd_expense_fen": None if rd is None else rd * scale})
    facts.tables["annual_finance"] = rows


def _pattern(rng: random.Random) -> str:
    return _choice(rng, ["monthly", "quarterly", "gappy", "none", "recent"], [0.5, 0.2, 0.1, 0.1, 0.1])


def _months_of(pattern: str, rng: random.Random) -> list[int]:
    """Month indexes (0 = as-of month; -1, -2 = after it) a reporter has data for."""
    months = list(range(-2, 36))
    if pattern == "none":
        return []
    if pattern == "quarterly":
        return [m for m in months if _month(m).month in (3, 6, 9, 12)]
    if pattern == "gappy":
        return [m for m in months if rng.random() < 0.75]
    if pattern == "recent":
        return [m for m in months if m < 12]
    return months


def _spread(total: int, months: list[int]) -> dict[int, int]:
    """``total`` fen over ``months``, exactly (the last month takes the remainder)."""
    if not months:
        return {}
    each = total // len(months)
    out = {m: each for m in months}
    out[months[-1]] += total - each * len(months)
    return out


def _series(rng: random.Random, facts: Facts) -> None:
    tax_rows = []
    near = facts.tables.pop("_near", None)
    pattern = "monthly" if near else _pattern(rng)
    level = _choice(rng, [0, 10_000 * 100, 100_000 * 100, 35 * WAN, 140 * WAN, 170 * WAN, 180 * WAN, 40 * WAN,
                          45 * WAN, 1000 * WAN, 10000 * WAN])
    num, den = _choice(rng, GROWTH)
    cliff = _choice(rng, [(1, 1), (1, 1), (1, 1), (1, 2), (1, 5)])
    rate = _choice(rng, [(0, 1), (1, 200), (1, 100), (3, 100), (1, 20), (2, 25)])
    zero = rng.random() < 0.08
    months = _months_of(pattern, rng)
    values = {m: (level if m >= 12 else level * num // den) for m in months}
    if near:
        threshold = near[0]["threshold"]
        f_num, f_den = _choice(rng, [(79, 100), (4, 5), (9, 10), (99, 100), (1, 1)])
        now_total = threshold * f_num // f_den
        before_total = now_total * _choice(rng, [(10, 9), (1, 1), (10, 11)])[0] // 10 * 1
        values = {**{m: v for m, v in values.items() if m < 0 or m >= 24},
                  **_spread(now_total, [m for m in months if 0 <= m < 12]),
                  **_spread(before_total if rng.random() < 0.5 else now_total * 10 // 11, [m for m in months if 12 <= m < 24])}
    for m in months:
        value = values[m]
        if 0 <= m < 3:
            value = value * cliff[0] // cliff[1]
        if m < 0:
            value *= 100  # after the as-of month: must never count
        if zero and m < 12:
            value = 0
        if pattern == "quarterly":
            value *= 3
        tax_rows.append({"uscc": facts.uscc, "month": _month(m), "revenue_fen": value,
                         "tax_fen": None if rng.random() < 0.02 else value * rate[0] // rate[1]})
    facts.tables["monthly_tax"] = tax_rows

    si_rows = []
    pattern = _choice(rng, ["monthly", "gappy", "none", "recent"], [0.7, 0.1, 0.1, 0.1])
    level = _choice(rng, [0, 3, 12, 20, 25, 60, 150, 500, 1200])
    growth = _choice(rng, [0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 2])
    layoff = rng.random() < 0.15
    steady = rng.random() < 0.4
    for m in _months_of(pattern, rng):
        value = level if m >= 12 else int(level * growth)
        if not steady and m < 12:
            value += rng.randint(0, 3)
        if layoff and m == 0:
            value = int(value * 0.7)
        if m in (3, 4) and rng.random() < 0.3:
            value = max(0, value - 12)
        si_rows.append({"uscc": facts.uscc, "month": _month(m), "headcount": value})
    facts.tables["monthly_social_insurance"] = si_rows

    el_rows = []
    pattern = _choice(rng, ["monthly", "gappy", "none"], [0.7, 0.1, 0.2])
    level = _choice(rng, [0, 1000, 12_000, 90_000, 100_000])
    growth = _choice(rng, [0.3, 0.5, 0.8, 0.9, 1, 1.2, 1.5])
    cliff = _choice(rng, [1, 1, 0.4])
    from decimal import Decimal
    for m in _months_of(pattern, rng):
        value = Decimal(level if m >= 12 else level * growth) * (Decimal(str(cliff)) if m < 3 else 1)
        el_rows.append({"uscc": facts.uscc, "month": _month(m), "electricity_kwh": value.quantize(Decimal("0.01"))})
    facts.tables["monthly_electricity"] = el_rows


def _events(rng: random.Random, facts: Facts, i: int) -> None:
    u = facts.uscc
    recent = [0, 1, 30, 200, 364, 365, 366]
    older = [400, 700, 730, 731, 1500, 3000]
    future = [-1, -30]
    certs = []
    for k, kind in enumerate(["high_tech", "tech_sme", "innovative_sme", "specialised_sme", "little_giant"]):
        if rng.random() < (0.25 if kind != "little_giant" else 0.08):
            certified = _day(rng, recent + older + future)
            valid_until = _choice(rng, [None, AS_OF, AS_OF - dt.timedelta(days=1), AS_OF + dt.timedelta(days=100),
                                        A.add_months(AS_OF, 12), A.add_months(AS_OF, 24)])
            certs.append({"uscc": u, "kind": kind, "certificate_no": f"C{i}-{k}", "certified_on": certified,
                          "valid_until": valid_until})
    facts.tables["certifications"] = certs
    ip = []
    for kind in ("invention_patent", "utility_model", "design_patent", "software_copyright"):
        count = _choice(rng, [0, 0, 1, 4, 5, 6, 9, 10, 19, 20, 32])
        for j in range(count):
            ip.append({"uscc": u, "kind": kind, "registration_no": f"{kind}-{i}-{j}",
                       "granted_on": None if rng.random() < 0.02 else _day(rng, recent + older + future)})
    facts.tables["ip_rights"] = ip
    financing = []
    for j in range(_choice(rng, [0, 0, 0, 1, 2, 3, 4])):
        financing.append({"uscc": u, "financed_on": _day(rng, recent + older + future) + dt.timedelta(days=j),
                          "round": _choice(rng, ["angel", "a", "b", "c", "d_plus", "pre_ipo", "strategic"]),
                          "amount_fen": _choice(rng, [None, 100 * WAN, 999 * WAN, 1000 * WAN, 5000 * WAN, 10000 * WAN])})
    facts.tables["financing"] = financing
    facts.tables["dishonesty_list"] = [
        {"uscc": u, "name": None, "case_no": f"D{i}-{j}", "filed_on": AS_OF - dt.timedelta(days=900),
         "published_on": _day(rng, recent + older + future),
         "removed_on": _choice(rng, [None, None, AS_OF, AS_OF + dt.timedelta(days=1), AS_OF - dt.timedelta(days=10)])}
        for j in range(_choice(rng, [0, 0, 0, 0, 1, 2]))]
    facts.tables["abnormal_operations"] = [
        {"uscc": u, "listed_on": _day(rng, recent + older + future) + dt.timedelta(days=j), "reason": "通过登记的住所无法联系",
         "removed_on": _choice(rng, [None, AS_OF, AS_OF + dt.timedelta(days=1), AS_OF - dt.timedelta(days=10)])}
        for j in range(_choice(rng, [0, 0, 0, 0, 1, 2]))]
    facts.tables["penalties"] = [
        {"uscc": u, "decision_no": f"P{i}-{j}", "decided_on": _day(rng, recent + older + future),
         "fine_fen": _choice(rng, [None, 100_000, 10 * WAN // 100 * 100 - 1, 10 * WAN, 30 * WAN, 50 * WAN]), "authority": "区市场监督管理局"}
        for j in range(_choice(rng, [0, 0, 0, 1, 2, 3, 4]))]
    scopes = []
    for scope in ("industry", "wholesale", "retail", "accommodation", "catering", "construction", "real_estate", "services"):
        if rng.random() < 0.06:
            scopes.append({"uscc": u, "name": None, "scope": scope,
                           "included_month": A.month_start(_day(rng, recent + older + [-40]))})
    facts.tables["survey_list"] = scopes
    # the hub never holds two facts with one key: keep the first of any duplicate
    keys = {"financing": ("financed_on", "round"), "abnormal_operations": ("listed_on",)}
    for table, key in keys.items():
        seen: set = set()
        unique = []
        for r in facts.tables[table]:
            k = tuple(r[c] for c in key)
            if k not in seen:
                seen.add(k)
                unique.append(r)
        facts.tables[table] = unique


def arrow_tables(population: list[Facts]) -> dict[str, pa.Table]:
    """The canonical tables (hub schemas with lineage columns) of a population."""
    out = {}
    for name, table in load_tables().items():
        schema = table.arrow_schema()
        if name == "enterprises":
            rows = [dict(f.enterprise) for f in population]
        else:
            rows = [dict(r) for f in population for r in f.tables.get(name, [])]
        for n, r in enumerate(rows, start=1):
            r.update({"_source": "test", "_file": f"{name}.parquet", "_row": n, "_run": "run-test"})
        columns = {field.name: [r.get(field.name) for r in rows] for field in schema}
        out[name] = pa.table(columns, schema=schema)
    return out


def test_population_is_deterministic_and_covers_the_as_of_boundary():
    a, b = make_population(50, seed=1), make_population(50, seed=1)
    assert [f.enterprise for f in a] == [f.enterprise for f in b]
    tables = arrow_tables(a)
    assert tables["enterprises"].num_rows == 50
    months = tables["monthly_tax"].column("month").to_pylist()
    assert max(months) > A.month_start(AS_OF)  # data after the as-of month exists and must be ignored


def publish_hub_snapshot(analytic_dir, tables: dict[str, pa.Table], as_of_month: dt.date | None = None) -> str:
    """Publish ``tables`` as the data hub's current snapshot (through the hub's own builder)."""
    import pyarrow.parquet as pq

    from shengxin.enterprises.hub.snapshot import (
        SnapshotBuilder,
        empty_manifest,
        hub_dir,
        load_manifest,
        new_id,
        read_current_id,
    )

    root = hub_dir(analytic_dir)
    parent_id = read_current_id(root)
    parent = load_manifest(root, parent_id) if parent_id else empty_manifest()
    snapshot_id = new_id()
    builder = SnapshotBuilder(root, parent, snapshot_id)
    definitions = load_tables()
    for name, table in tables.items():
        staged = root / "tmp" / f"{snapshot_id}-{name}.parquet"
        pq.write_table(table, staged)
        builder.set_segments(name, [], list(definitions[name].key))
        builder.add_file(name, staged, list(definitions[name].key))
    manifest = {
        "as_of": (as_of_month or A.month_start(AS_OF)).isoformat(),
        "tables": {name: {"files": [rel for rel, _ in segs], "rows": tables[name].num_rows,
                          "key": list(definitions[name].key)} for name, segs in builder.tables.items() if segs},
        "inputs": [], "runs": [],
    }
    builder.publish(manifest)
    return snapshot_id
