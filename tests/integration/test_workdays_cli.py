"""The working-day and deadline commands end to end (real program, real SQLite file)."""

from __future__ import annotations

import json

from tests.integration.test_cli_and_serve import base_env, run

OVERRIDE = """year: 2027
source: test schedule for the CLI test (not an official notice)
holidays:
  - {date: 2027-01-01, name: 元旦}
workdays:
  - {date: 2027-01-09, name: 测试调休}
"""


def deadline(env, start, n):
    proc = run(["appeals", "deadline", "--start", start, "--working-days", str(n), "--json"], env)
    return json.loads(proc.stdout)


def test_deadline_command_follows_the_calendar(tmp_path):
    env = base_env(tmp_path)
    assert deadline(env, "2025-01-24T10:00", 3) == {"due": "2025-02-05T23:59:59+08:00", "provisional": False}
    assert deadline(env, "2024-09-27T10:00:00+08:00", 3) == {"due": "2024-10-08T23:59:59+08:00", "provisional": False}
    # 2024-09-27 18:00 UTC is already the 28th in Shanghai (a Saturday): the 29th is a make-up Sunday.
    assert deadline(env, "2024-09-27T18:00:00+00:00", 1)["due"] == "2024-09-29T23:59:59+08:00"


def test_uncovered_year_is_provisional_until_an_override_is_loaded(tmp_path):
    env = base_env(tmp_path)
    before = deadline(env, "2026-12-31T10:00", 1)
    assert before == {"due": "2027-01-01T23:59:59+08:00", "provisional": True}
    run(["db", "upgrade"], env)
    cov = json.loads(run(["workdays", "coverage", "--year", "2027", "--json"], env).stdout)
    assert cov[0]["source"] == "provisional" and cov[0]["provisional"] is True
    (tmp_path / "2027.yaml").write_text(OVERRIDE, encoding="utf-8")
    loaded = json.loads(run(["workdays", "load", str(tmp_path / "2027.yaml"), "--json"], env).stdout)
    assert (loaded["year"], loaded["version"], loaded["holidays"], loaded["workdays"]) == (2027, 1, 1, 1)
    assert deadline(env, "2026-12-31T10:00", 1) == {"due": "2027-01-04T23:59:59+08:00", "provisional": False}
    assert deadline(env, "2027-01-08T10:00", 1)["due"] == "2027-01-09T23:59:59+08:00"  # the make-up Saturday
    cov = json.loads(run(["workdays", "coverage", "--year", "2027", "--json"], env).stdout)
    assert cov[0]["source"] == "override" and cov[0]["override_version"] == 1
    check = json.loads(run(["workdays", "check", "2027-01-01", "--json"], env).stdout)
    assert check == {"date": "2027-01-01", "working_day": False, "provisional": False}
    history = json.loads(run(["workdays", "history", "--json"], env).stdout)
    assert history[0]["year"] == 2027 and history[0]["loaded_by"] == "cli"


def test_bad_input_gets_a_clear_error(tmp_path):
    env = base_env(tmp_path)
    proc = run(["appeals", "deadline", "--start", "next tuesday", "--working-days", "3"], env, check=False)
    assert proc.returncode == 2 and "--start" in proc.stderr
    proc = run(["appeals", "deadline", "--start", "2025-01-01", "--working-days", "-1"], env, check=False)
    assert proc.returncode == 2 and "--working-days" in proc.stderr
    run(["db", "upgrade"], env)
    (tmp_path / "bad.yaml").write_text("year: 2027\nworkdays: [2027-01-05]\n", encoding="utf-8")
    proc = run(["workdays", "load", str(tmp_path / "bad.yaml")], env, check=False)
    assert proc.returncode == 1 and "Saturday or Sunday" in proc.stderr and "bad.yaml" in proc.stderr
    proc = run(["workdays", "load", str(tmp_path / "missing.yaml")], env, check=False)
    assert proc.returncode == 1 and "not found" in proc.stderr
