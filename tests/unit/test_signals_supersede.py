"""The supersede step: a relocation episode removes the same enterprise's overlapping layoff and
drop episodes — unless its only reasons are outside affiliates (``supersedes: false``), which say
the firm set up elsewhere while it still operates here."""

from __future__ import annotations

import numpy as np

from shengxin.signals import detectors as det
from shengxin.signals.catalogue import load_catalogue
from shengxin.signals.detect import _supersede


def _episodes(rows, start, end, reasons) -> det.Episodes:
    n = len(rows)
    nan = np.full(n, np.nan)
    return det.Episodes(row=np.asarray(rows), start=np.asarray(start), end=np.asarray(end),
                        detected=np.asarray(end), active=np.ones(n, dtype=bool), months=np.ones(n, dtype=np.int64),
                        value=nan, baseline=nan, change=nan, score=nan, lost=nan, ratio=nan,
                        reasons=np.asarray(reasons, dtype=object), detail=[None] * n)


def test_affiliate_only_relocation_does_not_supersede_the_firms_own_signals():
    catalogue = load_catalogue()
    # enterprise 0: affiliate reasons only; 1: affiliate + registry move; 2: registry move;
    # 3: headcount/electricity falling, but its layoff lies far outside the relocation window
    relocation = _episodes([0, 1, 2, 3], [20, 20, 20, 5], [22, 22, 22, 6], [
        "affiliate_outside_shared_shareholder,affiliate_outside_shared_contact",
        "affiliate_outside_shared_shareholder,registry_moved_out",
        "registry_moved_out",
        "headcount_and_electricity_falling"])
    layoff = _episodes([0, 1, 2, 3], [21, 21, 21, 30], [23, 23, 23, 31], ["headcount_drop"] * 4)
    drop = _episodes([0, 2], [19, 19], [21, 21], ["revenue_fell"] * 2)
    out = _supersede({"relocation_risk": relocation, "layoff": layoff, "revenue_drop": drop}, catalogue, 4)
    assert sorted(out["layoff"].row.tolist()) == [0, 3]
    assert out["revenue_drop"].row.tolist() == [0]
    assert len(out["relocation_risk"]) == 4  # the superseding signal itself is untouched
