"""``uscc check`` command, driven through Typer's CliRunner on the sub-app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shengxin.cli.uscc import app

runner = CliRunner()
VALID = "91330100716105852F"
VALID_2 = "914403001922038216"
BAD_CHECK = "91330100716105852A"
TOO_SHORT = "9133010071610585"


def test_json_reports_each_code_and_exits_1_when_any_is_invalid():
    result = runner.invoke(app, ["check", VALID, BAD_CHECK, TOO_SHORT, "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows] == [VALID, BAD_CHECK, TOO_SHORT]
    assert rows[0] == {"code": VALID, "valid": True, "expected_check": "F", "reason": None, "severity": "ok"}
    assert rows[1]["valid"] is False and rows[1]["expected_check"] == "F"
    assert rows[1]["severity"] == "warning"
    assert rows[2]["expected_check"] is None and "length is 16" in rows[2]["reason"]
    assert rows[2]["severity"] == "error"


def test_json_exits_0_when_all_are_valid():
    result = runner.invoke(app, ["check", "--json", VALID, VALID_2.lower()])
    assert result.exit_code == 0
    assert [r["valid"] for r in json.loads(result.stdout)] == [True, True]


def test_json_shows_the_normalised_code():
    result = runner.invoke(app, ["check", "--json", "\u300091330100716105852f"])
    assert json.loads(result.stdout)[0]["code"] == VALID


def test_table_output_in_chinese():
    result = runner.invoke(app, ["check", VALID, BAD_CHECK, TOO_SHORT])
    assert result.exit_code == 1
    out = result.stdout
    assert "统一社会信用代码校验结果" in out
    for text in (VALID, BAD_CHECK, TOO_SHORT, "有效", "校验码不符，待核查", "无效"):
        assert text in out


def test_table_exits_0_when_all_are_valid():
    result = runner.invoke(app, ["check", VALID])
    assert result.exit_code == 0
    assert VALID in result.stdout and "有效" in result.stdout


def test_user_text_is_not_read_as_rich_markup():
    result = runner.invoke(app, ["check", "[bold]X"])
    assert result.exit_code == 1
    assert "[BOLD]X" in result.stdout


def test_no_code_is_a_usage_error():
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2


def test_help_lists_the_check_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "check" in result.stdout
