"""The appeals commands end to end: API keys, the sweep, statistics (real program, real SQLite)."""

from __future__ import annotations

import json

import httpx

from tests.integration.test_cli_and_serve import base_env, run


def test_keys_sweep_and_stats_commands(tmp_path):
    env = base_env(tmp_path)
    run(["db", "upgrade"], env)
    created = json.loads(run(["appeals", "keys", "create", "12345-hotline", "--json"], env).stdout)
    assert created["api_key"].startswith("sx_") and created["prefix"] == created["api_key"][:10]
    listed = json.loads(run(["appeals", "keys", "list", "--json"], env).stdout)
    assert listed[0]["name"] == "12345-hotline" and "api_key" not in listed[0]
    dup = run(["appeals", "keys", "create", "12345-hotline"], env, check=False)
    assert dup.returncode == 1 and "exists" in dup.stderr
    run(["appeals", "keys", "revoke", "12345-hotline"], env)
    assert json.loads(run(["appeals", "keys", "list", "--json"], env).stdout)[0]["revoked_at"]
    sweep = json.loads(run(["appeals", "sweep", "--json"], env).stdout)
    assert sweep["warnings"] == 0 and sweep["delivery"] == {"sent": 0, "failed": 0, "skipped": 0}
    stats = json.loads(run(["appeals", "stats", "--by", "month", "--json"], env).stdout)
    assert stats == []
    bad = run(["appeals", "stats", "--by", "colour"], env, check=False)
    assert bad.returncode == 2 and "--by" in bad.stderr
