"""Enterprise registry service: one enterprise's facts, search with paging, monthly series.

All reads are of the latest complete snapshot: search through
:func:`shengxin.enterprises.store.open_current`, one enterprise's facts and series through
:func:`shengxin.enterprises.store.open_enterprise` (only that enterprise's row groups are read).
Money stays integer fen (``*_fen``); dates are ISO strings in the JSON form.

Rules:

* a code is normalised (trimmed, upper-cased, full-width folded) before lookup; a code whose
  structure is wrong raises :class:`~shengxin.errors.InvalidInput` with the reason, a well-formed
  code that is not registered raises :class:`~shengxin.errors.NotFound`;
* search matches a name substring or a code prefix, pages are 1-based, at most
  :data:`MAX_PAGE_SIZE` items, ordered with code-prefix matches first, then by name and code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from pydantic import BaseModel
from sqlglot import exp

from shengxin.enterprises import uscc as uscc_rules
from shengxin.enterprises.store import current_snapshot, enterprise_table, open_current, open_enterprise
from shengxin.errors import InvalidInput, NotFound

MAX_PAGE_SIZE = 100

STATUS_LABELS = {"active": "存续", "moved_out": "迁出", "deregistered": "注销"}
CERTIFICATION_LABELS = {
    "high_tech": "高新技术企业", "tech_sme": "科技型中小企业", "innovative_sme": "创新型中小企业",
    "specialised_sme": "专精特新中小企业", "little_giant": "专精特新“小巨人”企业",
}
IP_LABELS = {"invention_patent": "发明专利", "utility_model": "实用新型专利", "design_patent": "外观设计专利",
             "software_copyright": "软件著作权"}
CREDIT_LABELS = {"dishonesty": "失信被执行人", "abnormal_operation": "经营异常名录", "penalty": "行政处罚"}
SCOPE_LABELS = {"industry": "规模以上工业", "wholesale": "限额以上批发业", "retail": "限额以上零售业",
                "accommodation": "限额以上住宿业", "catering": "限额以上餐饮业", "construction": "资质等级建筑业",
                "real_estate": "房地产开发经营业", "services": "规模以上服务业"}
SHAREHOLDER_KIND_LABELS = {"person": "自然人", "entity": "企业法人", "partnership": "合伙企业"}
ROUND_LABELS = {"angel": "天使轮", "a": "A轮", "b": "B轮", "c": "C轮", "d_plus": "D轮及以后",
                "pre_ipo": "Pre-IPO", "strategic": "战略融资"}


class Lineage(BaseModel):
    source: str
    file: str
    row: int
    run: str


class IndustryLevel(BaseModel):
    level: int
    code: str
    name: str


class Certification(BaseModel):
    kind: str
    label: str
    certificate_no: str
    certified_on: dt.date | None
    valid_until: dt.date | None


class Shareholder(BaseModel):
    """A shareholder as the portrait shows it: a person's ID number masked (:func:`mask_id_number`),
    an entity's code in full."""

    name: str
    kind: str | None
    kind_label: str | None
    id_display: str
    subscribed_fen: int | None
    share_pct: Decimal | None

    @property
    def subscribed_wan(self) -> str:
        """认缴出资 in 万元, exact (``Decimal``), two decimals; ``—`` when not delivered."""
        if self.subscribed_fen is None:
            return "—"
        return f"{Decimal(self.subscribed_fen) / Decimal(1_000_000):,.2f}"


def mask_id_number(value: str) -> str:
    """A person's ID number for display: the first 6 (region) and last 4 characters, the rest as
    ``*`` — ``330106199001011234`` → ``330106********1234``; a number delivered masked stays as it
    came; one too short to mask is hidden whole."""
    value = (value or "").strip()
    if len(value) < 12:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


class CreditEvent(BaseModel):
    kind: str
    label: str
    reference: str | None
    start_on: dt.date | None
    end_on: dt.date | None
    detail: str | None
    amount_fen: int | None


class AnnualFigures(BaseModel):
    year: int
    employees: int | None
    revenue_fen: int | None
    assets_fen: int | None
    rd_expense_fen: int | None


class Financing(BaseModel):
    financed_on: dt.date
    round: str
    label: str
    amount_fen: int | None


class SurveyScope(BaseModel):
    scope: str
    label: str
    included_month: dt.date | None


class EnterprisePublic(BaseModel):
    """Everything the portrait shows about one enterprise (except the monthly series)."""

    uscc: str
    name: str
    established_on: dt.date | None
    legal_form: str | None
    legal_representative: str | None
    address: str | None
    phone: str | None
    registered_capital_fen: int | None
    status: str | None
    status_label: str | None
    status_changed_on: dt.date | None
    industry_code: str | None
    industry_path: list[IndustryLevel]
    town_code: str | None
    town_name: str | None
    survey_scopes: list[SurveyScope]
    certifications: list[Certification]
    ip_rights: dict[str, int]
    financing: list[Financing]
    credit_events: list[CreditEvent]
    latest_annual: AnnualFigures | None
    shareholders: list[Shareholder] = []
    lineage: Lineage
    snapshot_id: str | None


class EnterpriseSummary(BaseModel):
    uscc: str
    name: str
    town_code: str | None
    town_name: str | None
    industry_code: str | None
    industry_name: str | None
    status: str | None
    status_label: str | None
    established_on: dt.date | None


class SearchResult(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int
    items: list[EnterpriseSummary]


class MonthlySeries(BaseModel):
    """Aligned monthly series for charts: ``months[i]`` goes with ``revenue_fen[i]`` etc.; a
    department that reported nothing for a month gives ``None`` there."""

    uscc: str
    months: list[str]
    revenue_fen: list[int | None]
    tax_fen: list[int | None]
    si_headcount: list[int | None]
    electricity_kwh: list[float | None]  # a quantity, not money: float is fine for charts


# --- helpers ------------------------------------------------------------------------------------


def _checked_code(code: str) -> str:
    """Normalise a code; structural defects raise InvalidInput (a wrong check character alone does
    not: such codes are kept in the registry with a warning)."""
    try:
        result = uscc_rules.check(code)
    except TypeError as exc:
        raise InvalidInput(str(exc)) from exc
    if result.severity == "error":
        raise InvalidInput(f"统一社会信用代码 {result.code!r} 格式不对：{result.reason}")
    return result.code


def _rows(con: duckdb.DuckDBPyConnection, query: exp.Expression | str, params: list) -> list[dict]:
    sql = query if isinstance(query, str) else query.sql("duckdb")
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _sql(text: str) -> str:
    return sqlglot.parse_one(text, read="duckdb").sql("duckdb")


def _industry_path(code: str | None) -> list[IndustryLevel]:
    if not code:
        return []
    from shengxin.reference.industries import path

    try:
        return [IndustryLevel(level=int(i.level), code=i.code, name=i.name) for i in path(code)]
    except (InvalidInput, NotFound):
        return []


def _industry_name(code: str | None) -> str | None:
    trail = _industry_path(code)
    return trail[-1].name if trail else None


def _town_name(code: str | None) -> str | None:
    if not code:
        return None
    from shengxin.reference.district import load_district

    town = load_district().town(code)
    return town.name if town else None


_ENTERPRISE = _sql("SELECT * FROM enterprises WHERE uscc = ?")
_CERTS = _sql("SELECT kind, certificate_no, certified_on, valid_until FROM certifications WHERE uscc = ? "
              "ORDER BY certified_on DESC NULLS LAST, kind")
_CREDIT = _sql("SELECT kind, reference, start_on, end_on, detail, amount_fen FROM credit_events WHERE uscc = ? "
               "ORDER BY start_on DESC NULLS LAST, kind")
_ANNUAL = _sql("SELECT year, employees, revenue_fen, assets_fen, rd_expense_fen FROM annual_finance "
               "WHERE uscc = ? ORDER BY year DESC LIMIT 1")
_SHAREHOLDERS = _sql("SELECT shareholder_name, shareholder_kind, shareholder_id, subscribed_fen, share_pct "
                     "FROM shareholders WHERE uscc = ? ORDER BY share_pct DESC NULLS LAST, shareholder_name")
_IP = _sql("SELECT kind, count(*) AS n FROM ip_rights WHERE uscc = ? GROUP BY kind ORDER BY kind")
_FINANCING = _sql("SELECT financed_on, round, amount_fen FROM financing WHERE uscc = ? ORDER BY financed_on DESC")
_SCOPES = _sql("SELECT scope, included_month FROM survey_list WHERE uscc = ? ORDER BY scope")
_MONTHLY = _sql("SELECT month, revenue_fen, tax_fen, si_headcount, electricity_kwh FROM monthly "
                "WHERE uscc = ? ORDER BY month")


# --- service functions --------------------------------------------------------------------------


class EnterpriseScope(BaseModel):
    """Who an enterprise is for an access check: its normalised code and its town."""

    uscc: str
    town_code: str | None


def enterprise_scope(code: str, *, analytic_dir: Path | None = None) -> EnterpriseScope:
    """The code and town of one registered enterprise — what an access check needs, read from the
    ``enterprises`` row group holding the code (two columns; no DuckDB, no other table)."""
    code = _checked_code(code)
    schema = pa.schema([pa.field("uscc", pa.string()), pa.field("town_code", pa.string())])
    rows = enterprise_table(current_snapshot(analytic_dir), "enterprises", code, schema).to_pylist()
    if not rows:
        raise NotFound(f"企业登记信息中没有统一社会信用代码为 {code} 的企业")
    return EnterpriseScope(**rows[0])


def get_enterprise(code: str, *, analytic_dir: Path | None = None) -> EnterprisePublic:
    """Identity, industry path, town, scopes, certifications, credit events and latest annual
    figures of one registered enterprise."""
    code = _checked_code(code)
    snapshot = current_snapshot(analytic_dir)
    con = open_enterprise(snapshot, code, ("enterprises", "annual_finance", "survey_list", "certifications",
                                           "ip_rights", "financing", "credit_events", "shareholders"))
    try:
        found = _rows(con, _ENTERPRISE, [code])
        if not found:
            raise NotFound(f"企业登记信息中没有统一社会信用代码为 {code} 的企业")
        e = found[0]
        annual = _rows(con, _ANNUAL, [code])
        return EnterprisePublic(
            uscc=e["uscc"], name=e["name"], established_on=e["established_on"], legal_form=e["legal_form"],
            legal_representative=e["legal_representative"], address=e["address"], phone=e["phone"],
            registered_capital_fen=e["registered_capital_fen"], status=e["status"],
            status_label=STATUS_LABELS.get(e["status"]), status_changed_on=e["status_changed_on"],
            industry_code=e["industry_code"], industry_path=_industry_path(e["industry_code"]),
            town_code=e["town_code"], town_name=_town_name(e["town_code"]),
            survey_scopes=[SurveyScope(scope=r["scope"], label=SCOPE_LABELS.get(r["scope"], r["scope"]),
                                       included_month=r["included_month"]) for r in _rows(con, _SCOPES, [code])],
            certifications=[Certification(label=CERTIFICATION_LABELS.get(r["kind"], r["kind"]), **r)
                            for r in _rows(con, _CERTS, [code])],
            ip_rights={r["kind"]: r["n"] for r in _rows(con, _IP, [code])},
            financing=[Financing(label=ROUND_LABELS.get(r["round"], r["round"]), **r)
                       for r in _rows(con, _FINANCING, [code])],
            credit_events=[CreditEvent(label=CREDIT_LABELS.get(r["kind"], r["kind"]), **r)
                           for r in _rows(con, _CREDIT, [code])],
            latest_annual=AnnualFigures(**annual[0]) if annual else None,
            shareholders=[Shareholder(name=r["shareholder_name"], kind=r["shareholder_kind"],
                                      kind_label=SHAREHOLDER_KIND_LABELS.get(r["shareholder_kind"]),
                                      id_display=mask_id_number(r["shareholder_id"]) if r["shareholder_kind"] == "person"
                                      else r["shareholder_id"], subscribed_fen=r["subscribed_fen"],
                                      share_pct=r["share_pct"]) for r in _rows(con, _SHAREHOLDERS, [code])],
            lineage=Lineage(source=e["_source"], file=e["_file"], row=e["_row"], run=e["_run"]),
            snapshot_id=snapshot.id if snapshot else None,
        )
    finally:
        con.close()


def search_enterprises(query: str | None = None, town_code: str | None = None, page: int = 1,
                       page_size: int = 20, *, analytic_dir: Path | None = None) -> SearchResult:
    """Enterprises whose name contains ``query`` or whose code starts with it, optionally in one
    town; one page of results and the total."""
    if page < 1:
        raise InvalidInput(f"页码必须从 1 开始（收到 {page}）")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"每页条数必须在 1 到 {MAX_PAGE_SIZE} 之间（收到 {page_size}）")
    if town_code is not None:
        from shengxin.reference.district import load_district

        if load_district().town(town_code.strip()) is None:
            raise InvalidInput(f"镇街代码 {town_code!r} 不是本区的镇街")
        town_code = town_code.strip()
    conditions: list[exp.Expression] = []
    params: list = []
    order: list = ["name", "uscc"]
    text = (query or "").strip()
    if text:
        code_prefix = uscc_rules.normalise(text)
        prefix_match = exp.func("starts_with", exp.column("uscc"), exp.Placeholder())
        name_match = exp.func("contains", exp.column("name"), exp.Placeholder())
        conditions.append(exp.or_(prefix_match, name_match))
        params += [code_prefix, text]
        order.insert(0, exp.Ordered(this=exp.func("starts_with", exp.column("uscc"), exp.Placeholder()), desc=True))
    if town_code:
        conditions.append(exp.EQ(this=exp.column("town_code"), expression=exp.Placeholder()))
        params.append(town_code)
    where = exp.and_(*conditions) if conditions else exp.true()
    con = open_current(analytic_dir)
    try:
        count = sqlglot.select(exp.func("count", exp.Star())).from_("enterprises").where(where)
        total = con.execute(count.sql("duckdb"), params).fetchall()[0][0]
        listing = (
            sqlglot.select("uscc", "name", "town_code", "industry_code", "status", "established_on")
            .from_("enterprises").where(where)
            .order_by(*order)
            .limit(page_size).offset((page - 1) * page_size)
        )
        order_params = [code_prefix] if text else []
        rows = _rows(con, listing, params + order_params)
    finally:
        con.close()
    items = [EnterpriseSummary(town_name=_town_name(r["town_code"]), industry_name=_industry_name(r["industry_code"]),
                               status_label=STATUS_LABELS.get(r["status"]), **r) for r in rows]
    return SearchResult(total=total, page=page, page_size=page_size, pages=-(-total // page_size), items=items)


def monthly_series(code: str, *, analytic_dir: Path | None = None) -> MonthlySeries:
    """The enterprise's monthly revenue, tax, social-insurance headcount and electricity use."""
    code = _checked_code(code)
    con = open_enterprise(current_snapshot(analytic_dir), code, ("enterprises", "monthly"))
    try:
        if not _rows(con, _ENTERPRISE, [code]):
            raise NotFound(f"企业登记信息中没有统一社会信用代码为 {code} 的企业")
        rows = _rows(con, _MONTHLY, [code])
    finally:
        con.close()

    def kwh(v: Decimal | None) -> float | None:
        return float(v) if v is not None else None

    return MonthlySeries(
        uscc=code,
        months=[r["month"].strftime("%Y-%m") for r in rows],
        revenue_fen=[r["revenue_fen"] for r in rows],
        tax_fen=[r["tax_fen"] for r in rows],
        si_headcount=[r["si_headcount"] for r in rows],
        electricity_kwh=[kwh(r["electricity_kwh"]) for r in rows],
    )
