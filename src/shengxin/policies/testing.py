"""A policy's own test cases: an enterprise's facts → the expected status and amount.

Each case runs twice — through the single-enterprise evaluator and through the SQL of bulk
matching on an in-memory DuckDB holding the case's enterprise — and passes only when both give
the expected answer (so a case is also a check that the two implementations agree)::

    tests:
      - name: 首次纳统的工业企业
        as_of: 2026-10-31                # or tests_as_of: on the policy
        enterprise: {industry: '3311', survey_list: [{scope: industry, included_month: 2026-01}]}
        inputs: {hires: 3}               # declared application inputs
        paid: {total: 0元, this_year: 0元} # earlier payments (caps)
        expect:
          status: eligible               # eligible | near_miss | missing_data | not_eligible
          amount: 20万元                  # required for eligible cases of a policy with an amount
          failed: [c2]                   # optional: the top-level conditions that fail
          unknown: [c3]                  # optional: those that are unknown

Rule: a policy cannot be published unless it has at least one eligible and one not-eligible case
and every case passes (:func:`publishable`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from shengxin.engine import types as T
from shengxin.engine.evaluate import FactsEnv
from shengxin.policies import sql as Q
from shengxin.policies.compile import CompiledPolicy
from shengxin.policies.errors import Collector, PolicyInvalid
from shengxin.policies.evaluate import CachedEnv, STATUSES, answer
from shengxin.policies.facts import facts_from_case, register_facts
from shengxin.policies.text import money
from shengxin.policies.values import const_for

CASE_KEYS = {"name", "as_of", "enterprise", "inputs", "paid", "expect"}
EXPECT_KEYS = {"status", "amount", "failed", "unknown"}


@dataclass
class CaseResult:
    name: str
    passed: bool
    expected_status: str
    status: str  # from the evaluator
    sql_status: str
    amount_fen: int | None
    sql_amount_fen: int | None
    expected_amount_fen: int | None
    messages: list[str] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "expected": {"status": self.expected_status,
                "amount_fen": self.expected_amount_fen}, "evaluator": {"status": self.status,
                "amount_fen": self.amount_fen}, "sql": {"status": self.sql_status, "amount_fen": self.sql_amount_fen},
                "messages": self.messages, "reason": self.reason}


@dataclass
class TestReport:
    policy_id: str
    cases: list[CaseResult]

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def failures(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

    def problems(self) -> list[str]:
        """Why the policy may not be published (empty: it may)."""
        out = []
        if not self.cases:
            out.append("没有测试用例")
        statuses = {c.expected_status for c in self.cases}
        if self.cases and "eligible" not in statuses:
            out.append("缺少预期“符合”的测试用例")
        if self.cases and not statuses - {"eligible"}:
            out.append("缺少预期“不符合”（或接近符合、待补充信息）的测试用例")
        out += [f"用例“{c.name}”未通过：{'；'.join(c.messages)}" for c in self.failures]
        return out

    def to_dict(self) -> dict:
        return {"policy_id": self.policy_id, "passed": self.passed and not self.problems(),
                "cases": [c.to_dict() for c in self.cases], "problems": self.problems()}


@dataclass
class _Case:
    name: str
    as_of: dt.date
    facts: object
    paid_total: int
    paid_year: int
    status: str
    amount: int | None
    failed: list[str] | None
    unknown: list[str] | None


def parse_cases(policy: CompiledPolicy, start: int = 0) -> list[_Case]:
    """The test cases of a policy, checked (raises ``PolicyInvalid`` listing every problem);
    their enterprises get codes numbered from ``start + 1``."""
    d = policy.definition
    c = Collector(d.id)
    out = []
    keys = {a.key for a in policy.atomics()} | {getattr(i, "key", "") for i in policy.items}
    for i, case in enumerate(d.tests):
        where = f"tests[{i}]"
        name = str(case.get("name") or f"用例{i + 1}")
        where = f"{where}（{name}）"
        for k in sorted(set(case) - CASE_KEYS):
            c.add(where, f"测试用例中未知的键 {k!r}", f"可用：{', '.join(sorted(CASE_KEYS))}")
        as_of = case.get("as_of") or d.tests_as_of
        if isinstance(as_of, str):
            try:
                as_of = dt.date.fromisoformat(as_of)
            except ValueError:
                c.add(where, f"as_of {as_of!r} 不是日期", "写成 YYYY-MM-DD")
                as_of = None
        if not isinstance(as_of, dt.date):
            c.add(where, "测试用例缺少统计日期 as_of", "在用例中写 as_of: 2026-10-31，或在政策中写 tests_as_of")
            continue
        expect = case.get("expect")
        if not isinstance(expect, dict) or expect.get("status") not in STATUSES:
            c.add(where, "测试用例缺少 expect.status", f"可选：{', '.join(STATUSES)}")
            continue
        for k in sorted(set(expect) - EXPECT_KEYS):
            c.add(where, f"expect 中未知的键 {k!r}", f"可用：{', '.join(sorted(EXPECT_KEYS))}")
        amount = None
        if "amount" in expect:
            const = const_for(expect["amount"], T.number(T.MONEY), f"{where}.expect.amount", c, "预期金额")
            amount = None if const is None else int(const.value)
        elif expect["status"] == "eligible" and policy.amount is not None:
            c.add(where, "预期符合的用例要写预期金额 expect.amount", "例如 amount: 20万元")
        lists = {}
        for k in ("failed", "unknown"):
            v = expect.get(k)
            if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) and x in keys for x in v)):
                c.add(f"{where}.expect.{k}", f"{k} 应是条件编号的列表", f"可用的编号：{', '.join(sorted(keys))}")
                v = None
            lists[k] = v
        facts, paid_total, paid_year = facts_from_case(case, policy.context, as_of, start + i + 1, where, c)
        out.append(_Case(name, as_of, facts, paid_total, paid_year, expect["status"], amount,
                         lists["failed"], lists["unknown"]))
    c.raise_if_any()
    return out


def run_tests(policy: CompiledPolicy, version: int = 0) -> TestReport:
    """Run every case through the evaluator and the policy's own SQL; raises ``PolicyInvalid`` if a
    case is malformed."""
    cases = parse_cases(policy)
    return _report(policy, cases, _sql_results(policy, version, cases))


def run_tests_many(policies: list[CompiledPolicy], progress=None) -> dict[str, TestReport | PolicyInvalid]:
    """The tests of many policies at once: the SQL side runs as one bulk match (the condition
    matrix and the vectorised combiner) over every case's enterprise, grouped by as-of date."""
    from shengxin.policies import bulk

    parsed: dict[str, list[_Case]] = {}
    out: dict[str, TestReport | PolicyInvalid] = {}
    start = 0
    for policy in policies:
        try:
            parsed[policy.id] = parse_cases(policy, start)
            start += len(parsed[policy.id])
        except PolicyInvalid as exc:
            out[policy.id] = exc
    by_id = {p.id: p for p in policies}
    rows: dict = {}
    for as_of in sorted({c.as_of for cases in parsed.values() for c in cases}):
        members = [(by_id[pid], [c for c in cases if c.as_of == as_of]) for pid, cases in parsed.items()]
        members = [(p, cs) for p, cs in members if cs]
        facts = [c.facts for _, cs in members for c in cs]
        inputs = {spec.column: spec.type for p, _ in members for spec in p.context.vocabulary.inputs}
        paid = {(p.id, c.facts.uscc): (c.paid_total, c.paid_year) for p, cs in members for c in cs}
        con = duckdb.connect(":memory:")
        try:
            register_facts(con, facts, inputs)
            table = bulk.run(con, Q.build([(p, 0) for p, _ in members], as_of), paid=paid)
        finally:
            con.close()
        for row in table.to_pylist():
            rows[(row["policy_id"], as_of, row["uscc"])] = row
        if progress is not None:
            progress(len(members))
    for pid, cases in parsed.items():
        out[pid] = _report(by_id[pid], cases, {(c.as_of, c.facts.uscc): rows.get((pid, c.as_of, c.facts.uscc))
                                                for c in cases})
    return out


def _report(policy: CompiledPolicy, cases: list[_Case], sql_rows: dict) -> TestReport:
    results = []
    for case in cases:
        env = CachedEnv(FactsEnv(case.facts, case.as_of))
        ans = answer(policy, env, case.paid_total, case.paid_year)
        row = sql_rows.get((case.as_of, case.facts.uscc))
        sql_status = row["status"] if row else "not_eligible"
        sql_amount = row["amount_fen"] if row else None
        messages = []
        if ans.status != case.status:
            messages.append(f"预期{STATUSES[case.status]}，计算结果为{STATUSES[ans.status]}（{ans.reason}）")
        if case.status == "eligible" and policy.amount is not None and ans.amount_fen != case.amount:
            got = money(ans.amount_fen) if ans.amount_fen is not None else "无法计算"
            messages.append(f"预期金额 {money(case.amount) if case.amount is not None else '无'}，计算结果为 {got}")
        if case.failed is not None and sorted(case.failed) != sorted(ans.failed):
            messages.append(f"预期不满足的条件 {case.failed}，实际为 {ans.failed}")
        if case.unknown is not None and sorted(case.unknown) != sorted(ans.unknown):
            messages.append(f"预期无法判断的条件 {case.unknown}，实际为 {ans.unknown}")
        if sql_status != ans.status or (ans.status == "eligible" and sql_amount != ans.amount_fen):
            messages.append(f"SQL 批量计算（{STATUSES[sql_status]}，{sql_amount}）与逐企业计算（{STATUSES[ans.status]}，"
                            f"{ans.amount_fen}）不一致——这是平台缺陷，请报告")
        results.append(CaseResult(case.name, not messages, case.status, ans.status, sql_status, ans.amount_fen,
                                  sql_amount, case.amount, messages, ans.reason))
    return TestReport(policy.id, results)


def _sql_results(policy: CompiledPolicy, version: int, cases: list[_Case]) -> dict:
    import pyarrow as pa

    out = {}
    inputs = {spec.column: spec.type for spec in policy.context.vocabulary.inputs}
    for as_of in sorted({c.as_of for c in cases}):
        group = [c for c in cases if c.as_of == as_of]
        con = duckdb.connect(":memory:")
        try:
            register_facts(con, [c.facts for c in group], inputs)
            paid = pa.table({"uscc": [c.facts.uscc for c in group], "policy_id": [policy.id] * len(group),
                             "paid_total_fen": [c.paid_total for c in group], "paid_year_fen": [c.paid_year for c in group]},
                            schema=Q.PAID_SCHEMA)
            table = Q.execute(con, Q.build([(policy, version)], as_of), paid=paid)
        finally:
            con.close()
        for row in table.to_pylist():
            out[(as_of, row["uscc"])] = row
    return out


def publishable(policy: CompiledPolicy) -> list[str]:
    """Why the policy cannot be published (empty list: it can)."""
    try:
        report = run_tests(policy)
    except PolicyInvalid as exc:
        return [str(p) for p in exc.problems]
    return report.problems()
