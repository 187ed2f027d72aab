"""Shared test fixtures.

Rules (see tests/README.md):
* unit tests (tests/unit) do no I/O beyond reading packaged data;
* integration tests use a real database — SQLite always, PostgreSQL when
  ``SHENGXIN_TEST_POSTGRES_URL`` is set (CI sets it; under ``CI=true`` its absence is a failure,
  elsewhere a visible skip) — a real HTTP client and no mocks of our own code;
* each database test runs inside a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from shengxin import migrate
from shengxin.config import Settings, get_settings
from shengxin.db import make_engine

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("SHENGXIN_TEST_POSTGRES_URL")
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    """A TCP port on loopback that is free right now (for servers the tests start)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip with a visible reason, except under CI where a missing dependency is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own data directory and non-demo settings with a real secret."""
    for key in list(os.environ):
        if key.startswith("SHENGXIN_") and key != "SHENGXIN_TEST_POSTGRES_URL":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SHENGXIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHENGXIN_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    from shengxin.db import reset_caches
    from shengxin.reference.district import load_district

    reset_caches()
    load_district.cache_clear()
    yield
    get_settings.cache_clear()
    reset_caches()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)


def _prepare_postgres(url: str):
    """A fresh database for this test session, named after the process, on the configured server.

    Several test sessions may share one server (developers, helpers, CI); each gets its own
    database, so none can drop or migrate another's tables under it.
    """
    import atexit

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"shengxin_t{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(create_engine(url).url.set(database=name))

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return engine


_MIGRATED: dict[str, object] = {}


def migrated_engine(backend: str, tmp_path_factory):
    """A migrated engine per backend, created once per test session."""
    if backend in _MIGRATED:
        return _MIGRATED[backend]
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
    else:
        require_or_skip(bool(POSTGRES_URL), "PostgreSQL not configured: set SHENGXIN_TEST_POSTGRES_URL")
        engine = _prepare_postgres(POSTGRES_URL)
    migrate.upgrade(engine)
    _MIGRATED[backend] = engine
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def engine(backend, tmp_path_factory):
    return migrated_engine(backend, tmp_path_factory)


@pytest.fixture
def db_session(engine):
    """A session inside an outer transaction that is rolled back after the test.

    Code under test may call ``commit()``: it releases a savepoint, never the outer transaction.
    """
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    session: Session = factory()
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def session_factory(engine):
    """A sessionmaker whose sessions all share one rolled-back outer transaction (for the web app)."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield factory
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
