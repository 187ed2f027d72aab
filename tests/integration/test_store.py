"""Operational store: migrations on SQLite and PostgreSQL, model/migration agreement, audit log."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from shengxin import migrate
from shengxin.audit.service import Actor, list_entries, record
from shengxin.db import make_engine
from shengxin.models import metadata
from tests.conftest import POSTGRES_URL, require_or_skip


def fresh_engine(backend: str, tmp_path):
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    require_or_skip(bool(POSTGRES_URL), "PostgreSQL not configured: set SHENGXIN_TEST_POSTGRES_URL")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS shengxin_migration_test"))
        conn.execute(text("CREATE DATABASE shengxin_migration_test"))
    admin.dispose()
    url = create_engine(POSTGRES_URL).url.set(database="shengxin_migration_test")
    return create_engine(url)


def test_upgrade_downgrade_upgrade(backend, tmp_path):
    engine = fresh_engine(backend, tmp_path)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"users", "audit_log", "login_attempts"} <= set(inspect(engine).get_table_names())
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert "users" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_audit_log_is_append_only(db_session):
    entry = record(db_session, Actor("tester", "district_admin"), "thing.do", "thing", "42", {"k": "v"})
    db_session.commit()
    entries, total = list_entries(db_session, actor="tester")
    assert total == 1 and entries[0].detail == {"k": "v"}
    for stmt in (f"UPDATE audit_log SET actor='x' WHERE id={entry.id}", f"DELETE FROM audit_log WHERE id={entry.id}"):
        nested = db_session.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            db_session.execute(text(stmt))
        nested.rollback()
