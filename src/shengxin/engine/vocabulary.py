"""The vocabulary of the definition language: which names exist, their types, units and labels.

Names are built on the data hub's canonical tables (``enterprises/hub/tables.yaml``); the engine
never invents data. Four kinds of names:

* **enterprise fields** — the registry row (``industry``, ``town``, ``established_on``, …) and the
  latest annual report before the as-of year (``annual.employees``, ``annual.revenue``, …);
* **monthly series** — ``revenue``, ``tax``, ``headcount``, ``electricity``, usable only inside
  series aggregates such as ``sum(revenue, months=12)``;
* **event lists** — ``ip_rights``, ``certifications``, ``financing``, ``dishonesty_list``,
  ``abnormal_operations``, ``penalties``, ``survey_list``, usable in ``count``/``has``/``sum``/
  ``min``/``max`` (their fields, e.g. ``penalties.fine``, inside those calls);
* **reference lookups** — ``size_class`` (2017 standard), ``scope_name`` and ``scope_threshold``
  (statistical scope), ``industry_section`` / ``industry_division`` (GB/T 4754-2017).

``docs/tags.md`` lists every name; ``tests/unit/test_engine_vocabulary.py`` checks that every
column named here exists in ``tables.yaml`` with a matching type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from shengxin.engine import types as T

MONEY = T.number(T.MONEY, integral=True)
PEOPLE = T.number(T.PEOPLE, integral=True)
ENERGY = T.number(T.ENERGY)
COUNT = T.number(T.NONE, integral=True)


@dataclass(frozen=True)
class FieldSpec:
    name: str  # name in the language
    column: str  # canonical column
    type: T.Type
    label: str  # Chinese label
    values: dict[str, str] = field(default_factory=dict)  # enum value -> Chinese label


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    table: str
    column: str
    type: T.Type
    label: str


@dataclass(frozen=True)
class CollectionSpec:
    """An event list: rows dated by ``date`` (known from then on); ``end`` closes a listing or a
    certificate's validity (``end_inclusive``: still in force on the end date)."""

    name: str
    label: str
    date: str
    date_is_month: bool
    end: str | None
    end_inclusive: bool
    fields: dict[str, FieldSpec]
    unit_label: str = "条"


STATUS_VALUES = {"active": "存续", "moved_out": "迁出", "deregistered": "注销"}
IP_KINDS = {"invention_patent": "发明专利", "utility_model": "实用新型专利", "design_patent": "外观设计专利",
            "software_copyright": "软件著作权"}
CERT_KINDS = {"high_tech": "高新技术企业", "tech_sme": "科技型中小企业", "innovative_sme": "创新型中小企业",
              "specialised_sme": "专精特新中小企业", "little_giant": "专精特新“小巨人”企业"}
ROUNDS = {"angel": "天使轮", "a": "A轮", "b": "B轮", "c": "C轮", "d_plus": "D轮及以后", "pre_ipo": "Pre-IPO",
          "strategic": "战略融资"}
SURVEY_SCOPES = {"industry": "规模以上工业", "wholesale": "限额以上批发业", "retail": "限额以上零售业",
                 "accommodation": "限额以上住宿业", "catering": "限额以上餐饮业", "construction": "资质等级建筑业",
                 "real_estate": "房地产开发经营业", "services": "规模以上服务业"}
SIZE_VALUES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


def _enum(values: dict[str, str]) -> T.Type:
    return T.string_enum(values)


ENTERPRISE_FIELDS: dict[str, FieldSpec] = {f.name: f for f in [
    FieldSpec("uscc", "uscc", T.STRING, "统一社会信用代码"),
    FieldSpec("name", "name", T.STRING, "企业名称"),
    FieldSpec("legal_form", "legal_form", T.STRING, "企业类型"),
    FieldSpec("industry", "industry_code", T.STRING, "行业代码"),
    FieldSpec("registered_capital", "registered_capital_fen", MONEY, "注册资本"),
    FieldSpec("town", "town_code", T.STRING, "所属镇街"),
    FieldSpec("status", "status", _enum(STATUS_VALUES), "登记状态", STATUS_VALUES),
    FieldSpec("established_on", "established_on", T.DATE, "成立日期"),
]}

ANNUAL_FIELDS: dict[str, FieldSpec] = {f.name: f for f in [
    FieldSpec("annual.year", "year", COUNT, "年报年度"),
    FieldSpec("annual.employees", "employees", PEOPLE, "年报从业人员"),
    FieldSpec("annual.revenue", "revenue_fen", MONEY, "年报营业收入"),
    FieldSpec("annual.assets", "assets_fen", MONEY, "年报资产总计"),
    FieldSpec("annual.rd_expense", "rd_expense_fen", MONEY, "年报研发费用"),
]}

SERIES: dict[str, SeriesSpec] = {s.name: s for s in [
    SeriesSpec("revenue", "monthly_tax", "revenue_fen", MONEY, "营业收入"),
    SeriesSpec("tax", "monthly_tax", "tax_fen", MONEY, "实缴税额"),
    SeriesSpec("headcount", "monthly_social_insurance", "headcount", PEOPLE, "参保人数"),
    SeriesSpec("electricity", "monthly_electricity", "electricity_kwh", ENERGY, "用电量"),
]}

COLLECTIONS: dict[str, CollectionSpec] = {c.name: c for c in [
    CollectionSpec("ip_rights", "知识产权", "granted_on", False, None, False, {
        "kind": FieldSpec("kind", "kind", _enum(IP_KINDS), "权利类型", IP_KINDS),
        "granted_on": FieldSpec("granted_on", "granted_on", T.DATE, "授权日期"),
    }, "项"),
    CollectionSpec("certifications", "资质认定", "certified_on", False, "valid_until", True, {
        "kind": FieldSpec("kind", "kind", _enum(CERT_KINDS), "认定类型", CERT_KINDS),
        "certified_on": FieldSpec("certified_on", "certified_on", T.DATE, "认定日期"),
        "valid_until": FieldSpec("valid_until", "valid_until", T.DATE, "有效期至"),
    }, "项"),
    CollectionSpec("financing", "融资事件", "financed_on", False, None, False, {
        "round": FieldSpec("round", "round", _enum(ROUNDS), "轮次", ROUNDS),
        "amount": FieldSpec("amount", "amount_fen", MONEY, "融资金额"),
        "financed_on": FieldSpec("financed_on", "financed_on", T.DATE, "融资日期"),
    }, "轮"),
    CollectionSpec("dishonesty_list", "失信被执行人记录", "published_on", False, "removed_on", False, {
        "filed_on": FieldSpec("filed_on", "filed_on", T.DATE, "立案日期"),
        "published_on": FieldSpec("published_on", "published_on", T.DATE, "发布日期"),
        "removed_on": FieldSpec("removed_on", "removed_on", T.DATE, "移除日期"),
    }),
    CollectionSpec("abnormal_operations", "经营异常名录记录", "listed_on", False, "removed_on", False, {
        "reason": FieldSpec("reason", "reason", T.STRING, "列入原因"),
        "listed_on": FieldSpec("listed_on", "listed_on", T.DATE, "列入日期"),
        "removed_on": FieldSpec("removed_on", "removed_on", T.DATE, "移出日期"),
    }),
    CollectionSpec("penalties", "行政处罚", "decided_on", False, None, False, {
        "fine": FieldSpec("fine", "fine_fen", MONEY, "罚款金额"),
        "authority": FieldSpec("authority", "authority", T.STRING, "处罚机关"),
        "decided_on": FieldSpec("decided_on", "decided_on", T.DATE, "处罚日期"),
    }, "次"),
    CollectionSpec("survey_list", "统计调查名录", "included_month", True, None, False, {
        "scope": FieldSpec("scope", "scope", _enum(SURVEY_SCOPES), "统计范围", SURVEY_SCOPES),
        "included_month": FieldSpec("included_month", "included_month", T.DATE, "纳入年月"),
    }),
]}

#: Reference lookups usable as names.
LOOKUPS: dict[str, tuple[str, T.Type]] = {
    "size_class": ("企业规模（2017年标准）", _enum(SIZE_VALUES)),
    "scope_name": ("按年营业收入达到的统计范围", T.STRING),
    "scope_threshold": ("所属行业的统计范围收入门槛", MONEY),
    "scope_rule": ("所属行业适用的统计范围（按收入门槛）", T.STRING),
    "industry_section": ("行业门类", T.STRING),
    "industry_division": ("行业大类", T.STRING),
    "industry_group": ("行业中类", T.STRING),
}

#: Series aggregate functions and collection aggregate functions.
SERIES_FUNCS = ("sum", "avg", "min", "max", "count", "latest", "growth")
COLLECTION_FUNCS = ("count", "has", "sum", "min", "max")
OTHER_FUNCS = ("coalesce", "years_since", "months_since", "months_until", "contains", "starts_with", "date",
               "rank", "tag", "codes", "district_towns")
ALL_FUNCS = tuple(dict.fromkeys(SERIES_FUNCS + COLLECTION_FUNCS + OTHER_FUNCS))

#: Tables every definition may read (for lineage).
ENTERPRISE_TABLE = "enterprises"
ANNUAL_TABLE = "annual_finance"


@dataclass(frozen=True)
class Vocabulary:
    """The names a definition may use. ``towns`` (NBS codes → names) validates town literals."""

    towns: dict[str, str] = field(default_factory=dict)

    def top_level_names(self) -> list[str]:
        return [*ENTERPRISE_FIELDS, *ANNUAL_FIELDS, *LOOKUPS, "as_of"]

    def field(self, name: str) -> FieldSpec | None:
        spec = ENTERPRISE_FIELDS.get(name) or ANNUAL_FIELDS.get(name)
        if spec is not None and name == "town" and self.towns:
            return FieldSpec(spec.name, spec.column, T.string_enum(self.towns), spec.label, dict(self.towns))
        return spec


@cache
def default_vocabulary() -> Vocabulary:
    return Vocabulary()


def enum_label(name: str, value: str) -> str:
    """Chinese label of an enumerated value of a field or lookup, or the value itself."""
    tables = {"status": STATUS_VALUES, "kind": {**IP_KINDS, **CERT_KINDS}, "round": ROUNDS, "scope": SURVEY_SCOPES,
              "size_class": SIZE_VALUES}
    return tables.get(name, {}).get(value, value)
