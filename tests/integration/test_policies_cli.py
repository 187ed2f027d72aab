"""The policy library and ``shengxin policies`` in a subprocess: every shipped real policy and every
generated demo policy passes its own tests; the generator's shape; CLI exit codes and messages."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from shengxin.config import DEFAULT_DISTRICT_FILE
from shengxin.policies.compile import compile_text
from shengxin.policies.library import real_policy_files
from shengxin.policies.library.generate import dump, generate
from shengxin.policies.testing import TestReport, run_tests_many
from shengxin.reference.district import load_district

DISTRICT = load_district(DEFAULT_DISTRICT_FILE)


def test_the_library_passes_its_own_tests():
    texts = [t for _, t in real_policy_files()] + [dump(p) for p in generate()]
    policies = [compile_text(t, DISTRICT) for t in texts]
    reports = run_tests_many(policies)
    failing = {k: (v.problems() if isinstance(v, TestReport) else str(v)) for k, v in reports.items()
               if not isinstance(v, TestReport) or v.problems()}
    assert failing == {}
    assert sum(len(r.cases) for r in reports.values()) >= 2 * len(policies)


def test_generator_shape_and_determinism():
    policies = generate()
    assert len(policies) == 744 and len({p["id"] for p in policies}) == 744
    assert collections.Counter(p["delivery"] for p in policies)["no_application"] == 429
    assert set(p["level"] for p in policies) == {"national", "provincial", "city", "district"}
    assert all("inputs" not in p for p in policies if p["delivery"] == "no_application")
    assert [dump(p) for p in generate()[:20]] == [dump(p) for p in policies[:20]]
    budgets = [compile_text(dump(p), DISTRICT).definition.budget_fen for p in policies[:50]]
    assert all(100 * 10**6 <= b <= 15_000 * 10**6 for b in budgets)  # 100万元 … 1.5亿元


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "shengxin", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)


def test_cli_validate_test_save_publish(tmp_path):
    assert run(tmp_path, "db", "upgrade").returncode == 0
    assert run(tmp_path, "policies", "library", "lib").returncode == 0
    ok = run(tmp_path, "policies", "test", "lib", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["failed"] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text((tmp_path / "lib" / "YH68-49-2.yaml").read_text(encoding="utf-8")
                   .replace("op: is_true", "op: is_ture").replace("amount: 10万元", "amount: 100000"), encoding="utf-8")
    r = run(tmp_path, "policies", "validate", str(bad), "--json")
    assert r.returncode == 1
    assert any("is_ture" in p for p in json.loads(r.stdout)[0]["problems"])
    bad.write_text(bad.read_text(encoding="utf-8").replace("op: is_ture", "op: is_true"), encoding="utf-8")
    r = run(tmp_path, "policies", "validate", str(bad), "--json")
    assert r.returncode == 1 and any("没有写单位" in p for p in json.loads(r.stdout)[0]["problems"])
    assert run(tmp_path, "policies", "validate", "missing.yaml").returncode == 2
    assert run(tmp_path, "policies", "save", "lib/HZ-GRAD.yaml").returncode == 0
    assert run(tmp_path, "policies", "transition", "HZ-GRAD", "publish").returncode == 1  # must be in review first
    assert run(tmp_path, "policies", "transition", "HZ-GRAD", "submit").returncode == 0
    published = run(tmp_path, "policies", "transition", "HZ-GRAD", "publish", "--json")
    assert json.loads(published.stdout)["published_version"] == 1
    show = run(tmp_path, "policies", "show", "HZ-GRAD", "--sql", "--json")
    data = json.loads(show.stdout)
    assert data["conditions"][0]["text"].startswith("学历学位（申报） 属于")
    assert "SELECT" in data["sql"]["matrix"] and "'HZ-GRAD'" in data["sql"]["policy"]
    spark = json.loads(run(tmp_path, "policies", "show", "HZ-GRAD", "--sql", "--dialect", "spark", "--json").stdout)
    assert "SELECT" in spark["sql"]["policy"]
    no_data = run(tmp_path, "policies", "match")
    assert no_data.returncode == 1 and "shengxin ingest" in no_data.stderr
