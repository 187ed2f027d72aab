"""Request-scoped collaborators: settings, database session, district."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from shengxin.config import Settings
from shengxin.reference.district import District


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_district(request: Request) -> District:
    return request.app.state.district


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; handlers commit what they change, the rest is rolled back."""
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()
