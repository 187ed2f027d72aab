"""The ``shengxin tags`` commands as a user runs them: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.test_tags_population import (
    arrow_tables,
    make_population,
    publish_hub_snapshot,
)


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp_path / "data"))
    return env


def run(env, cwd, *args, expect: int = 0):
    proc = subprocess.run([sys.executable, "-m", "shengxin", "tags", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


def test_compute_explain_and_change_from_the_command_line(env, tmp_path):
    subprocess.run([sys.executable, "-m", "shengxin", "db", "upgrade"], env=env, check=True, capture_output=True)
    missing = run(env, tmp_path, "compute", expect=1)
    assert "ingest" in missing.stderr
    population = make_population(80, seed=8)
    publish_hub_snapshot(tmp_path / "data" / "analytic", arrow_tables(population))
    bad_date = run(env, tmp_path, "compute", "--as-of", "2026-13-01", expect=1)
    assert "--as-of" in bad_date.stderr

    out = json.loads(run(env, tmp_path, "compute", "--json").stdout)
    assert out["as_of"] == "2026-10-31" and out["tags"] >= 200 and out["created"]
    again = json.loads(run(env, tmp_path, "compute", "--json").stdout)
    assert again["snapshot_id"] == out["snapshot_id"] and not again["created"]

    listed = json.loads(run(env, tmp_path, "list", "--json").stdout)
    assert len(listed) == out["tags"] and all(t["count"] is not None for t in listed)
    members = json.loads(run(env, tmp_path, "members", "basic.active", "--limit", "3", "--json").stdout)
    uscc = members["enterprises"][0]["uscc"]
    mine = json.loads(run(env, tmp_path, "of", uscc, "--json").stdout)
    assert "basic.active" in {t["id"] for t in mine["tags"]}
    x = json.loads(run(env, tmp_path, "explain", uscc, "basic.active", "--json").stdout)
    assert x["value"] is True and x["explanation"]["kind"] == "compare" and x["lineage"]["available"]
    text = run(env, tmp_path, "explain", uscc, "basic.active").stdout
    assert "存续企业" in text and "数据来源" in text
    assert "不是有效的统一社会信用代码" in run(env, tmp_path, "explain", "12345", "basic.active", expect=1).stderr

    run(env, tmp_path, "template", "dynamics.revenue_10m_plus", "--out", "change.yaml", "--valid-from", "2020-01-01",
        "--definition", "sum(revenue, months=12) >= 2000万元")
    valid = json.loads(run(env, tmp_path, "validate", "change.yaml", "--json").stdout)
    assert valid == {"file": "change.yaml", "valid": True, "tags": ["dynamics.revenue_10m_plus"], "errors": []}
    preview = json.loads(run(env, tmp_path, "preview", "change.yaml", "--json").stdout)
    (t,) = [t for t in preview["tags"] if t["id"] == "dynamics.revenue_10m_plus"]
    assert t["version_after"] == 2 and t["gained"] == 0 and t["lost"] == t["before"] - t["after"]

    (tmp_path / "bad.yaml").write_text(
        "tags:\n  - id: test.x\n    name: x\n    category: basic\n    version: 1\n    valid_from: 2020-01-01\n"
        "    provenance: derived\n    description: x\n    definition: tag('test.y')\n"
        "  - id: test.y\n    name: y\n    category: basic\n    version: 1\n    valid_from: 2020-01-01\n"
        "    provenance: derived\n    description: y\n    definition: tag('test.x') and revenu > 0\n", encoding="utf-8")
    bad = run(env, tmp_path, "validate", "bad.yaml", expect=1)
    assert "cycle between tags: test.x → test.y → test.x" in bad.stderr
    assert "tag test.y (bad.yaml: tags[1].definition" in bad.stderr and "column 5" in bad.stderr

    upload = json.loads(run(env, tmp_path, "upload", "change.yaml", "--note", "调整", "--json").stdout)
    assert upload["status"] == "previewed"
    run(env, tmp_path, "activate", str(upload["id"]))
    recomputed = json.loads(run(env, tmp_path, "compute", "--json").stdout)
    assert recomputed["snapshot_id"] != out["snapshot_id"]
    changes = json.loads(run(env, tmp_path, "changes", "--json").stdout)
    assert [c["status"] for c in changes] == ["active"] and changes[0]["catalogue_version"] == 1
    assert "只有已预览的变更可以启用" in run(env, tmp_path, "activate", str(upload["id"]), expect=1).stderr
