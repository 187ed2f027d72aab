"""The vectorised robust statistics, checked against plain per-row computations."""

from __future__ import annotations

import numpy as np
import pytest

from shengxin.signals import robust
from shengxin.signals.detectors import peer_groups


@pytest.fixture
def matrix():
    rng = np.random.default_rng(3)
    m = rng.normal(size=(40, 30))
    m[rng.random(m.shape) < 0.2] = np.nan
    m[5] = np.nan
    return m


def test_trailing_median_matches_a_plain_loop(matrix):
    window, lag, min_count = 12, 2, 5
    got = robust.trailing_median(matrix, window, lag, min_count)
    for i in range(matrix.shape[0]):
        for t in range(matrix.shape[1]):
            lo, hi = t - lag - window + 1, t - lag
            values = matrix[i, max(lo, 0): hi + 1] if hi >= 0 else np.array([])
            values = values[~np.isnan(values)]
            expected = np.median(values) if len(values) >= min_count else np.nan
            assert np.isclose(got[i, t], expected, equal_nan=True), (i, t)


def test_nanmedian_rows(matrix):
    got = robust.nanmedian_rows(matrix)
    with np.errstate(all="ignore"):
        assert np.allclose(got, [np.nanmedian(r) if np.isfinite(r).any() else np.nan for r in matrix], equal_nan=True)


def test_previous_observed():
    observed = np.array([[True, False, False, True, True], [False, True, False, False, False]])
    assert robust.previous_observed(observed).tolist() == [[-1, 0, 0, 0, 3], [-1, -1, 1, 1, 1]]


def test_runs_skip_short_gaps_and_break_on_long_ones():
    flag = np.array([[1, 1, 0, 1, 1, 1, 0, 0, 0, 1]], dtype=bool)
    observed = np.array([[1, 1, 0, 1, 1, 1, 0, 0, 0, 1]], dtype=bool)  # months 2, 6-8 missing
    run_id, within, start = robust.label_runs(flag, observed, max_gap=1)
    assert run_id[0].tolist() == [1, 1, 0, 1, 1, 1, 0, 0, 0, 2]  # a 1-month gap joins, a 3-month gap splits
    assert within[0].tolist() == [1, 2, 0, 3, 4, 5, 0, 0, 0, 1]
    assert start[0].tolist() == [0, 0, -1, 0, 0, 0, -1, -1, -1, 9]
    observed[0, 2] = True  # an observed month that is not flagged ends the run
    run_id, within, _ = robust.label_runs(flag, observed, max_gap=1)
    assert run_id[0].tolist() == [1, 1, 0, 2, 2, 2, 0, 0, 0, 3]


def test_robust_scale_ignores_a_level_shift():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.1, (200, 36))
    shifted = noise.copy()
    shifted[:, 18:] -= 1.0  # a 63 % fall half way
    plain = robust.robust_scale(noise, floor=0.0)
    assert np.median(plain) == pytest.approx(0.1, rel=0.15)
    assert np.median(robust.robust_scale(shifted, floor=0.0)) == pytest.approx(np.median(plain), rel=0.1)
    assert np.isnan(robust.robust_scale(np.full((1, 3), 1.0), floor=0.05)[0])  # too few changes to tell


def test_group_column_medians():
    values = np.array([[1.0, 10.0], [3.0, np.nan], [5.0, 30.0], [100.0, 100.0]])
    groups = np.array([0, 0, 0, 1])
    eligible = np.array([True, True, True, False])
    out = robust.group_column_medians(values, groups, eligible, max_members=10)
    assert out[0].tolist() == [3.0, 20.0] and np.isnan(out[1]).all()


def test_peer_groups_fall_back_to_wider_levels():
    codes = np.asarray(["6513"] * 40 + ["6511"] * 5 + ["3411"] * 3 + ["9999"] * 2, dtype=object)
    groups = peer_groups(codes, np.ones(len(codes), dtype=bool), min_peers=30)
    assert len(set(groups[:45])) == 1  # 651x together (group 651 has 45 members)
    assert groups[45] != groups[0] and groups[45] == groups[48]  # small and unknown codes: the district
