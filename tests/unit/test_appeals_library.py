"""Problem library grouping: planted duplicates, category and time window, statistics, scale."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import pytest

from shengxin.appeals.classify.corpus import HOTSPOTS, generate_demo_appeals
from shengxin.appeals.library.grouping import group_similar
from shengxin.errors import InvalidInput

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.timezone.utc)

POWER = [
    "仓前科技园今天又停电了，这个月已经第三次，没有任何通知，生产线全部停下",
    "您好，仓前科技园又停电了！这个月第三次了，事先没有任何通知，我们生产线全部停下来了",
    "仓前科技园今天又停电了，这个月都第三次了，也没提前通知，生产线全部停下，请尽快处理",
    "我司在仓前科技园，今天又停电，一个月停了三次，都没通知，生产线全部停下，损失很大",
    "仓前科技园停电！这个月第三次，没有通知，整条生产线停下了，请供电部门处理",
]
#: The same problem in formal wording with synonyms (本月 for 这个月, 未 for 没有): TF-IDF over words
#: does not know synonyms, so it links only at a lower threshold.
FORMAL = "反映：仓前科技园今日再次停电，本月已是第三次，未提前通知，产线全停"
OTHERS = [
    ("tax", "出口退税申报后四十天还没退下来，影响资金周转"),
    ("talent", "员工想申请人才公寓，排了一年多都没排到"),
    ("finance", "银行突然要求提前还款，说要压降贷款"),
    ("legal", "客户拖欠货款一百八十万，打官司赢了也执行不到"),
    ("approval", "厂房竣工验收一直约不上，设备没法进场"),
    ("utilities", "园区宽带太慢了，影响视频会议，想拉专线"),
]


@lru_cache
def background() -> tuple[dict, ...]:
    """800 demo appeals of other categories: grouping fits its IDF on the records it groups, so
    planted texts are tested among realistic neighbours, not alone."""
    rows = [a for a in generate_demo_appeals(900, 2025, 3) if a["category_code"] != "utilities"][:800]
    return tuple({"id": f"bg{i}", "text": a["text"], "category": a["category_code"], "town_code": a["town_code"],
                  "submitted_at": a["submitted_at"]} for i, a in enumerate(rows))


def among(rows: list) -> list:
    return rows + list(background())


def only_planted(groups) -> list:
    return [g for g in groups if not any(r.startswith("bg") for r in g.record_ids)]


def rec(i, text, category="utilities", days=0, town="330110012"):
    return {"id": str(i), "text": text, "category": category, "town_code": town,
            "submitted_at": T0 + dt.timedelta(days=days)}


def planted():
    rows = [rec(i, t, days=i * 3) for i, t in enumerate(POWER)]
    rows += [rec(100 + i, t, c, days=i * 2, town="330110005") for i, (c, t) in enumerate(OTHERS)]
    return rows


def test_planted_duplicates_form_one_group():
    groups = only_planted(group_similar(among(planted()), window_days=90))
    assert len(groups) == 1
    g = groups[0]
    assert set(g.record_ids) == {str(i) for i in range(5)}
    assert g.count == 5 and g.category == "utilities" and g.key == "utilities:0"
    assert g.representative_id in g.record_ids and "停电" in g.representative_text
    assert "停电" in g.keywords or "仓前" in "".join(g.keywords)
    assert g.by_town == (("330110012", 5),)
    assert g.first_at == T0 and g.last_at == T0 + dt.timedelta(days=12)
    assert 0 < g.cohesion <= 1


def test_same_text_in_another_category_is_not_grouped():
    rows = [rec(i, POWER[i % 2], category="utilities" if i % 2 else "transport", days=i) for i in range(4)]
    groups = only_planted(group_similar(among(rows), window_days=90))
    assert sorted(g.category for g in groups) == ["transport", "utilities"]
    for g in groups:
        assert all(int(r) % 2 == (1 if g.category == "utilities" else 0) for r in g.record_ids)


def test_time_window_is_respected():
    rows = [rec(1, POWER[0], days=0), rec(2, POWER[1], days=200)]
    assert only_planted(group_similar(among(rows), window_days=90)) == []
    assert [g.record_ids for g in only_planted(group_similar(among(rows), window_days=365))] == [("1", "2")]


def test_a_recurring_problem_chains_through_links_within_the_window():
    rows = [rec(1, POWER[0], days=0), rec(2, POWER[1], days=60), rec(3, POWER[0], days=120)]
    assert group_similar(rows[::2], window_days=90) == []  # 1 and 3 alone are 120 days apart
    groups = group_similar(rows, window_days=90)
    assert [g.record_ids for g in groups] == [("1", "2", "3")]  # 1–2 and 2–3 are each within 90 days


def test_threshold_and_min_size():
    rows = among(planted())
    assert only_planted(group_similar(rows, window_days=90, min_size=6)) == []
    strict = only_planted(group_similar(rows, window_days=90, threshold=0.95))
    assert all(g.count < 5 for g in strict)
    rows.append(rec(50, FORMAL, days=20))
    (default,) = only_planted(group_similar(rows, window_days=90))
    assert "50" not in default.record_ids
    (loose,) = [g for g in group_similar(rows, window_days=90, threshold=0.25) if "0" in g.record_ids]
    assert "50" in loose.record_ids and {"0", "1", "2", "3", "4"} <= set(loose.record_ids)


def test_month_series_towns_and_trend():
    rows = [rec(1, POWER[0], days=0, town="330110012"), rec(2, POWER[1], days=70, town="330110005"),
            rec(3, POWER[4], days=75, town="330110005"), rec(4, POWER[0], days=80, town=None)]
    (g,) = group_similar(rows, window_days=90)
    assert g.by_month == (("2025-03", 1), ("2025-04", 0), ("2025-05", 3))
    assert g.by_town == (("330110005", 2), (None, 1), ("330110012", 1))
    assert g.trend == "rising"  # 3 in the last 30 days, 0 in the 30 before
    (quiet,) = group_similar(rows, window_days=90, as_of=T0 + dt.timedelta(days=400))
    assert quiet.trend == "quiet"
    (falling,) = group_similar(rows, window_days=90, as_of=T0 + dt.timedelta(days=105))
    assert falling.trend == "falling"


@dataclass
class AppealRow:
    id: int
    text: str
    category: str
    town_code: str | None
    submitted_at: dt.datetime


def test_objects_and_naive_datetimes_are_accepted():
    rows = [AppealRow(i, POWER[i % 2], "utilities", None, dt.datetime(2025, 5, 1) + dt.timedelta(days=i))
            for i in range(4)]
    (g,) = group_similar(rows)
    assert g.record_ids == ("0", "1", "2", "3") and g.first_at == dt.datetime(2025, 5, 1)


def test_bad_input_is_refused():
    with pytest.raises(InvalidInput) as err:
        group_similar([rec(1, "  ")])
    assert err.value.where == "records[0]"
    bad = rec(1, "停电")
    bad["submitted_at"] = "2025-01-01"
    with pytest.raises(InvalidInput, match="datetime"):
        group_similar([bad])
    with pytest.raises(InvalidInput, match="threshold"):
        group_similar(planted(), threshold=1.5)
    with pytest.raises(InvalidInput, match="window_days"):
        group_similar(planted(), window_days=0)
    assert group_similar([]) == []
    assert group_similar([rec(1, "的 了 吗"), rec(2, "的了")]) == []  # stopwords only


def test_a_year_of_demo_appeals_recovers_every_planted_hotspot():
    appeals = generate_demo_appeals(4000, 2025, 7)
    records = [{"id": str(i), "text": a["text"], "category": a["category_code"], "town_code": a["town_code"],
                "submitted_at": a["submitted_at"]} for i, a in enumerate(appeals)]
    groups = group_similar(records, window_days=90)
    hotspot_of = {str(i): a["hotspot"] for i, a in enumerate(appeals)}
    for h in range(len(HOTSPOTS)):
        members = {k for k, v in hotspot_of.items() if v == h}
        best = max(groups, key=lambda g: len(members & set(g.record_ids)))
        assert len(members & set(best.record_ids)) >= 0.9 * len(members), HOTSPOTS[h][2]
        # the group is about the hotspot: most of its appeals are planted ones
        assert Counter(hotspot_of[r] for r in best.record_ids)[h] >= 0.6 * best.count
    assert max(g.count for g in groups) < 100  # no giant catch-all group
