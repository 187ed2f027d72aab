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

#: One phone field holds several numbers separated by / 、 , ; (full-width too).
_PHONE_PARTS_SQL = r"unnest(regexp_split_to_array(coalesce({col}, ''), '[/／、,;，；]'))"
#: A number's digits: extension (转 / 分机 / ext) dropped, then non-digits, then a +86 / 0086 prefix
#: of a mobile number.
_PHONE_SQL = (r"regexp_replace(regexp_replace(regexp_replace({col}, '(转|分机|[eE][xX][tT]).*$', ''), "
              r"'[^0-9]', '', 'g'), '^(0086|86)(1[0-9]{{10}})$', '\2')")
MIN_PHONE_DIGITS = 7


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


def _rows_of(known: np.ndarray, uscc: np.ndarray) -> np.ndarray:
    """Panel row of each USCC (``known``: the panel's USCCs, sorted, as ``str``), -1 when not a
    district enterprise."""
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
                   "phone")
        .from_("outside_enterprises")
        .where(exp.Between(this=exp.column("established_on"), low=_date(first_day),
                           high=_date(month_end(panel.as_of))))
        .order_by("uscc")
    )
    found = con.sql(query.sql("duckdb")).to_arrow_table()
    uscc = _texts(found, "uscc")
    region = _texts(found, "region_code")
    known = panel.uscc.astype(str)
    keep = (~np.char.startswith(region.astype(str), district_code)) & (_rows_of(known, uscc) < 0)
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
    con.register("_sx_outside", pa.table({"uscc": outside["o_uscc"], "k": np.arange(found.num_rows),
                                          "phone": found.column("phone")}))
    try:
        rows, outs, shared = _shareholder_links(con, known, params)
        prow, pout, pshared = _contact_links(con, known, params)
    finally:
        con.unregister("_sx_outside")
    links = AffiliateLinks(
        row=np.concatenate([rows, prow]).astype(np.int64), outside=np.concatenate([outs, pout]).astype(np.int64),
        via=np.concatenate([np.full(len(rows), "shareholder"), np.full(len(prow), "contact")]).astype(str),
        shared=np.concatenate([shared, pshared]).astype(str), **outside,
    )
    same = _same_industry(panel.industry_code[links.row].astype(str), outside["o_industry"][links.outside],
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


# ------------------------------------------------------------------------------ shareholders


@dataclass
class _Holders:
    """Shareholdings with their identity parts (see :func:`_identities`)."""

    owner: np.ndarray  # outside index (outside side) or panel row (district side)
    name: np.ndarray  # canonical name
    key: np.ndarray  # join key
    prefix: np.ndarray  # visible leading characters of a person's ID ('' for entities)
    suffix: np.ndarray  # visible trailing characters


def _is_uscc(ids: np.ndarray) -> np.ndarray:
    """18 characters, a valid GB 32100 check character (a person's ID number almost never is)."""
    from shengxin.enterprises.uscc import ALPHABET, check_character

    return np.asarray([len(i) == 18 and all(c in ALPHABET for c in i) and check_character(i[:17]) == i[17]
                       for i in ids.tolist()], dtype=bool)


def _identities(owner: np.ndarray, name: np.ndarray, kind: np.ndarray, sid: np.ndarray) -> _Holders:
    """Who a shareholder is, as a join key plus the ID parts a pair must agree on.

    * an entity (kind entity/partnership, or no kind and a valid USCC) is its USCC;
    * a person with a masked ID is name + first four visible + last four visible characters: registries
      mask differently (``330106********123X``, ``3301**********123X``), so two rows are the same person
      when the key matches *and* the visible leading characters agree where both show them;
    * an unmasked 18-character ID number counts as fully visible (it links to its masked forms);
    * anything else (a passport number) is name + the number exactly."""
    sid = sid.astype(str)
    masked = np.char.find(sid, "*") >= 0
    entity = np.isin(kind.astype(str), ["entity", "partnership"]) & ~masked
    unknown_kind = ~np.isin(kind.astype(str), ["person", "entity", "partnership"]) & ~masked
    if unknown_kind.any():
        entity[unknown_kind] = _is_uscc(sid[unknown_kind])
    full_id = ~masked & ~entity & (np.char.str_len(sid) == 18)
    first = np.where(masked, np.char.find(sid, "*"), np.where(full_id, 14, 0))
    last = np.where(masked, np.asarray([i.rfind("*") + 1 for i in sid.tolist()], dtype=np.int64), first)
    prefix = np.asarray([i[:f] for i, f in zip(sid.tolist(), first.tolist())], dtype=object).astype(str)
    suffix = np.asarray([i[t:] for i, t in zip(sid.tolist(), last.tolist())], dtype=object).astype(str)
    parts = (masked | full_id) & (np.char.str_len(prefix) >= 4) & (np.char.str_len(suffix) >= 4)
    key = np.where(entity, np.char.add("E|", sid), "")
    person_key = np.char.add(np.char.add(np.char.add("P|", name), "|"),
                             np.char.add(np.char.add(prefix.astype("U4"), "|"),
                                         np.asarray([x[-4:] for x in suffix.tolist()], dtype=object).astype(str)))
    exact_key = np.char.add(np.char.add(np.char.add("X|", name), "|"), sid)
    key = np.where(entity, key, np.where(parts, person_key, exact_key))
    blank = sid == ""
    key = np.where(blank, "", key)
    return _Holders(owner, name, key.astype(str), np.where(entity, "", prefix), np.where(entity, "", suffix))


def _agree(a: np.ndarray, b: np.ndarray, leading: bool) -> np.ndarray:
    """Per pair: the visible characters both show are equal (leading or trailing ones)."""
    out = np.empty(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):  # linked pairs only (a few hundred)
        k = min(len(x), len(y))
        out[i] = x[:k] == y[:k] if leading else x[len(x) - k:] == y[len(y) - k:]
    return out


def _norm_ids(ids: np.ndarray) -> np.ndarray:
    """Canonical shareholder id: no spaces, full-width ＊ and ｘ folded, upper case."""
    out = np.char.replace(np.char.replace(ids.astype(str), " ", ""), "\u3000", "")
    out = np.char.replace(np.char.replace(out, "＊", "*"), "ｘ", "x")
    return np.char.upper(np.char.replace(out, "Ｘ", "X"))


def _norm_names(names: np.ndarray) -> np.ndarray:
    """Names compared without spaces (full-width ones too) and with ASCII brackets for 全角 ones."""
    out = np.char.replace(np.char.replace(names.astype(str), " ", ""), "\u3000", "")
    return np.char.replace(np.char.replace(out, "（", "("), "）", ")")


def _tail_name(tail: exp.Expression, name: exp.Expression) -> exp.Expression:
    """The database pre-filter's person key: last four id characters upper-cased, name without spaces."""
    def strip(e: exp.Expression, ch: str) -> exp.Expression:
        return exp.func("replace", e, exp.Literal.string(ch), exp.Literal.string(""))

    return exp.DPipe(this=exp.DPipe(this=exp.Upper(this=tail), expression=exp.Literal.string("|")),
                     expression=strip(strip(name, " "), "\u3000"))


def _shareholder_links(con, known: np.ndarray, params: AffiliateParams):
    """(panel row, outside index, shared name) through a shareholder few district enterprises share."""
    columns = [exp.column("uscc", table="s"), exp.column("shareholder_name", table="s").as_("name"),
               exp.column("shareholder_kind", table="s").as_("kind"), exp.column("shareholder_id", table="s").as_("sid")]
    o = con.sql(
        exp.select(*columns, exp.column("k", table="w"))
        .from_(exp.to_table("outside_shareholders").as_("s"))
        .join(exp.to_table("_sx_outside").as_("w"), on=exp.column("uscc", table="s").eq(exp.column("uscc", table="w")))
        .sql("duckdb")
    ).to_arrow_table()
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    if o.num_rows == 0:
        return empty
    o_sid = _norm_ids(_texts(o, "sid"))
    outside = _identities(o.column("k").to_numpy().astype(np.int64), _norm_names(_texts(o, "name")),
                          _texts(o, "kind"), o_sid)
    # District holdings that may be the same, in one scan of the register with cheap expressions:
    # the same unmasked id (a masked one is shared by thousands of people), or the same last four
    # characters and name. The exact identity rules run on these few rows below.
    persons = outside.suffix != ""
    tails = np.asarray([x[-4:] for x in outside.suffix[persons].tolist()], dtype=object).astype(str)
    con.register("_sx_ids", pa.table({"sid": np.unique(o_sid[(o_sid != "") & (np.char.find(o_sid, "*") < 0)])}))
    con.register("_sx_people", pa.table({"tn": np.unique(np.char.add(np.char.add(tails, "|"), outside.name[persons]))}))
    try:
        sid, name = exp.column("shareholder_id", table="s"), exp.column("shareholder_name", table="s")
        held = con.sql(
            exp.select(*columns).from_(exp.to_table("shareholders").as_("s"))
            .where(exp.or_(
                exp.In(this=exp.Upper(this=sid.copy()), query=exp.select("sid").from_("_sx_ids").subquery()),
                exp.In(this=_tail_name(exp.func("right", sid.copy(), exp.Literal.number(4)), name.copy()),
                       query=exp.select("tn").from_("_sx_people").subquery())))
            .sql("duckdb")
        ).to_arrow_table()
    finally:
        con.unregister("_sx_ids")
        con.unregister("_sx_people")
    rows = _rows_of(known, _texts(held, "uscc"))
    district = rows >= 0
    holders = _identities(rows[district], _norm_names(_texts(held, "name")[district]), _texts(held, "kind")[district],
                          _norm_ids(_texts(held, "sid")[district]))
    # the district enterprise itself as a shareholder of the outside company
    self_row = _rows_of(known, o_sid)
    own = self_row >= 0
    if own.any():
        holders = _Holders(np.concatenate([holders.owner, self_row[own]]),
                           np.concatenate([holders.name, outside.name[own]]),
                           np.concatenate([holders.key, np.char.add("E|", o_sid[own])]),
                           np.concatenate([holders.prefix, np.full(int(own.sum()), "")]),
                           np.concatenate([holders.suffix, np.full(int(own.sum()), "")]))
        outside.key = np.where(own, np.char.add("E|", o_sid), outside.key)
        outside.prefix = np.where(own, "", outside.prefix)
        outside.suffix = np.where(own, "", outside.suffix)
    # common investors: a key held in too many district enterprises links nothing
    keys, _ = _distinct_pairs(holders.key, holders.owner)
    names, counts = np.unique(keys, return_counts=True)
    ok = np.isin(holders.key, names[counts <= params.max_shared_holdings]) & (holders.key != "")
    h = _Holders(*(getattr(holders, f)[ok] for f in ("owner", "name", "key", "prefix", "suffix")))
    o_idx, h_idx = _equal_keys(outside.key, h.key)
    agree = _agree(outside.prefix[o_idx], h.prefix[h_idx], True) & _agree(outside.suffix[o_idx], h.suffix[h_idx], False)
    o_idx, h_idx = o_idx[agree], h_idx[agree]
    shared = np.where(outside.name[o_idx] != "", outside.name[o_idx], h.name[h_idx])
    # one link per (district enterprise, outside company, shareholder)
    pair = np.char.add(np.char.add(np.char.add(h.owner[h_idx].astype(str), "|"), outside.owner[o_idx].astype(str)),
                       np.char.add("|", outside.key[o_idx]))
    first = np.unique(pair, return_index=True)[1] if len(pair) else np.zeros(0, dtype=np.int64)
    return h.owner[h_idx][first], outside.owner[o_idx][first], shared[first]


def _equal_keys(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left[i] == right[j]`` (non-empty), through a sort of ``right``."""
    order = np.argsort(right, kind="stable")
    r = right[order]
    lo = np.searchsorted(r, left, side="left")
    hi = np.searchsorted(r, left, side="right")
    counts = np.where(left == "", 0, hi - lo)
    i = np.repeat(np.arange(len(left)), counts)
    j = order[np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))]
    return i, j


def _distinct_pairs(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (key, row) pairs (a shareholder listed twice for one firm counts once)."""
    if len(keys) == 0:
        return keys, rows
    order = np.lexsort((rows, keys))
    k, r = keys[order], rows[order]
    first = np.r_[True, (k[1:] != k[:-1]) | (r[1:] != r[:-1])]
    return k[first], r[first]


# ------------------------------------------------------------------------------ contacts


def _contact_links(con, known: np.ndarray, params: AffiliateParams):
    """(panel row, outside index, shared phone) through a number few district enterprises registered.

    The district side is counted in DuckDB: a number registered by more than ``max_shared_phone``
    enterprises (an agency's) never leaves the query, however many firms use it."""
    digits = _sql(_PHONE_SQL, "part")
    parts = exp.select(exp.column("k"), exp.alias_(_sql(_PHONE_PARTS_SQL, "phone"), "part")).from_("_sx_outside")
    o = con.sql(exp.select(exp.column("k"), digits.copy().as_("p")).from_(parts.subquery("x")).sql("duckdb")) \
        .to_arrow_table()
    o_k = o.column("k").to_numpy().astype(np.int64)
    o_p = _texts(o, "p")
    valid = np.char.str_len(o_p) >= MIN_PHONE_DIGITS
    o_k, o_p = o_k[valid], o_p[valid]
    if len(o_p) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str)
    split = exp.select(exp.column("uscc"), exp.alias_(_sql(_PHONE_PARTS_SQL, "phone"), "part")).from_("enterprises")
    district = exp.select(exp.column("uscc"), digits.copy().as_("p")).from_(split.subquery("x"))
    matched = (exp.select(exp.column("uscc", table="e"), exp.column("p", table="e"))
               .from_(district.subquery("e"))
               .join(exp.to_table("_sx_phones").as_("w"), on=exp.column("p", table="e").eq(exp.column("p", table="w"))))
    private = (exp.select(exp.column("p")).from_("m").group_by(exp.column("p"))
               .having(exp.LTE(this=exp.Count(this=exp.Distinct(expressions=[exp.column("uscc")])),
                               expression=exp.Literal.number(params.max_shared_phone))))
    query = (exp.select(exp.column("uscc", table="m"), exp.column("p", table="m")).from_("m")
             .join(exp.to_table("c"), on=exp.column("p", table="m").eq(exp.column("p", table="c")))
             .with_("m", as_=matched).with_("c", as_=private))
    con.register("_sx_phones", pa.table({"p": np.unique(o_p)}))
    try:
        rows = con.sql(query.sql("duckdb")).to_arrow_table()
    finally:
        con.unregister("_sx_phones")
    e_row = _rows_of(known, _texts(rows, "uscc"))
    e_phone = _texts(rows, "p")
    e_row, e_phone = e_row[e_row >= 0], e_phone[e_row >= 0]
    o_idx, e_idx = _equal_keys(o_p, e_phone)
    return e_row[e_idx], o_k[o_idx], o_p[o_idx]


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
