"""Ground truth read off the realised series: sustained drops, their evidence months, the rules."""

from __future__ import annotations

import numpy as np

from shengxin.synth import realised


def flat(n_months: int = 30, level: float = 0.0) -> np.ndarray:
    return np.full((1, n_months), level)


def test_a_two_month_drop_of_30_percent_is_a_realised_drop():
    lq = flat()
    lq[0, 20:22] = np.log(0.65)  # 35 % below the level for two months, then back
    runs = realised.drop_runs(lq, first_col=0)
    assert list(runs.row) == [0] and list(runs.start) == [20] and list(runs.end) == [21]
    assert abs(runs.shortfall[0] - 0.35) < 1e-9


def test_one_month_shallow_months_and_young_firms_are_not_drops():
    one = flat()
    one[0, 20] = np.log(0.4)  # a one-off dip
    shallow = flat()
    shallow[0, 20:24] = np.log(0.8)  # 20 % below: not a drop
    broken = flat()
    broken[0, [20, 22]] = np.log(0.5)  # two deep months with a normal one between them
    lq = np.vstack([one, shallow, broken])
    assert len(realised.drop_runs(lq, first_col=0).row) == 0
    young = flat()
    young[0, 10:13] = np.log(0.5)
    assert len(realised.drop_runs(young, 0, established=np.asarray([12])).row) == 0
    assert len(realised.drop_runs(young, 0, established=np.asarray([10])).row) == 1


def test_a_drop_is_judged_against_the_level_before_it_and_ends_at_an_inactive_month():
    lq = flat()
    lq[0, 15:] = np.log(0.5)  # falls for good: the run lasts to the end, frozen at its start's level
    runs = realised.drop_runs(lq, first_col=0)
    assert list(runs.start) == [15] and list(runs.end) == [29]
    lq[0, 18] = np.nan  # a month without activity ends the run; the next month starts a new one
    runs = realised.drop_runs(lq, first_col=0)
    assert list(runs.start) == [15, 19] and list(runs.end) == [17, 29]


def test_planted_events_and_excluded_enterprises():
    lq = np.vstack([flat(), flat()])
    lq[:, 20:23] = np.log(0.5)
    runs = realised.drop_runs(lq, first_col=0, excluded=np.asarray([True, False]))
    assert list(runs.row) == [1]  # the first one's drop is a planted event already
    assert len(realised.drop_runs(lq, first_col=21).row) == 0  # starts before the window


def test_evidence_months_count_delivered_months_clearly_below_the_level():
    lq = flat()
    lq[0, 20:26] = np.log(np.asarray([0.5, 0.55, 0.7, 0.5, 0.5, 0.5]))  # the third month only 30 % down
    delivered = np.ones_like(lq, dtype=bool)
    delivered[0, 24] = False  # a month missing from the department's file
    months = realised.evidence_months(lq, delivered, np.asarray([0]), np.asarray([20]), np.asarray([25]), 0)
    assert list(months) == [4]  # 20, 21, 23, 25: at least 40 % below and delivered
    assert list(realised.evidence_months(lq, delivered, np.asarray([0]), np.asarray([20]), np.asarray([25]),
                                         23)) == [2]  # only the months inside the window count
    headcount = realised.evidence_months(lq, delivered, np.asarray([0]), np.asarray([20]), np.asarray([25]), 0,
                                         share=realised.HEADCOUNT_EVIDENCE_SHARE)
    assert list(headcount) == [5]


def test_log_ratio_ignores_inactive_and_non_positive_months():
    actual = np.asarray([[100.0, 0.0, 50.0, 80.0]])
    expected = np.asarray([[100.0, 100.0, 100.0, 100.0]])
    active = np.asarray([[True, True, True, False]])
    out = realised.log_ratio(actual, expected, active)
    assert out[0, 0] == 0.0 and np.isnan(out[0, 1]) and abs(out[0, 2] - np.log(0.5)) < 1e-12 and np.isnan(out[0, 3])
