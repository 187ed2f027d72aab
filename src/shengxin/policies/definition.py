"""The policy file format (YAML) parsed into plain dataclasses; docs/policies.md is its reference.

Rules:

* a file holds one policy (a mapping) — the web editor and ``shengxin policies`` use the same text;
* every problem is collected with its place and a fix (:class:`~shengxin.policies.errors.Collector`);
  structural problems here, typing problems in :mod:`shengxin.policies.compile`;
* each condition gets a key: its ``id`` if written, otherwise ``c1``, ``c2`` … in reading order
  (depth first), so results and test expectations can name it;
* unknown keys are refused (a misspelt ``vaule`` must not silently drop a threshold).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from shengxin.policies.errors import Collector, PolicyInvalid, Problem

POLICY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CONDITION_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

LEVELS = {"national": "国家级", "provincial": "省级", "city": "市级", "district": "区级"}
DELIVERY_MODES = {"no_application": "免申即享", "instant_application": "即申即享", "ordinary": "一般申报"}
INPUT_TYPES = ("number", "bool", "string", "date")

POLICY_KEYS = {"id", "title", "issuer", "level", "department", "legal_basis", "valid_from", "valid_until",
               "budget", "delivery", "targets", "description", "materials", "inputs", "near_miss_margin",
               "eligibility", "amount", "caps", "tests", "tests_as_of"}
REQUIRED_POLICY_KEYS = ("id", "title", "issuer", "level", "department", "legal_basis", "valid_from", "delivery",
                        "eligibility")
CONDITION_KEYS = {"id", "field", "op", "value", "value_by", "value_expr", "each_year", "ref", "label", "near_miss",
                  "all", "any", "not", "expr"}
GROUP_KINDS = ("all", "any", "not")
OPERATORS = {
    "=": "等于", "==": "等于", "!=": "不等于", "<": "小于", "<=": "不超过", ">": "大于", ">=": "不低于",
    "in": "属于", "not in": "不属于", "between": "介于", "not between": "不介于",
    "under": "行业属于", "not under": "行业不属于", "has_tag": "具有标签", "not has_tag": "不具有标签",
    "at_least_ago": "距今已满", "within_last": "距今不满", "is_true": "为是", "is_false": "为否",
}
COMPARISONS = ("=", "==", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class ConditionDef:
    """One node of the eligibility tree: a group (``all``/``any``/``not``) or a typed condition."""

    key: str
    path: str
    kind: str  # "all" | "any" | "not" | "cond"
    items: tuple["ConditionDef", ...] = ()
    field: str | None = None
    op: str | None = None
    value: Any = None
    value_by: dict | None = None
    value_expr: str | None = None
    expr: str | None = None
    each_year: int | None = None
    ref: str | None = None
    label: str | None = None
    near_miss: bool | None = None

    @property
    def where(self) -> str:
        return f"{self.path}（{self.key}）"

    def walk(self):
        yield self
        for item in self.items:
            yield from item.walk()


@dataclass(frozen=True)
class InputDef:
    """A fact the enterprise states when it applies (not in the data hub), e.g. eligible hires."""

    name: str
    type: str
    unit: str | None
    label: str


@dataclass(frozen=True)
class PolicyDef:
    id: str
    title: str
    issuer: str
    level: str
    department: str
    legal_basis: dict
    valid_from: dt.date
    valid_until: dt.date | None
    budget_fen: int | None
    delivery: str
    targets: str
    description: str
    materials: tuple[str, ...]
    inputs: dict[str, InputDef]
    near_miss_margin: str
    eligibility: ConditionDef
    amount: Any  # raw mapping, compiled by amounts.py
    caps: dict
    tests: tuple[dict, ...]
    tests_as_of: dt.date | None
    raw: dict = field(compare=False, repr=False, default_factory=dict)

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, self.level)

    @property
    def delivery_label(self) -> str:
        return DELIVERY_MODES.get(self.delivery, self.delivery)

    def conditions(self) -> list[ConditionDef]:
        """Every typed condition (leaves), in reading order."""
        return [c for c in self.eligibility.walk() if c.kind == "cond"]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # the C parser when libyaml is present
    """Safe loader that keeps ``2026-10`` and ``2026-10-31`` as the YAML spec says but refuses
    duplicate keys (a second ``value:`` would silently win otherwise)."""


def _mapping(loader: _Loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str, source: str = "policy") -> dict:
    """Parse a policy file's text into a mapping; syntax errors give the line and column."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source} 第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyInvalid([Problem(source, where, f"YAML 格式错误：{problem}",
                                     "检查缩进（用空格，不用制表符）、冒号后的空格和引号是否成对")]) from None
    if not isinstance(data, dict):
        raise PolicyInvalid([Problem(source, "文件", "政策文件应是一个映射（键: 值），而不是列表或单个值",
                                     "以 id:、title: 等键开头，参见 docs/policies.md 的示例")])
    return data


def _date(value, where: str, c: Collector, required: bool) -> dt.date | None:
    if value is None:
        if required:
            c.add(where, "缺少日期", "写成 YYYY-MM-DD，例如 2025-01-01")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        c.add(where, f"{value!r} 不是日期", "写成 YYYY-MM-DD，例如 2025-01-01")
        return None


def _text(data: dict, key: str, c: Collector, required: bool = False, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            c.add(key, f"缺少 {key}", f"补上 {key}: …")
        return default
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        c.add(key, f"{key} 应是一段文字", f"写成 {key}: 文字")
        return default
    return str(value).strip()


def parse_policy(data: dict, source: str | None = None) -> PolicyDef:
    """Parse a policy mapping; raises :class:`PolicyInvalid` listing every structural problem."""
    pid = data.get("id")
    c = Collector(str(pid) if pid is not None else (source or "（未命名）"))
    if pid is None or not isinstance(pid, str) or not POLICY_ID.match(pid):
        c.add("id", f"政策编号 {pid!r} 不合规", "用字母、数字、点、横线或下划线，64 个字符以内，例如 YH68-49-1")
    for key in sorted(set(data) - POLICY_KEYS):
        c.add(key, f"未知的键 {key!r}", f"可用的键：{', '.join(sorted(POLICY_KEYS))}")
    for key in REQUIRED_POLICY_KEYS:
        if key not in data and key != "id":
            c.add(key, f"缺少必填项 {key}", f"补上 {key}:，参见 docs/policies.md")
    level = _text(data, "level", c)
    if level and level not in LEVELS:
        c.add("level", f"未知的政策层级 {level!r}", f"可选：{', '.join(LEVELS)}（国家级、省级、市级、区级）")
    delivery = _text(data, "delivery", c)
    if delivery and delivery not in DELIVERY_MODES:
        c.add("delivery", f"未知的兑现方式 {delivery!r}",
              "可选：no_application（免申即享）、instant_application（即申即享）、ordinary（一般申报）")
    basis = data.get("legal_basis") or {}
    if "legal_basis" in data:
        if not isinstance(basis, dict) or not str(basis.get("document") or "").strip():
            c.add("legal_basis", "政策依据应写明文件（document），可加条款（article）和链接（url）",
                  "legal_basis: {document: 余政发〔2024〕1号, article: 第四十九条}")
            basis = {}
        else:
            extra = set(basis) - {"document", "article", "url"}
            if extra:
                c.add("legal_basis", f"未知的键 {sorted(extra)}", "可用：document、article、url")
            basis = {k: str(v) for k, v in basis.items() if k in ("document", "article", "url") and v is not None}
    valid_from = _date(data.get("valid_from"), "valid_from", c, "valid_from" in data)
    valid_until = _date(data.get("valid_until"), "valid_until", c, False)
    if valid_from and valid_until and valid_until < valid_from:
        c.add("valid_until", f"有效期截止 {valid_until} 早于起始 {valid_from}", "把 valid_until 改为不早于 valid_from 的日期")
    budget = None
    if data.get("budget") is not None:
        from shengxin.policies.values import money_fen

        budget = money_fen(data["budget"], "budget", c)
        if budget is not None and budget <= 0:
            c.add("budget", "预算应大于 0", "写成 budget: 5000万元；没有预算上限时删掉这一项")
    materials = data.get("materials") or []
    if not isinstance(materials, list) or not all(isinstance(m, str) and m.strip() for m in materials):
        c.add("materials", "申报材料应是文字列表", "materials:\n  - 营业执照复印件\n  - 申请表")
        materials = []
    inputs = _inputs(data.get("inputs"), c)
    margin = data.get("near_miss_margin", "20%")
    if not isinstance(margin, str) or not re.fullmatch(r"\d{1,2}(\.\d+)?%", margin.strip()):
        c.add("near_miss_margin", f"接近条件的幅度 {margin!r} 应是百分数", "例如 near_miss_margin: 20%（0% 表示不计算“接近符合”）")
        margin = "20%"
    counter = [0, 0]
    eligibility = None
    if "eligibility" in data:
        eligibility = parse_group(data["eligibility"], "eligibility", c, counter, set())
    caps = data.get("caps") or {}
    if not isinstance(caps, dict) or set(caps) - {"per_enterprise", "per_year"}:
        c.add("caps", "封顶应写成 per_enterprise（每家企业累计）和/或 per_year（每家企业每年）",
              "caps: {per_enterprise: 300万元, per_year: 100万元}")
        caps = {}
    tests = data.get("tests") or []
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        c.add("tests", "测试用例应是列表，每项是一个映射", "tests:\n  - name: …\n    enterprise: {…}\n    expect: {status: eligible}")
        tests = []
    tests_as_of = _date(data.get("tests_as_of"), "tests_as_of", c, False)
    title, issuer = _text(data, "title", c, "title" in data), _text(data, "issuer", c, "issuer" in data)
    department = _text(data, "department", c, "department" in data)
    targets, description = _text(data, "targets", c), _text(data, "description", c)
    c.raise_if_any()
    return PolicyDef(
        id=pid, title=title, issuer=issuer, level=level,
        department=department, legal_basis=basis, valid_from=valid_from,
        valid_until=valid_until, budget_fen=budget, delivery=delivery, targets=targets,
        description=description, materials=tuple(m.strip() for m in materials), inputs=inputs,
        near_miss_margin=margin.strip(), eligibility=eligibility, amount=data.get("amount"), caps=dict(caps),
        tests=tuple(tests), tests_as_of=tests_as_of, raw=data,
    )


def _inputs(value, c: Collector) -> dict[str, InputDef]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        c.add("inputs", "申报信息应是映射：名称 → {type, unit, label}",
              "inputs:\n  hires: {type: number, unit: 人, label: 新招用人数}")
        return {}
    out = {}
    for name, spec in value.items():
        where = f"inputs.{name}"
        if not isinstance(name, str) or not INPUT_NAME.match(name):
            c.add(where, f"申报信息名称 {name!r} 不合规", "用小写字母、数字和下划线，例如 hires")
            continue
        if not isinstance(spec, dict) or spec.get("type") not in INPUT_TYPES or not spec.get("label"):
            c.add(where, "申报信息需要 type（number、bool、string 或 date）和 label（中文名称）",
                  f"{name}: {{type: number, unit: 人, label: 新招用人数}}")
            continue
        extra = set(spec) - {"type", "unit", "label"}
        if extra:
            c.add(where, f"未知的键 {sorted(extra)}", "可用：type、unit、label")
        unit = spec.get("unit")
        if unit is not None and spec["type"] != "number":
            c.add(where, "只有 number 类型的申报信息可以有单位", "删掉 unit，或把 type 改为 number")
        elif unit is not None and str(unit) not in _unit_spellings():
            c.add(where, f"未知的单位 {unit!r}", f"可用：{', '.join(_unit_spellings())}")
        out[name] = InputDef(name, spec["type"], None if unit is None else str(unit), str(spec["label"]))
    return out


def _unit_spellings() -> tuple[str, ...]:
    from shengxin.engine.types import LITERAL_UNITS

    return tuple(LITERAL_UNITS)


def parse_group(value, path: str, c: Collector, counter: list[int], keys: set[str]) -> ConditionDef:
    """A group: a mapping with one of all/any/not, or a list (meaning all)."""
    if isinstance(value, list):
        value = {"all": value}
    if not isinstance(value, dict):
        c.add(path, "条件组应是 all / any / not 之一", "eligibility:\n  all:\n    - {field: …, op: …, value: …}")
        return ConditionDef("g", path, "all")
    kinds = [k for k in GROUP_KINDS if k in value]
    if len(kinds) != 1 or (set(value) - {"all", "any", "not", "id"}):
        if not kinds and ("field" in value or "op" in value or "expr" in value):
            return parse_condition(value, path, c, counter, keys)
        c.add(path, "条件组只能有 all、any 或 not 中的一个（外加可选的 id）",
              "all: 同时满足；any: 满足其一；not: 不满足")
        return ConditionDef("g", path, "all")
    kind = kinds[0]
    key = _key(value.get("id"), path, c, counter, keys, group=True)
    body = value[kind]
    if kind == "not":
        inner = parse_item(body, f"{path}.not", c, counter, keys)
        return ConditionDef(key, path, "not", (inner,))
    if not isinstance(body, list) or not body:
        c.add(f"{path}.{kind}", f"{kind} 后应是非空的条件列表", f"{kind}:\n  - {{field: …, op: …, value: …}}")
        return ConditionDef(key, path, kind)
    items = tuple(parse_item(item, f"{path}.{kind}[{i}]", c, counter, keys) for i, item in enumerate(body))
    return ConditionDef(key, path, kind, items)


def parse_item(value, path: str, c: Collector, counter: list[int], keys: set[str]) -> ConditionDef:
    if isinstance(value, dict) and any(k in value for k in GROUP_KINDS):
        return parse_group(value, path, c, counter, keys)
    if isinstance(value, list):
        return parse_group({"all": value}, path, c, counter, keys)
    return parse_condition(value, path, c, counter, keys)


def _key(given, path: str, c: Collector, counter: list[int], keys: set[str], group: bool = False) -> str:
    if given is not None:
        if not isinstance(given, str) or not CONDITION_ID.match(given):
            c.add(path, f"条件编号 {given!r} 不合规", "用小写字母开头，字母、数字、下划线，例如 rd_ratio")
            given = None
        elif given in keys:
            c.add(path, f"条件编号 {given!r} 重复", "每个条件的 id 在本政策内唯一")
            given = None
    if given is None:
        prefix, slot = ("g", 1) if group else ("c", 0)
        while True:
            counter[slot] += 1
            given = f"{prefix}{counter[slot]}"
            if given not in keys:
                break
    keys.add(given)
    return given


def parse_condition(value, path: str, c: Collector, counter: list[int], keys: set[str]) -> ConditionDef:
    if not isinstance(value, dict):
        c.add(path, "条件应是一个映射", "{field: annual.revenue, op: '>=', value: 2000万元, ref: 第三条}")
        return ConditionDef(_key(None, path, c, counter, keys), path, "cond")
    key = _key(value.get("id"), path, c, counter, keys)
    where = f"{path}（{key}）"
    for k in sorted(set(value) - CONDITION_KEYS):
        c.add(where, f"未知的键 {k!r}", f"条件可用的键：{', '.join(sorted(CONDITION_KEYS - set(GROUP_KINDS)))}")
    op = value.get("op")
    if op is not None:
        op = str(op).strip()
        if op == "==":
            op = "="
    expr = value.get("expr")
    fld = value.get("field")
    if expr is not None:
        if fld is not None or op is not None:
            c.add(where, "expr（完整条件表达式）不能与 field/op 同时使用", "二选一：expr: \"…\" 或 field/op/value")
        if not isinstance(expr, str) or not expr.strip():
            c.add(where, "expr 应是一个条件表达式", "expr: \"annual.employees >= 20 or has(certifications, kind='high_tech')\"")
    elif op is None:
        c.add(where, "缺少运算符 op", f"可用：{', '.join(o for o in OPERATORS if o != '==')}")
    elif op not in OPERATORS:
        c.add(where, f"未知的运算符 {op!r}", f"可用：{', '.join(o for o in OPERATORS if o != '==')}")
    if expr is None and op not in ("has_tag", "not has_tag") and fld is None:
        c.add(where, "缺少 field（字段或表达式）", "例如 field: annual.revenue 或 field: growth(revenue, months=12)")
    if fld is not None and not isinstance(fld, str):
        c.add(where, "field 应是文字", "例如 field: annual.revenue")
        fld = None
    sources = [k for k in ("value", "value_by", "value_expr") if k in value]
    if len(sources) > 1:
        c.add(where, f"{' 和 '.join(sources)} 只能写一个", "固定门槛用 value；分档门槛用 value_by；按另一字段计算用 value_expr")
    each = value.get("each_year")
    if each is not None and (not isinstance(each, int) or isinstance(each, bool) or not 1 <= each <= 5):
        c.add(where, f"each_year 应是 1 到 5 的整数，而不是 {each!r}", "例如 each_year: 2 表示近两年每年都满足")
        each = None
    near = value.get("near_miss")
    if near is not None and not isinstance(near, bool):
        c.add(where, "near_miss 应是 true 或 false", "near_miss: true")
        near = None
    for k in ("ref", "label"):
        if value.get(k) is not None and not isinstance(value.get(k), (str, int)):
            c.add(where, f"{k} 应是文字", f"{k}: …")
    return ConditionDef(
        key=key, path=path, kind="cond", field=fld.strip() if isinstance(fld, str) else None, op=op,
        value=value.get("value"), value_by=value.get("value_by"),
        value_expr=str(value["value_expr"]) if value.get("value_expr") is not None else None,
        expr=expr.strip() if isinstance(expr, str) else None, each_year=each,
        ref=str(value["ref"]) if value.get("ref") is not None else None,
        label=str(value["label"]) if value.get("label") is not None else None, near_miss=near,
    )


def parse_text(text: str, source: str = "policy") -> PolicyDef:
    """Parse a policy file's text (YAML)."""
    return parse_policy(load_yaml(text, source), source)
