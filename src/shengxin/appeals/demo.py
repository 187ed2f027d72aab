"""Demo history: a year of appeals walked through the real state machine (demo mode only).

The texts, categories, towns, channels and submission times come from the classifier package's
``generate_demo_appeals`` (seeded). Each appeal is then handled by simulated staff through
:func:`shengxin.appeals.service.perform` — the same code, events, clocks, audit entries and
notices as real use — with seeded, realistic timings: most accepted within hours, signed within a
day, replied within 1-3 working days; a few paused, bounced and arbitrated, rejected, merged as
duplicates, or reopened after an unsatisfied return visit. Steps later than ``as_of`` are not
taken, so the most recent appeals are still open at every stage (some near or past their
deadlines), which gives the dashboard and the cockpit something real to show; a few recent ones stall at a unit and go
overdue.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.appeals import service as svc
from shengxin.appeals.models import Appeal
from shengxin.appeals.service import ActionInput, AppealCreate, Env
from shengxin.appeals.units import DISTRICT_UNIT, find_unit
from shengxin.audit.service import Actor
from shengxin.enterprises.uscc import make_code
from shengxin.errors import Forbidden
from shengxin.reference.district import District

DEMO_ACTOR_PREFIX = "demo:"
#: Demo appeals are submitted by ``demo-<channel>``: how a database is known to hold them already.
DEMO_SUBMITTER_PREFIX = "demo-"
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _principal(district: District, unit: str) -> Principal:
    """A simulated member of staff of a unit (named after the demo accounts where they exist)."""
    kind = find_unit(district, unit)
    if unit == DISTRICT_UNIT:
        return Principal(0, "admin", "区级管理员", Role.ADMIN)
    if kind is not None and kind.tier == "town":
        name = "town" if unit == district.towns[0].code else f"{DEMO_ACTOR_PREFIX}{unit}"
        return Principal(0, name, kind.name, Role.TOWN, town_code=unit)
    name = "dept" if unit == district.departments[0].code else f"{DEMO_ACTOR_PREFIX}{unit}"
    return Principal(0, name, kind.name if kind else unit, Role.DEPARTMENT, department_code=unit)


def _enterprises(district: District, analytic_dir, rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """Active enterprises per town from the data hub's current snapshot; synthetic ones without it."""
    by_town: dict[str, list[tuple[str, str]]] = {}
    try:
        from shengxin.enterprises.store import open_current

        con = open_current(analytic_dir)
        try:
            for uscc, name, town in con.execute(
                    "SELECT uscc, name, town_code FROM enterprises WHERE status = 'active' ORDER BY uscc").fetchall():
                by_town.setdefault(town, []).append((uscc, name))
        finally:
            con.close()
    except Exception:  # no snapshot yet: the demo still works with made-up enterprises
        by_town = {}
    for town in district.towns:
        if not by_town.get(town.code):
            made = []
            for i in range(40):
                org = "".join(rng.choice(_ORG_ALPHABET) for _ in range(8))
                made.append((make_code("9", "1", district.code, "M" + org), f"杭州{town.name[:2]}示范{i + 1}号科技有限公司"))
            by_town[town.code] = made
    return by_town


def load_demo_appeals(session: Session, env: Env, *, n: int = 4000, seed: int = 7, as_of: datetime | None = None,
                      progress: Callable[[int, int], None] | None = None) -> dict:
    """Create and walk the demo appeals of the year before ``as_of``; returns counts by status."""
    if not env.settings.demo:
        raise Forbidden("demo appeals are created only in demo mode (SHENGXIN_DEMO=true)")
    if session.scalar(select(Appeal.id).where(Appeal.submitted_by.like(f"{DEMO_SUBMITTER_PREFIX}%")).limit(1)) is not None:
        return {"created": 0, "note": "demo appeals exist already"}
    from shengxin.appeals.classify import generate_demo_appeals, suggest_many

    as_of = as_of or env.now
    year_start = as_of - timedelta(days=365)
    items = [x for y in sorted({year_start.year, as_of.year})
             for x in generate_demo_appeals(n=n, year=y, seed=seed)]
    items = [x for x in items if year_start <= x["submitted_at"] <= as_of]
    items.sort(key=lambda x: x["submitted_at"])
    if len(items) > n:
        items = random.Random(seed).sample(items, n)
        items.sort(key=lambda x: x["submitted_at"])
    rng = random.Random(f"demo-walk:{seed}")
    suggestions = suggest_many([x["text"] for x in items], data_dir=env.settings.data_dir)
    enterprises = _enterprises(env.district, env.settings.analytic_dir, rng)
    district = env.district
    desk = _principal(district, DISTRICT_UNIT)
    last_of_hotspot: dict[int, str] = {}
    counts: dict[str, int] = {}

    for index, (item, suggestion) in enumerate(zip(items, suggestions)):
        t = item["submitted_at"]
        uscc, name = rng.choice(enterprises[item["town_code"]])
        appeal = svc.submit_appeal(
            session, dataclasses.replace(env, now=t),
            AppealCreate(description=item["text"], enterprise_name=name, uscc=uscc, town_code=item["town_code"],
                         contact_name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(["经理", "主管", "女士", "先生"]),
                         contact_phone=f"0571-8{rng.randrange(1000000, 9999999)}"),
            Actor(f"{DEMO_SUBMITTER_PREFIX}{item['channel']}"), channel=item["channel"], suggestion=suggestion)

        def step(action: str, who: Principal, hours: float, **kw) -> bool:
            nonlocal t
            t = t + timedelta(hours=hours)
            if t > as_of:
                return False
            svc.perform(session, dataclasses.replace(env, now=t), appeal.id, action, who, ActionInput(**kw))
            return True

        # A few recent appeals stall at a unit, so the dashboard has warnings and overdue ones.
        stall = (as_of - item["submitted_at"]).days < 20 and rng.random() < 0.08
        _walk(step, rng, item, appeal, desk, district, last_of_hotspot, stall)
        if item.get("hotspot") is not None and appeal.outcome not in ("merged", "rejected"):
            last_of_hotspot[item["hotspot"]] = appeal.code
        counts[appeal.status] = counts.get(appeal.status, 0) + 1
        if index % 200 == 199:
            session.commit()
        if progress:
            progress(index + 1, len(items))
    session.commit()
    return {"created": len(items), "by_status": dict(sorted(counts.items()))}


def _walk(step, rng: random.Random, item: dict, appeal: Appeal, desk: Principal, district: District,
          last_of_hotspot: dict[int, str], stall: bool = False) -> None:
    """One appeal's simulated handling (each step stops the walk once it would pass ``as_of``)."""
    hotspot = item.get("hotspot")
    if hotspot is not None and hotspot in last_of_hotspot and rng.random() < 0.25:
        step("merge", desk, rng.uniform(0.5, 6), parent_code=last_of_hotspot[hotspot], reason="同类问题重复反映，合并办理")
        return
    if rng.random() < 0.015:
        step("reject", desk, rng.uniform(0.5, 8), reason="不属于企业诉求范围，已告知通过12345热线反映")
        return
    if not step("accept", desk, rng.uniform(0.3, 10), subcategory_code=item["subcategory_code"]):
        return
    layer = rng.choices(["simple", "complex", "hard"], [0.72, 0.24, 0.04])[0]
    unit = item["unit_code"]
    co = [rng.choice(district.departments).code] if layer != "simple" and rng.random() < 0.5 else []
    co = [c for c in co if c != unit]
    if not step("assign", desk, rng.uniform(0.1, 3), layer=layer, lead_unit=unit, co_units=co):
        return
    if stall and rng.random() < 0.5:
        return  # never signed
    if rng.random() < 0.03:
        other = rng.choice([d.code for d in district.departments if d.code != unit])
        if not step("bounce", _principal(district, unit), rng.uniform(1, 20), reason="该事项不属于本单位职责，建议由相关部门办理"):
            return
        if not step("arbitrate", desk, rng.uniform(1, 16), lead_unit=other, reason="经协调，改由该单位牵头办理"):
            return
        unit = other
    for round_ in range(2):
        handler = _principal(district, unit)
        if not step("sign", handler, rng.uniform(0.2, 18)):
            return
        if not step("start", handler, rng.uniform(0.1, 3)):
            return
        if stall:
            return  # never replied
        if rng.random() < 0.07:
            if not step("pause", handler, rng.uniform(2, 20), reason="等待企业补充材料"):
                return
            if not step("resume", handler, rng.uniform(20, 70)):
                return
        days = {"simple": rng.uniform(0.3, 2.6), "complex": rng.uniform(1.5, 6.5), "hard": rng.uniform(4, 14)}[layer]
        late = rng.random() < 0.015
        if not step("reply", handler, (days * 1.4 + (4 if late else 0)) * 24,
                    reply_text="经核实，已按政策办理并与企业当面沟通，具体事项已告知企业联系人。"):
            return
        r = rng.random()
        satisfaction = "satisfied" if r < 0.955 or round_ else ("basically_satisfied" if r < 0.995 else "unsatisfied")
        if not step("visit", desk, rng.uniform(2, 40), satisfaction=satisfaction,
                    solved=satisfaction != "unsatisfied", reason="电话回访"):
            return
        if satisfaction != "unsatisfied":
            step("close", desk, rng.uniform(0.1, 4), outcome=rng.choices(["solved", "explained", "not_in_remit"],
                                                                          [0.86, 0.12, 0.02])[0])
            return
        if not step("assign", desk, rng.uniform(0.5, 6), layer="complex", lead_unit=unit):
            return
