"""What kinds of enterprises the synthetic district holds and how each kind behaves.

Everything the generator assumes about an industry is in this file, as data: the industry mix of a
digital-economy district, and per sector the size distribution, revenue per employee, asset and tax
ratios, electricity intensity, R&D habits, seasonality and Spring Festival slowdown. The figures
are orders of magnitude chosen to look like a Hangzhou district (many small software, trade and
service firms, a manufacturing base in the towns); they are not calibrated on real microdata, and
``docs/synth.md`` says which published rules they follow.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

REFERENCE_DATA = Path(__file__).resolve().parent.parent / "reference" / "data"
INDUSTRY_FILE = REFERENCE_DATA / "industry_gbt4754_2017.csv"
SCOPE_FILE = REFERENCE_DATA / "statistical_scope_thresholds.csv"

#: Seasonal shapes of monthly revenue (January..December) before the Spring Festival effect.
SEASONAL_SHAPES: dict[str, tuple[float, ...]] = {
    # year-end peak of project acceptance and payment (software, engineering, R&D services)
    "project": (0.88, 0.97, 1.0, 0.95, 0.95, 1.05, 0.95, 0.95, 1.05, 0.95, 1.0, 1.34),
    # online retail: the "618" sale in June and "Double 11" in November
    "ecommerce": (1.0, 0.95, 0.9, 0.9, 0.95, 1.22, 0.9, 0.9, 0.95, 1.0, 1.45, 1.15),
    # factories: steady, a little stronger before the year end
    "industrial": (1.0, 1.0, 1.02, 1.0, 1.0, 1.02, 0.96, 0.96, 1.02, 1.0, 1.03, 1.1),
    # hotels and restaurants: holidays and summer
    "hospitality": (1.05, 1.0, 0.9, 1.0, 1.1, 0.95, 1.1, 1.15, 0.95, 1.15, 0.85, 0.95),
    # everything else: nearly flat, a modest December
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.98, 0.98, 1.0, 1.0, 1.02, 1.08),
}

#: Hangzhou climate shape of electricity use (air conditioning in July-August, heating in winter).
CLIMATE_SHAPE = (1.10, 1.0, 0.95, 0.92, 0.95, 1.02, 1.18, 1.20, 1.05, 0.95, 0.93, 1.05)


@dataclass(frozen=True)
class Sector:
    """How one sector's enterprises look and behave.

    Money is in 万元 per year; ratios are shares of annual revenue.
    """

    key: str
    label: str
    employees_median: float
    employees_sigma: float
    revenue_per_employee: float  # 万元 per employee per year, median
    revenue_sigma: float
    asset_ratio: float  # assets / annual revenue, median
    tax_rate: float  # tax paid / revenue for a general VAT taxpayer, median
    kwh_per_wan: float  # kWh per 万元 of revenue, median
    rd_intensity: float  # R&D spending / revenue for firms that do R&D, median
    rd_share: float  # share of firms that report any R&D
    seasonal: str
    sf_before: int  # days of slowdown before the Spring Festival
    sf_after: int  # days of slowdown after it
    sf_depth: float  # share of activity lost during the slowdown
    growth_mean: float  # mean annual growth rate
    noise: float  # month-to-month noise (log scale) of a mid-sized firm
    meter_share: float  # share of firms with their own electricity account
    tech: bool  # eligible for technology certifications
    ip_rate: float  # mean number of patents/copyrights of a 10-employee firm
    software_ip: bool  # IP is mostly software copyrights
    financing_rate: float  # share of young firms that raise outside money
    sf_boost: float = 0.0  # extra sales in the three weeks before the festival (New Year shopping)


SECTORS: tuple[Sector, ...] = (
    Sector("software", "软件和信息技术服务", 5, 1.25, 45, 0.6, 0.9, 0.04, 25, 0.08, 0.6,
           "project", 3, 8, 0.55, 0.10, 0.18, 0.45, True, 1.5, True, 0.05),
    Sector("internet", "互联网和相关服务", 5, 1.35, 60, 0.7, 0.9, 0.045, 35, 0.07, 0.55,
           "flat", 3, 8, 0.5, 0.12, 0.20, 0.45, True, 1.2, True, 0.07),
    Sector("telecom", "电信和广播电视传输", 10, 1.1, 80, 0.5, 1.5, 0.04, 60, 0.02, 0.3,
           "flat", 3, 8, 0.4, 0.04, 0.12, 0.6, True, 0.4, True, 0.01),
    Sector("wholesale", "批发业", 3, 1.1, 70, 0.8, 0.35, 0.012, 8, 0.005, 0.08,
           "flat", 5, 8, 0.5, 0.04, 0.22, 0.35, False, 0.1, False, 0.003),
    Sector("retail", "零售业", 2, 1.0, 40, 0.7, 0.5, 0.02, 45, 0.003, 0.05,
           "flat", 3, 6, 0.35, 0.02, 0.20, 0.6, False, 0.05, False, 0.003, sf_boost=0.2),
    Sector("ecommerce", "互联网零售", 2, 1.2, 40, 0.8, 0.4, 0.015, 20, 0.01, 0.15,
           "ecommerce", 3, 8, 0.45, 0.08, 0.25, 0.4, False, 0.3, False, 0.02, sf_boost=0.15),
    Sector("manufacturing", "制造业", 8, 1.15, 50, 0.55, 1.0, 0.035, 450, 0.025, 0.5,
           "industrial", 10, 15, 0.7, 0.05, 0.12, 0.97, True, 1.2, False, 0.01),
    Sector("construction", "建筑业", 8, 1.2, 50, 0.6, 1.1, 0.03, 30, 0.003, 0.08,
           "project", 14, 20, 0.8, 0.02, 0.25, 0.5, False, 0.1, False, 0.002),
    Sector("real_estate", "房地产开发经营", 10, 1.0, 180, 0.9, 4.0, 0.08, 15, 0.0, 0.0,
           "project", 5, 10, 0.5, -0.03, 0.35, 0.5, False, 0.0, False, 0.003),
    Sector("property_services", "物业、中介和租赁", 6, 1.1, 25, 0.5, 1.0, 0.04, 60, 0.0, 0.02,
           "flat", 3, 6, 0.2, 0.03, 0.10, 0.6, False, 0.02, False, 0.001),
    Sector("business_services", "租赁和商务服务", 3, 1.2, 35, 0.7, 1.2, 0.045, 20, 0.005, 0.08,
           "flat", 3, 8, 0.5, 0.05, 0.20, 0.35, False, 0.1, False, 0.01),
    Sector("tech_services", "科学研究和技术服务", 4, 1.2, 35, 0.65, 1.0, 0.04, 60, 0.10, 0.6,
           "project", 3, 8, 0.55, 0.08, 0.20, 0.45, True, 1.6, False, 0.04),
    Sector("transport", "交通运输、仓储和邮政", 5, 1.2, 50, 0.6, 0.9, 0.03, 60, 0.002, 0.05,
           "flat", 7, 10, 0.5, 0.04, 0.15, 0.6, False, 0.1, False, 0.005),
    Sector("hospitality", "住宿和餐饮", 5, 1.0, 12, 0.5, 1.3, 0.03, 150, 0.0, 0.0,
           "hospitality", 2, 5, 0.2, 0.03, 0.15, 0.85, False, 0.0, False, 0.002),
    Sector("culture", "文化、体育和娱乐", 3, 1.2, 25, 0.7, 1.2, 0.04, 30, 0.03, 0.2,
           "project", 3, 8, 0.5, 0.05, 0.25, 0.4, False, 0.6, True, 0.02),
    Sector("finance", "其他金融服务", 6, 1.1, 100, 0.9, 6.0, 0.06, 15, 0.0, 0.02,
           "flat", 3, 8, 0.4, 0.03, 0.30, 0.4, False, 0.0, False, 0.0),
    Sector("social_services", "教育、卫生和居民服务", 6, 1.0, 20, 0.5, 1.0, 0.03, 50, 0.005, 0.05,
           "flat", 4, 10, 0.5, 0.04, 0.15, 0.6, False, 0.05, False, 0.005),
    Sector("agriculture", "农林牧渔", 6, 1.0, 25, 0.6, 1.5, 0.005, 80, 0.0, 0.02,
           "flat", 5, 10, 0.4, 0.02, 0.20, 0.7, False, 0.1, False, 0.0),
)

SECTOR_INDEX = {s.key: i for i, s in enumerate(SECTORS)}

#: The district's industry mix: (code prefix, share of enterprises, sector). A class is drawn
#: uniformly among the GB/T 4754-2017 classes that start with the prefix.
INDUSTRY_MIX: tuple[tuple[str, float, str], ...] = (
    ("651", 0.050, "software"), ("652", 0.010, "software"), ("653", 0.030, "software"),
    ("654", 0.010, "software"), ("655", 0.010, "software"), ("656", 0.025, "software"),
    ("657", 0.015, "software"), ("659", 0.010, "software"),
    ("641", 0.002, "internet"), ("642", 0.005, "internet"), ("643", 0.025, "internet"),
    ("644", 0.005, "internet"), ("645", 0.010, "internet"), ("649", 0.015, "internet"),
    ("63", 0.008, "telecom"),
    ("51", 0.130, "wholesale"),
    ("5292", 0.040, "ecommerce"),
    ("521", 0.010, "retail"), ("522", 0.008, "retail"), ("523", 0.010, "retail"),
    ("524", 0.004, "retail"), ("525", 0.004, "retail"), ("526", 0.004, "retail"),
    ("527", 0.005, "retail"), ("528", 0.005, "retail"),
    ("39", 0.018, "manufacturing"), ("38", 0.014, "manufacturing"), ("34", 0.012, "manufacturing"),
    ("35", 0.014, "manufacturing"), ("40", 0.006, "manufacturing"), ("26", 0.006, "manufacturing"),
    ("27", 0.005, "manufacturing"), ("29", 0.008, "manufacturing"), ("33", 0.010, "manufacturing"),
    ("36", 0.006, "manufacturing"), ("17", 0.006, "manufacturing"), ("18", 0.006, "manufacturing"),
    ("21", 0.004, "manufacturing"), ("14", 0.004, "manufacturing"), ("13", 0.002, "manufacturing"),
    ("23", 0.003, "manufacturing"), ("24", 0.004, "manufacturing"), ("30", 0.004, "manufacturing"),
    ("22", 0.002, "manufacturing"), ("41", 0.002, "manufacturing"), ("44", 0.001, "manufacturing"),
    ("47", 0.008, "construction"), ("48", 0.012, "construction"), ("49", 0.008, "construction"),
    ("50", 0.014, "construction"),
    ("7010", 0.008, "real_estate"),
    ("702", 0.008, "property_services"), ("703", 0.006, "property_services"),
    ("704", 0.004, "property_services"), ("709", 0.002, "property_services"),
    ("71", 0.010, "business_services"), ("721", 0.012, "business_services"),
    ("722", 0.012, "business_services"), ("723", 0.005, "business_services"),
    ("724", 0.020, "business_services"), ("725", 0.015, "business_services"),
    ("726", 0.008, "business_services"), ("727", 0.002, "business_services"),
    ("728", 0.006, "business_services"), ("729", 0.015, "business_services"),
    ("73", 0.025, "tech_services"), ("74", 0.020, "tech_services"), ("75", 0.055, "tech_services"),
    ("77", 0.003, "tech_services"),
    ("54", 0.010, "transport"), ("58", 0.008, "transport"), ("59", 0.006, "transport"),
    ("60", 0.002, "transport"),
    ("61", 0.004, "hospitality"), ("62", 0.014, "hospitality"),
    ("86", 0.003, "culture"), ("87", 0.006, "culture"), ("88", 0.004, "culture"),
    ("89", 0.002, "culture"), ("90", 0.002, "culture"),
    ("67", 0.002, "finance"), ("69", 0.003, "finance"),
    ("83", 0.006, "social_services"), ("84", 0.003, "social_services"),
    ("80", 0.006, "social_services"), ("81", 0.003, "social_services"),
    ("01", 0.003, "agriculture"), ("05", 0.002, "agriculture"),
)

#: Classes no ordinary enterprise registers under (collective, notary and public bodies).
EXCLUDED_CLASSES = frozenset({"7215", "7232", "7261", "7350", "6330"})

#: Divisions whose firms are "technology manufacturing" (certification-eligible).
TECH_MANUFACTURING_DIVISIONS = frozenset({"26", "27", "34", "35", "36", "38", "39", "40"})


@dataclass(frozen=True)
class IndustryTable:
    """The class codes the generator draws from, with their sector and sampling weight."""

    codes: np.ndarray  # 4-digit class codes (str)
    names: np.ndarray  # class names (str)
    sector: np.ndarray  # sector index per class
    weight: np.ndarray  # probability per class (sums to 1)


def read_classes(path: Path = INDUSTRY_FILE) -> dict[str, tuple[str, str]]:
    """GB/T 4754-2017 level-4 classes: code → (name, section letter)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {
            row["code"]: (row["name"], row["section"])
            for row in csv.DictReader(fh)
            if row["level"] == "4"
        }


@cache
def industry_table() -> IndustryTable:
    """Spread each mix entry's share evenly over the classes under its prefix."""
    classes = read_classes()
    codes, names, sectors, weights = [], [], [], []
    for prefix, share, sector in INDUSTRY_MIX:
        members = sorted(c for c in classes if c.startswith(prefix) and c not in EXCLUDED_CLASSES)
        if not members:
            raise ValueError(f"industry mix prefix {prefix!r} matches no GB/T 4754-2017 class")
        for c in members:
            codes.append(c)
            names.append(classes[c][0])
            sectors.append(SECTOR_INDEX[sector])
            weights.append(share / len(members))
    w = np.asarray(weights)
    return IndustryTable(
        codes=np.asarray(codes),
        names=np.asarray(names),
        sector=np.asarray(sectors, dtype=np.int16),
        weight=w / w.sum(),
    )


def sector_array(field: str) -> np.ndarray:
    """One profile field for every sector, indexable by sector index."""
    return np.asarray([getattr(s, field) for s in SECTORS])


def seasonal_matrix() -> np.ndarray:
    """(sectors × 12) revenue seasonality, each row with mean 1."""
    m = np.asarray([SEASONAL_SHAPES[s.seasonal] for s in SECTORS], dtype=np.float64)
    return m / m.mean(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Statistical survey scope (规上 / 限上), from the packaged thresholds file.


@dataclass(frozen=True)
class Scope:
    name: str  # 统计范围 as written in the list, e.g. 规模以上工业
    min_revenue: float | None  # 万元 of annual revenue; None = qualification-based
    sections: frozenset[str]
    divisions: frozenset[str]
    classes: frozenset[str]

    def specificity(self, code: str, section: str) -> int:
        """3 for a class match, 2 for a division match, 1 for a section match, 0 otherwise."""
        if code in self.classes:
            return 3
        if code[:2] in self.divisions:
            return 2
        if section in self.sections:
            return 1
        return 0


_RANGE = re.compile(r"\((\d{2})-(\d{2})\)")


def parse_scope_codes(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Split a ``gbt4754_scope`` cell such as ``G (53-60)`` or ``7020 7030`` into codes.

    Returns (sections, divisions, classes). A parenthesised range names divisions and then
    takes precedence over the section letter before it.
    """
    divisions: set[str] = set()
    ranged = _RANGE.search(text)
    if ranged:
        lo, hi = int(ranged.group(1)), int(ranged.group(2))
        divisions.update(f"{d:02d}" for d in range(lo, hi + 1))
        text = _RANGE.sub("", text)
    sections: set[str] = set()
    classes: set[str] = set()
    for token in text.split():
        if len(token) == 1 and token.isalpha():
            if not ranged:
                sections.add(token)
        elif len(token) == 2 and token.isdigit():
            divisions.add(token)
        elif len(token) == 4 and token.isdigit():
            classes.add(token)
    return frozenset(sections), frozenset(divisions), frozenset(classes)


@cache
def scopes() -> tuple[Scope, ...]:
    out = []
    with open(SCOPE_FILE, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            sections, divisions, classes = parse_scope_codes(row["gbt4754_scope"])
            minimum = float(row["min_annual"]) if row["min_annual"] else None
            out.append(Scope(row["scope"], minimum, sections, divisions, classes))
    return tuple(out)


def scope_of_classes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each class code: index into :func:`scopes` (-1 when none applies) and its threshold.

    The most specific matching row wins (class over division over section); the threshold is in
    万元 of annual revenue and NaN for qualification-based scopes.
    """
    classes = read_classes()
    table = scopes()
    idx = np.full(len(codes), -1, dtype=np.int16)
    threshold = np.full(len(codes), np.nan)
    for i, code in enumerate(codes):
        section = classes[str(code)][1]
        best, best_spec = -1, 0
        for j, scope in enumerate(table):
            spec = scope.specificity(str(code), section)
            if spec > best_spec:
                best, best_spec = j, spec
        idx[i] = best
        if best >= 0 and table[best].min_revenue is not None:
            threshold[i] = table[best].min_revenue
    return idx, threshold
