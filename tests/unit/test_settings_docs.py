"""docs/settings.md lists every setting, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from shengxin.config import DEFAULT_SECRET_KEY, Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def documented() -> set[str]:
    return set(re.findall(r"^\|\s*`(SHENGXIN_[A-Z0-9_]+)`", DOC.read_text(encoding="utf-8"), re.M))


def test_every_setting_is_documented_and_every_documented_setting_exists():
    in_code = {f"SHENGXIN_{name.upper()}" for name in Settings.model_fields}
    assert documented() == in_code


def test_every_field_has_a_description():
    assert all(f.description for f in Settings.model_fields.values())


def test_default_secret_is_refused_outside_demo_mode():
    with pytest.raises(ValidationError, match="SHENGXIN_SECRET_KEY"):
        Settings(secret_key=DEFAULT_SECRET_KEY, demo=False)
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(secret_key="short", demo=False)
    assert Settings(secret_key=DEFAULT_SECRET_KEY, demo=True).demo


def test_sqlite_is_the_default_store(tmp_path):
    s = Settings(data_dir=tmp_path, demo=True)
    assert s.sqlalchemy_url == f"sqlite:///{(tmp_path / 'shengxin.sqlite3').resolve()}"
    assert Settings(demo=True, database_url="postgresql+psycopg://u@h/db").sqlalchemy_url.startswith("postgresql")
