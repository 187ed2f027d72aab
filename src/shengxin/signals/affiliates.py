"""Same-industry companies set up outside the district that share shareholders or contacts with a
district enterprise — the earliest trace of a firm preparing to move (relocation risk).

Inputs: ``outside_enterprises`` (the city's feed of companies registered in other districts),
``shareholders`` (shareholders of district enterprises and of those outside companies) and the
registry's ``phone``. Rules:

* **outside and new**: the company's 登记机关区划代码 is not the district's code, its USCC is not a
  district enterprise's, and it was set up within the detection window, by the as-of month;
* **shared shareholder**: the same legal entity (the same USCC as 证照号码) holds both, or the
  district enterprise itself holds the outside company; or the same natural person — the same
  name *and* the same masked ID number (``330106********123X``): masked numbers alone collide, and
  names alone are namesakes;
* **shared contact**: the same phone number, compared on its digits (``+86``/``0086`` dropped);
* **not a common link**: a shareholder holding stakes in more than ``max_shared_holdings`` district
  enterprises (an investment platform, a fund) or a phone registered by more than
  ``max_shared_phone`` of them (an agency's) links nothing;
* **same industry**: both industry codes share their first ``industry_digits`` digits (2: the
  GB/T 4754 division); a company without an industry code is not compared.

Each district enterprise with a link gets one episode starting in the month the (earliest) outside
company was set up, lasting ``active_months``; ``detectors.detect_relocation`` merges it with a
registry or headcount-and-electricity episode of the same move. Reads go through SQLGlot
expressions; values are bound, never spliced; the joins run in DuckDB on the few keys that outside
companies carry, so the cost does not grow with the district's shareholder register.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import sqlglot
from sqlglot import exp

from shengxin.signals.catalogue import AffiliateParams
from shengxin.signals.inputs import Panel, month_end

REASON_SHAREHOLDER = "affiliate_outside_shared_shareholder"
REASON_CONTACT = "affiliate_outside_shared_contact"
#: Affiliates described in one episode's evidence (the earliest ones).
MAX_LISTED = 3

#: Canonical shareholder id: trimmed, spaces removed, upper case (a masked ID's ``x`` is ``X``).
_ID_SQL = "upper(replace(trim({col}), ' ', ''))"
#: Phone digits only, without a leading +86 / 0086 country code.
_PHONE_SQL = ("regexp_replace(regexp_replace(coalesce({col}, ''), '[^0-9]', '', 'g'), "
              "'^(0086|86)(1[0-9]{{10}})$', '\\2')")


@dataclass
class AffiliateLinks:
    """One row per (district enterprise row, outside company, way they are linked)."""

    row: np.ndarray  # panel row of the district enterprise
    outside: np.ndarray  # index into the outside-company arrays
    via: np.ndarray  # "shareholder" | "contact"
    shared: np.ndarray  # the shared shareholder's name, or the phone
    # the outside companies
    o_uscc: np.ndarray
    o_name: np.ndarray
    o_established: np.ndarray  # datetime64[D]
    o_industry: np.ndarray
    o_region: np.ndarray
    o_authority: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def _sql(template: str, col: str) -> exp.Expression:
    return sqlglot.parse_one(template.format(col=col), read="duckdb")


def _date(value: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), "DATE")


def _texts(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).fill_null("").to_pylist(), dtype=object).astype(str)


def _rows_of(panel: Panel, uscc: np.ndarray) -> np.ndarray:
    """Panel row of each USCC (panel rows are sorted by USCC), -1 when not a district enterprise."""
    known = panel.uscc.astype(str)
    if len(known) == 0:
        return np.full(len(uscc), -1, dtype=np.int64)
    pos = np.clip(np.searchsorted(known, uscc), 0, len(known) - 1)
    return np.where(known[pos] == uscc, pos, -1).astype(np.int64)


def _empty(outside: dict[str, np.ndarray]) -> AffiliateLinks:
    i = np.zeros(0, dtype=np.int64)
    s = np.zeros(0, dtype=str)
    return AffiliateLinks(i, i, s, s, **outside)


def read_links(con: duckdb.DuckDBPyConnection, panel: Panel, params: AffiliateParams,
               district_code: str) -> AffiliateLinks:
    """Every link between a district enterprise and a new same-industry outside company."""
    first_day = np.datetime64(panel.months[0], "D").astype(dt.date)
    query = (
        exp.select("uscc", "name", "established_on", "industry_code", "region_code", "registration_authority",
                   _sql(_PHONE_SQL, "phone").as_("phone_digits"))
        .from_("outside_enterprises")
        .where(exp.Between(this=exp.column("established_on"), low=_date(first_day), high=_date(month_end(panel.as_of))))
        .order_by("uscc")
    )
    found = con.sql(query.sql("duckdb")).to_arrow_table()
    uscc = _texts(found, "uscc")
    region = _texts(found, "region_code")
    keep = (~np.char.startswith(region.astype(str), district_code)) & (_rows_of(panel, uscc) < 0)
    keep &= np.asarray(found.column("established_on").is_valid())
    found = found.filter(pa.array(keep))
    outside = {
        "o_uscc": _texts(found, "uscc"), "o_name": _texts(found, "name"),
        "o_established": found.column("established_on").cast(pa.date32()).to_numpy(zero_copy_only=False)
        .astype("datetime64[D]"),
        "o_industry": _texts(found, "industry_code"), "o_region": _texts(found, "region_code"),
        "o_authority": _texts(found, "registration_authority"),
    }
    if found.num_rows == 0:
        return _empty(outside)
    phones = _texts(found, "phone_digits")

    con.register("_sx_outside", pa.table({"uscc": outside["o_uscc"], "k": np.arange(found.num_rows)}))
    try:
        rows, outs, via, shared = _shareholder_links(con, panel, params)
        prow, pout, pshared = _contact_links(con, panel, params, phones)
    finally:
        con.unregister("_sx_outside")
    links = AffiliateLinks(
        row=np.concatenate([rows, prow]).astype(np.int64), outside=np.concatenate([outs, pout]).astype(np.int64),
        via=np.concatenate([via, np.full(len(prow), "contact")]).astype(str),
        shared=np.concatenate([shared, pshared]).astype(str), **outside,
    )
    same = _same_industry(panel.industry_code.astype(str)[links.row], outside["o_industry"][links.outside],
                          params.industry_digits)
    return _take(links, same)


def _take(links: AffiliateLinks, keep: np.ndarray) -> AffiliateLinks:
    return AffiliateLinks(links.row[keep], links.outside[keep], links.via[keep], links.shared[keep],
                          links.o_uscc, links.o_name, links.o_established, links.o_industry, links.o_region,
                          links.o_authority)


def _same_industry(a: np.ndarray, b: np.ndarray, digits: int) -> np.ndarray:
    a = a.astype(f"U{digits}")
    b = b.astype(f"U{digits}")
    return (np.char.str_len(a) == digits) & (a == b)


def _shareholder_links(con, panel: Panel, params: AffiliateParams):
    """(panel row, outside index, "shareholder", shared name) through a common, non-common shareholder."""
    sid = _sql(_ID_SQL, "s.shareholder_id")
    outside_holders = con.sql(
        exp.select(exp.column("k", table="o"), sid.copy().as_("sid"), exp.column("shareholder_name", table="s").as_("name"))
        .from_(exp.to_table("shareholders").as_("s"))
        .join(exp.to_table("_sx_outside").as_("o"), on=exp.column("uscc", table="s").eq(exp.column("uscc", table="o")))
        .sql("duckdb")
    ).to_arrow_table()
    if outside_holders.num_rows == 0:
        return (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0, dtype=str),) * 2
    o_k = outside_holders.column("k").to_numpy().astype(np.int64)
    o_sid = _texts(outside_holders, "sid")
    o_name = _norm_names(_texts(outside_holders, "name"))
    ids = np.unique(o_sid[o_sid != ""])
    con.register("_sx_ids", pa.table({"sid": ids}))
    try:  # district holdings of those ids only (the semi-join keeps the read small)
        holdings = con.sql(
            exp.select(exp.column("uscc", table="s"), sid.copy().as_("sid"),
                       exp.column("shareholder_name", table="s").as_("name"))
            .from_(exp.to_table("shareholders").as_("s"))
            .join(exp.to_table("_sx_ids").as_("i"), on=sid.copy().eq(exp.column("sid", table="i")))
            .sql("duckdb")
        ).to_arrow_table()
    finally:
        con.unregister("_sx_ids")
    h_row = _rows_of(panel, _texts(holdings, "uscc"))
    district = h_row >= 0
    h_row = h_row[district]
    h_sid = _texts(holdings, "sid")[district]
    h_name = _norm_names(_texts(holdings, "name"))[district]
    # the district enterprise itself as a shareholder of the outside company
    self_row = _rows_of(panel, ids)
    own = self_row >= 0
    h_row = np.concatenate([h_row, self_row[own]])
    h_sid = np.concatenate([h_sid, ids[own]])
    h_name = np.concatenate([h_name, np.full(int(own.sum()), "")])

    h_key = _holder_keys(h_sid, h_name)
    o_key = _holder_keys(o_sid, o_name)
    # common investors: keys held in too many district enterprises
    keys, firms = _distinct_pairs(h_key, h_row)
    names, counts = np.unique(keys, return_counts=True)
    ok = np.isin(h_key, names[counts <= params.max_shared_holdings])
    h_key, h_row, h_name = h_key[ok], h_row[ok], h_name[ok]
    order = np.argsort(h_key, kind="stable")
    h_key, h_row, h_name = h_key[order], h_row[order], h_name[order]
    lo = np.searchsorted(h_key, o_key, side="left")
    hi = np.searchsorted(h_key, o_key, side="right")
    counts = hi - lo
    o_idx = np.repeat(np.arange(len(o_key)), counts)
    h_idx = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    shared = np.where(o_name[o_idx] != "", o_name[o_idx], h_name[h_idx])
    return h_row[h_idx], o_k[o_idx], np.full(len(o_idx), "shareholder"), shared


def _distinct_pairs(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (key, row) pairs (a shareholder listed twice for one firm counts once)."""
    if len(keys) == 0:
        return keys, rows
    order = np.lexsort((rows, keys))
    k, r = keys[order], rows[order]
    first = np.r_[True, (k[1:] != k[:-1]) | (r[1:] != r[:-1])]
    return k[first], r[first]


def _norm_names(names: np.ndarray) -> np.ndarray:
    """Names compared without spaces (full-width spaces too) and with ASCII brackets for 全角 ones."""
    out = np.char.replace(np.char.replace(names.astype(str), " ", ""), "\u3000", "")
    return np.char.replace(np.char.replace(out, "（", "("), "）", ")")


def _holder_keys(sid: np.ndarray, name: np.ndarray) -> np.ndarray:
    """A legal entity is its USCC (18 characters, no mask); a person is masked ID + name."""
    sid = sid.astype(str)
    entity = (np.char.str_len(sid) == 18) & (np.char.find(sid, "*") < 0)
    return np.where(entity, np.char.add("E|", sid), np.char.add(np.char.add("P|", sid), np.char.add("|", name)))


def _contact_links(con, panel: Panel, params: AffiliateParams, phones: np.ndarray):
    """(panel row, outside index, shared phone) through a registry phone few district enterprises share."""
    valid = np.char.str_len(phones.astype(str)) >= 7
    if not valid.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    wanted = np.unique(phones[valid])
    con.register("_sx_phones", pa.table({"p": wanted}))
    try:
        digits = _sql(_PHONE_SQL, "e.phone")
        rows = con.sql(
            exp.select(exp.column("uscc", table="e"), digits.copy().as_("p"))
            .from_(exp.to_table("enterprises").as_("e"))
            .join(exp.to_table("_sx_phones").as_("w"), on=digits.copy().eq(exp.column("p", table="w")))
            .sql("duckdb")
        ).to_arrow_table()
    finally:
        con.unregister("_sx_phones")
    e_row = _rows_of(panel, _texts(rows, "uscc"))
    e_phone = _texts(rows, "p")
    e_row, e_phone = e_row[e_row >= 0], e_phone[e_row >= 0]
    numbers, counts = np.unique(_distinct_pairs(e_phone, e_row)[0], return_counts=True)
    private = numbers[counts <= params.max_shared_phone]
    keep = np.isin(e_phone, private)
    e_row, e_phone = e_row[keep], e_phone[keep]
    order = np.argsort(e_phone, kind="stable")
    e_row, e_phone = e_row[order], e_phone[order]
    o_idx_all = np.flatnonzero(valid)
    lo = np.searchsorted(e_phone, phones[o_idx_all], side="left")
    hi = np.searchsorted(e_phone, phones[o_idx_all], side="right")
    counts = hi - lo
    o_idx = np.repeat(o_idx_all, counts)
    e_idx = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    return e_row[e_idx], o_idx, phones[o_idx]


@dataclass
class AffiliateEpisodes:
    """One entry per district enterprise with at least one link."""

    row: np.ndarray
    start: np.ndarray  # panel month index of the earliest outside company's set-up
    end: np.ndarray
    reasons: np.ndarray  # comma-separated reason codes
    detail: list[dict]  # evidence fields (merged into the episode's JSON detail)

    def __len__(self) -> int:
        return len(self.row)


def episodes(panel: Panel, links: AffiliateLinks, params: AffiliateParams) -> AffiliateEpisodes:
    """Group the links by district enterprise: the earliest outside company starts the episode."""
    if len(links) == 0:
        i = np.zeros(0, dtype=np.int64)
        return AffiliateEpisodes(i, i, i, np.zeros(0, dtype=object), [])
    est = links.o_established[links.outside]
    col = (est.astype("datetime64[M]") - panel.months[0]).astype(np.int64)
    order = np.lexsort((links.via, col, links.row))
    row, col, out, via, shared = links.row[order], col[order], links.outside[order], links.via[order], links.shared[order]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    bounds = np.r_[first, len(row)]
    as_of_col = panel.t - 1
    starts = col[first]
    ends = np.minimum(starts + params.active_months - 1, as_of_col)
    reasons, details = [], []
    for a, b in zip(bounds[:-1], bounds[1:]):  # one iteration per linked enterprise (a few hundred)
        kinds = set(via[a:b])
        codes = [c for c, k in ((REASON_SHAREHOLDER, "shareholder"), (REASON_CONTACT, "contact")) if k in kinds]
        reasons.append(",".join(codes))
        companies: dict[int, dict] = {}
        for k in range(a, b):
            o = int(out[k])
            entry = companies.setdefault(o, {"shareholders": [], "phone": None})
            if via[k] == "shareholder" and shared[k] not in entry["shareholders"]:
                entry["shareholders"].append(shared[k])
            if via[k] == "contact":
                entry["phone"] = shared[k]
        listed = list(companies.items())[:MAX_LISTED]
        o0, e0 = listed[0]
        details.append({
            "affiliate_uscc": links.o_uscc[o0], "affiliate_name": links.o_name[o0],
            "affiliate_region": links.o_region[o0], "affiliate_authority": links.o_authority[o0] or None,
            "affiliate_established_on": str(links.o_established[o0]), "affiliate_industry": links.o_industry[o0],
            "shared_shareholders": "、".join(e0["shareholders"]) or None, "shared_phone": e0["phone"],
            "affiliates": len(companies),
            "affiliate_list": [{"uscc": links.o_uscc[o], "name": links.o_name[o], "region": links.o_region[o],
                                "established_on": str(links.o_established[o]),
                                "shared_shareholders": e["shareholders"], "shared_phone": e["phone"]}
                               for o, e in listed],
        })
    return AffiliateEpisodes(row[first], starts, ends, np.asarray(reasons, dtype=object), details)


def to_json(detail: dict | None, extra: dict) -> str:
    """An episode's JSON detail with the affiliate evidence added."""
    merged = dict(detail or {})
    merged.update(extra)
    return json.dumps(merged, ensure_ascii=False)
