"""Labelled appeal texts: a seeded template-and-slot generator, hand-written examples, demo appeals.

What the generator does (and why it is not trivial to classify):

* an appeal is ``opening + identity + background + core + detail + distractor + ask + closing``
  (``phrasebook.yaml``); only ``core``, ``detail`` and part of the ``ask`` pool belong to the
  labelled subcategory, the rest is shared boilerplate;
* slots are filled from the district's towns and invented pools (company names, parks, products,
  banks, amounts, dates, people, masked phone numbers);
* a *distractor* clause mentions another subcategory's topic ("另外出口退税的事情之前已经办好了"),
  and backgrounds mention certifications, size and money, so words such as 高新技术企业, 社保,
  厂房, 补贴 and 出口 occur across categories as they do in real appeals;
* some appeals are written up hotline-style in the third person ("来电反映：…诉求：…");
* noise: IME homophone typos (代款 for 贷款), missing or doubled punctuation, ASCII punctuation,
  filler words, dropped closings.

Rule: the same seed gives the same texts in the same order on every machine — generation uses
``random.Random`` seeded with ``"<seed>:<subcategory>"`` per subcategory, so adding a subcategory
does not change the others' texts. ``examples.csv`` is exactly :func:`build_examples` written by
:func:`write_examples_csv`; a unit test regenerates it and compares.

A generated example's id is ``g-<subcategory>-<n>-c<k>``: ``k`` is the index of its core sentence
template, so an evaluation can hold out whole templates (texts phrased in a way never seen).

Hand-written examples (``examples_handwritten.csv``) are part of ``examples.csv`` and of its
training/test split. The hard set (``examples_hard.csv``: paraphrases, very colloquial texts and
mixed-topic appeals labelled with their main topic) is never trained on; it is evaluated separately.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from shengxin.appeals.classify.taxonomy import Taxonomy, load_taxonomy
from shengxin.errors import InvalidInput

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
EXAMPLES_CSV = DATA_DIR / "examples.csv"
HANDWRITTEN_CSV = DATA_DIR / "examples_handwritten.csv"
HARD_CSV = DATA_DIR / "examples_hard.csv"
PHRASEBOOK = Path(__file__).resolve().parent / "phrasebook.yaml"

#: Seed of the committed examples.csv.
DEFAULT_SEED = 20241128
#: Generated texts per subcategory in the committed examples.csv.
DEFAULT_PER_SUBCATEGORY = 80
CSV_FIELDS = ("id", "text", "category", "subcategory", "unit", "source")
MAX_TEXT_CHARS = 2000

#: Pinyin-input homophone typos seen in real submissions (correct → typed).
TYPOS: dict[str, str] = {
    "贷款": "代款", "补贴": "补帖", "已经": "以经", "账户": "帐户", "登记": "登计", "办理": "半理",
    "发票": "发漂", "停电": "停点", "专利": "专例", "工资": "公资", "验收": "验手", "厂房": "场房",
    "申请": "申情", "资金": "资今", "认定": "认订", "截止": "截至", "什么": "神马", "怎么": "咋", "一直": "一只",
    "报销": "报消", "营业执照": "营业执招",
}
FILLERS = ("那个，", "就是说，", "嗯，", "是这样的，", "我想问问，", "说实话，")
HOTLINE_FRAMES = (
    "来电人反映：{body}诉求：{ask}",
    "企业来电反映：{body}{ask}",
    "{company}工作人员来电：{body}要求：{ask}",
    "市长热线转办：{company}反映{body}{ask}",
)


@dataclass(frozen=True)
class Example:
    """One labelled appeal text."""

    id: str
    text: str
    category: str
    subcategory: str
    unit: str
    source: str  # generated | handwritten | hard | correction
    kind: str = ""  # hard set only: paraphrase | colloquial | mixed


@lru_cache
def phrasebook() -> dict:
    """The parsed phrasebook (cached)."""
    return yaml.safe_load(PHRASEBOOK.read_text(encoding="utf-8"))


def _towns() -> list[tuple[str, str]]:
    from shengxin.config import DEFAULT_DISTRICT_FILE
    from shengxin.reference.district import load_district

    return [(t.code, t.name) for t in load_district(DEFAULT_DISTRICT_FILE).towns]


class _Writer:
    """Fills one appeal's slots from a seeded ``random.Random``; a town may be fixed."""

    def __init__(self, rng: random.Random, town_name: str | None = None):
        self.rng = rng
        self.book = phrasebook()
        self.slots = self.book["slots"]
        self.town_name = town_name
        self.company = self._company()

    def _company(self) -> str:
        r, s = self.rng, self.slots
        return f"杭州{r.choice(s['brand'])}{r.choice(s['industry'])}有限公司"

    def _person(self) -> str:
        return self.rng.choice(self.slots["surname"]) + self.rng.choice(self.slots["honorific"])

    def _full_town(self) -> str:
        """The appeal's town: fixed by the caller or chosen once, so {town} and {park} agree."""
        if self.town_name is None:
            self.town_name = self.rng.choice(_towns())[1]
        return self.town_name

    def _town(self) -> str:
        name = self._full_town()
        # people often drop the 街道 suffix
        return name[:-2] if name.endswith("街道") and self.rng.random() < 0.4 else name

    def _park(self) -> str:
        town = self._full_town()
        parks = self.book.get("parks_by_town", {}).get(town)
        return self.rng.choice(parks) if parks else f"{town}工业园区"

    def value(self, slot: str) -> str:
        r = self.rng
        if slot in self.slots and slot not in ("surname", "honorific", "brand", "industry"):
            return r.choice(self.slots[slot])
        match slot:
            case "town":
                return self._town()
            case "park":
                return self._park()
            case "company":
                return self.company if r.random() < 0.7 else self.company.replace("有限公司", "")
            case "person":
                return self._person()
            case "phone":
                return f"1{r.choice('3578')}{r.randint(0, 9)}****{r.randint(0, 9999):04d}"
            case "n_small":
                return str(r.randint(2, 9))
            case "n_staff":
                return str(r.choice((15, 30, 45, 60, 80, 120, 150, 200, 260, 350, 500, 800)))
            case "amount":
                return str(r.choice((30, 50, 80, 100, 150, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000)))
            case "area":
                return str(r.choice((300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000, 10000)))
            case "month":
                return str(r.randint(1, 12))
            case "day":
                return str(r.randint(1, 28))
            case "year":
                return str(r.randint(2019, 2024))
            case "months":
                if r.random() < 0.5:
                    return r.choice(("两", "三", "四", "五", "六", "八", "十"))
                return str(r.randint(2, 11))
            case "days":
                return str(r.randint(3, 60))
            case "tens":
                return r.choice(("二十", "三十", "四五十", "五十", "六七十", "八十", "上百", "20", "30", "50"))
            case "wage":
                return str(r.choice((5500, 6000, 6500, 7000, 7500, 8000, 9000)))
        raise KeyError(f"phrasebook uses unknown slot {{{slot}}}")

    def fill(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.value(m.group(1)), template)

    def pick(self, pool: Sequence[str]) -> str:
        return self.fill(self.rng.choice(pool))


def _noise(text: str, rng: random.Random) -> str:
    """Typos, punctuation and fillers as people really type (each with a small probability)."""
    if rng.random() < 0.18:
        present = [k for k in TYPOS if k in text]
        if present:
            k = rng.choice(present)
            text = text.replace(k, TYPOS[k], 1)
    roll = rng.random()
    if roll < 0.08:
        text = re.sub(r"[，。！？：；]", " ", text).strip()
    elif roll < 0.16:
        text = text.replace("，", ",").replace("？", "?").replace("！", "!")
    elif roll < 0.22:
        text = re.sub(r"[。！？]?$", rng.choice(("！！！", "？？", "。。。", "!!")), text)
    if rng.random() < 0.08:
        text = rng.choice(FILLERS) + text
    return text


def _finish(text: str) -> str:
    """Tidy joins: no doubled commas, end with a full stop when the last clause is open."""
    text = re.sub(r"，+", "，", text).strip("，")
    text = text.replace("，。", "。").replace("，？", "？").replace("：，", "：")
    if text and text[-1] not in "。！？!?~":
        text += "。"
    return text


def compose(subcategory: str, rng: random.Random, *, town_name: str | None = None,
            core: str | None = None, detail: str | None = None) -> str:
    """One appeal text about ``subcategory``; ``core``/``detail`` fix the problem (demo hotspots)."""
    return _compose(subcategory, rng, town_name=town_name, core=core, detail=detail)[0]


def _compose(subcategory: str, rng: random.Random, *, town_name: str | None = None,
             core: str | None = None, detail: str | None = None) -> tuple[str, int]:
    """The text and the index of the core sentence template it uses (-1 when ``core`` is given)."""
    book = phrasebook()
    shared, sub = book["shared"], book["subcategories"][subcategory]
    w = _Writer(rng, town_name)
    core_index = -1
    if core is not None:
        core_text = w.fill(core)
    else:
        core_index = rng.randrange(len(sub["core"]))
        core_text = w.fill(sub["core"][core_index])
    detail_text = ""
    if detail is not None:
        detail_text = w.fill(detail)
    elif rng.random() < 0.55:
        detail_text = w.pick(sub["detail"])
    distractor = ""
    if rng.random() < 0.35:
        others = [code for code in book["subcategories"] if code != subcategory]
        mention = rng.choice(book["subcategories"][rng.choice(others)]["mention"])
        distractor = rng.choice(shared["distractor_frames"]).replace("{mention}", mention)
    ask = w.pick(sub["ask"]) if rng.random() < 0.7 else w.pick(shared["asks"])
    if rng.random() < 0.15:
        body = _finish(core_text + detail_text + distractor)
        text = rng.choice(HOTLINE_FRAMES).format(body=body, ask=ask, company=w.company)
    else:
        parts = [w.pick(shared["openings"]), w.pick(shared["identities"]), w.pick(shared["backgrounds"])]
        order = [core_text, detail_text] if rng.random() < 0.7 else [detail_text, core_text]
        parts += order
        parts.insert(rng.choice((3, len(parts))), distractor)
        parts += [ask, w.pick(shared["closings"])]
        text = "".join(parts)
    return _noise(_finish(text), rng), core_index


def generate(taxonomy: Taxonomy | None = None, *, seed: int = DEFAULT_SEED,
             per_subcategory: int = DEFAULT_PER_SUBCATEGORY) -> list[Example]:
    """Generated examples: ``per_subcategory`` distinct texts for every active subcategory."""
    taxonomy = taxonomy or load_taxonomy()
    book = phrasebook()
    out: list[Example] = []
    for sub in taxonomy.active_subcategories():
        if sub.code not in book["subcategories"]:
            raise InvalidInput(f"the phrasebook has no entry for subcategory {sub.code!r}", where=str(PHRASEBOOK))
        rng = random.Random(f"{seed}:{sub.code}")
        seen: set[str] = set()
        attempts = 0
        while len(seen) < per_subcategory:
            attempts += 1
            if attempts > per_subcategory * 50:
                raise InvalidInput(f"cannot make {per_subcategory} distinct texts for {sub.code}; "
                                   "add phrasebook entries", where=str(PHRASEBOOK))
            text, core_index = _compose(sub.code, rng)
            if text in seen:
                continue
            seen.add(text)
            out.append(Example(f"g-{sub.code}-{len(seen):03d}-c{core_index:02d}", text, sub.category_code, sub.code,
                               sub.unit, "generated"))
    return out


def read_labelled_csv(path: Path, source: str, taxonomy: Taxonomy | None = None) -> list[Example]:
    """Read a labelled CSV (``text,category,subcategory[,unit][,id]``); errors name file and row.

    A missing unit is the subcategory's default unit; a missing id is ``<source>-<row>``.
    """
    taxonomy = taxonomy or load_taxonomy()
    try:
        raw = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InvalidInput("labelled examples file not found", where=str(path)) from exc
    reader = csv.DictReader(io.StringIO(raw))
    missing = {"text", "category", "subcategory"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"missing columns {sorted(missing)}", where=str(path))
    out = []
    ids: set[str] = set()
    for rowno, row in enumerate(reader, start=2):
        where = f"{path}: row {rowno}"
        text = (row.get("text") or "").strip()
        if not text:
            raise InvalidInput("empty text", where=where)
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(f"text longer than {MAX_TEXT_CHARS} characters", where=where)
        sub = taxonomy.check_labels((row.get("category") or "").strip(), (row.get("subcategory") or "").strip(),
                                    where=where)
        ident = (row.get("id") or "").strip() or f"{source[0]}-{rowno - 1:04d}"
        if ident in ids:
            raise InvalidInput(f"duplicate id {ident!r}", where=where)
        ids.add(ident)
        out.append(Example(ident, text, sub.category_code, sub.code, (row.get("unit") or "").strip() or sub.unit,
                           (row.get("source") or "").strip() or source, (row.get("kind") or "").strip()))
    return out


def build_examples(*, seed: int = DEFAULT_SEED, per_subcategory: int = DEFAULT_PER_SUBCATEGORY) -> list[Example]:
    """The content of ``examples.csv``: generated texts followed by the hand-written ones."""
    taxonomy = load_taxonomy()
    return generate(taxonomy, seed=seed, per_subcategory=per_subcategory) + read_labelled_csv(
        HANDWRITTEN_CSV, "handwritten", taxonomy)


def examples_csv_text(examples: Iterable[Example]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for e in examples:
        writer.writerow((e.id, e.text, e.category, e.subcategory, e.unit, e.source))
    return buf.getvalue()


def write_examples_csv(path: Path, examples: Iterable[Example]) -> int:
    """Write examples as UTF-8 CSV; returns the number of bytes written."""
    data = examples_csv_text(examples).encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)


def load_examples(path: Path = EXAMPLES_CSV) -> list[Example]:
    """The committed labelled examples (generated + hand-written)."""
    return read_labelled_csv(path, "examples")


def load_hard_examples(path: Path = HARD_CSV) -> list[Example]:
    """The hard held-out set (never used for training)."""
    return read_labelled_csv(path, "hard")


def fingerprint(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """SHA-256 (first 16 hex digits) of (text, category, subcategory, unit) rows, order-sensitive."""
    h = hashlib.sha256()
    for row in rows:
        h.update("\x1f".join(row).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Demo appeals: a year of texts with towns, channels and realistic timestamps.

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

#: Share of appeals per category in the demo year (policy and approvals dominate, as in the
#: district's report; transport and "other" are rare).
CATEGORY_WEIGHTS: dict[str, float] = {
    "policy": 0.22, "finance": 0.10, "talent": 0.10, "land": 0.08, "approval": 0.12,
    "utilities": 0.07, "market": 0.05, "tax": 0.08, "legal": 0.05, "labour": 0.07,
    "transport": 0.04, "other": 0.02,
}
#: Month multipliers per category: application season, tax settlement in May, summer power peak,
#: hiring after the Spring Festival.
SEASONS: dict[str, dict[int, float]] = {
    "policy": {3: 1.4, 4: 1.5, 5: 1.4, 6: 1.3, 9: 1.1},
    "tax": {5: 1.8, 6: 1.2, 1: 1.2},
    "utilities": {7: 1.8, 8: 1.8, 12: 1.3, 1: 1.3},
    "labour": {2: 1.8, 3: 1.6, 9: 1.2},
    "talent": {6: 1.4, 7: 1.5, 8: 1.3},
    "market": {10: 1.3, 11: 1.4},
}
#: Relative number of enterprises per town (the science-city streets have most of them).
TOWN_WEIGHTS: dict[str, float] = {
    "330110005": 1.5, "330110009": 0.9, "330110010": 1.0, "330110011": 1.3, "330110012": 2.0,
    "330110013": 1.0, "330110014": 0.7, "330110109": 0.5, "330110110": 0.6, "330110111": 0.2,
    "330110112": 0.2, "330110113": 0.3,
}
CHANNEL_WEIGHTS: dict[str, float] = {"portal": 0.42, "qr": 0.22, "phone": 0.18, "walk_in": 0.10, "open311": 0.08}

#: Recurring problems planted in the demo year so that the problem library has classes of cases:
#: (subcategory, town code or None for spread over towns, fixed core, fixed detail, share of year).
HOTSPOTS: tuple[tuple[str, str | None, str, str, float], ...] = (
    ("utilities.power", "330110012", "仓前科技园今天又停电了，这个月已经第三次，没有任何通知，", "生产线全部停下，",
     0.008),
    ("policy.payout", None, "去年的数字化改造补助公示结束半年了还没到账，", "问了经信局说在走流程，", 0.008),
    ("talent.housing", "330110005", "五常的人才公寓排队两年了还没轮到，员工住得很远，", "不少骨干因此离职，",
     0.006),
    ("transport.parking", "330110011", "闲林科创园停车位太少，员工车停在路边天天被贴罚单，", "园区物业说没办法，",
     0.005),
    ("tax.invoice", None, "数电发票授信额度不够，月底开不出票，客户不付款，", "打12366一直占线，", 0.006),
    ("labour.hiring", "330110110", "节后普工返岗率低，瓶窑工业功能区好几家厂都缺人，", "订单排到了五月，", 0.006),
    ("utilities.water", "330110010", "良渚新城园区水压太低，三楼以上经常没水，", "已经持续一周了，", 0.005),
    ("approval.construction", None, "厂房竣工验收排不上号，设备没法进场，", "每拖一天损失很大，", 0.004),
    ("transport.road", "330110013", "余杭塘路厂区门口路面塌陷，货车进出很危险，", "已经发生过两次事故，", 0.004),
    ("market.customs", None, "出口货柜在港口查验滞留，滞港费每天上千元，", "船期已经错过了，", 0.004),
)


def _working_day_flags(days: list[dt.date]) -> list[bool]:
    """Whether each day is a working day (chinesecalendar; weekends only where it has no data)."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - chinesecalendar is a declared dependency
        chinese_calendar = None
    flags = []
    for d in days:
        try:
            flags.append(bool(chinese_calendar.is_workday(d)) if chinese_calendar else d.weekday() < 5)
        except NotImplementedError:
            flags.append(d.weekday() < 5)
    return flags


def _spring_festival(year: int) -> dt.date | None:
    from shengxin.synth.calendar import SPRING_FESTIVAL

    return SPRING_FESTIVAL.get(year)


def day_weights(year: int) -> tuple[list[dt.date], list[float]]:
    """Every day of ``year`` with its relative appeal volume.

    Rule: a working day weighs 1, a weekend or public holiday 0.12; from 7 days before to 15 days
    after the Spring Festival volume drops to 35% (factories close, staff go home).
    """
    start = dt.date(year, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - start).days)]
    flags = _working_day_flags(days)
    sf = _spring_festival(year)
    weights = []
    for d, working in zip(days, flags):
        w = 1.0 if working else 0.12
        if sf is not None and -7 <= (d - sf).days <= 15:
            w *= 0.35
        weights.append(w)
    return days, weights


def _time_of_day(rng: random.Random, working: bool) -> dt.time:
    """Working days peak at 9-11 and 14-16; evenings and days off are flatter."""
    if working:
        roll = rng.random()
        if roll < 0.38:
            hour = rng.choice((9, 9, 10, 10, 11))
        elif roll < 0.72:
            hour = rng.choice((14, 14, 15, 15, 16))
        elif roll < 0.9:
            hour = rng.choice((8, 11, 13, 16, 17))
        else:
            hour = rng.choice((7, 12, 18, 19, 20, 21, 22))
    else:
        hour = rng.randint(8, 21)
    return dt.time(hour, rng.randint(0, 59), rng.randint(0, 59))


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def generate_demo_appeals(n: int = 4000, year: int = 2025, seed: int = 7) -> list[dict]:
    """About a year of demo appeals, sorted by submission time.

    Each dict has ``text``, ``category_code``, ``subcategory_code``, ``unit_code`` (the
    subcategory's default unit), ``town_code`` (the enterprise's town, also named in the text when
    the text names a town), ``channel`` (portal | qr | phone | walk_in | open311),
    ``submitted_at`` (timezone-aware **UTC**, ready for the operational store; the peaks are in
    local Asia/Shanghai working hours) and ``hotspot`` (index into
    :data:`HOTSPOTS` for planted recurring problems, else ``None``). The same arguments give the
    same list.
    """
    if n < 1 or n > 200_000:
        raise InvalidInput("n must be between 1 and 200000", where="n")
    if year < 2000 or year > 2100:
        raise InvalidInput("year must be between 2000 and 2100", where="year")
    taxonomy = load_taxonomy()
    rng = random.Random(f"demo:{seed}:{year}")
    subs_by_cat: dict[str, list[str]] = {}
    for s in taxonomy.active_subcategories():
        subs_by_cat.setdefault(s.category_code, []).append(s.code)
    town_names = dict(_towns())
    town_w = {code: TOWN_WEIGHTS.get(code, 1.0) for code in town_names}
    days, base = day_weights(year)
    working = _working_day_flags(days)
    month_of = [d.month for d in days]

    out: list[dict] = []

    def add(sub_code: str, town: str, day_index: int, text: str, hotspot: int | None) -> None:
        sub = taxonomy.subcategory(sub_code)
        local = dt.datetime.combine(days[day_index], _time_of_day(rng, working[day_index]), CHINA_TZ)
        at = local.astimezone(dt.timezone.utc)
        out.append({
            "text": text, "category_code": sub.category_code, "subcategory_code": sub.code,
            "unit_code": sub.unit, "town_code": town, "channel": _weighted(rng, CHANNEL_WEIGHTS),
            "submitted_at": at, "hotspot": hotspot,
        })

    # planted recurring problems: a burst of 3-8 weeks in one town (or spread over towns)
    for h, (sub_code, town, core, detail, share) in enumerate(HOTSPOTS):
        count = max(2, round(n * share))
        first = rng.randrange(0, max(1, len(days) - 60))
        span = rng.randint(21, 56)
        window = list(range(first, min(len(days), first + span)))
        for _ in range(count):
            t = town or _weighted(rng, town_w)
            di = rng.choices(window, weights=[base[i] for i in window])[0]
            add(sub_code, t, di, compose(sub_code, rng, town_name=town_names[t], core=core, detail=detail), h)

    # the rest: category by weight × season of the day's month
    remaining = n - len(out)
    for _ in range(max(0, remaining)):
        di = rng.choices(range(len(days)), weights=base)[0]
        month = month_of[di]
        cat_w = {c: w * SEASONS.get(c, {}).get(month, 1.0) for c, w in CATEGORY_WEIGHTS.items() if c in subs_by_cat}
        cat = _weighted(rng, cat_w)
        sub_code = rng.choice(subs_by_cat[cat])
        t = _weighted(rng, town_w)
        add(sub_code, t, di, compose(sub_code, rng, town_name=town_names[t]), None)

    out = out[:n]
    out.sort(key=lambda a: a["submitted_at"])
    return out
