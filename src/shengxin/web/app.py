"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from shengxin import __version__
from shengxin.config import Settings, get_settings
from shengxin.db import make_engine
from shengxin.reference.district import load_district
from shengxin.web import errors
from shengxin.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware

STATIC_DIR = Path(__file__).resolve().parent / "ui" / "static"

#: npm package folder → URL under /static/vendor/
VENDOR_DIRS = {
    "htmx": "htmx.org/dist",
    "echarts": "echarts/dist",
    "swagger-ui": "swagger-ui-dist",
}


def create_app(settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    """Build the app. ``session_factory`` defaults to one bound to the configured database."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Shengxin 省心 · 企业综合服务平台 API",
        version=__version__,
        docs_url=None, redoc_url=None, openapi_url=None,  # served by web/api/docs.py with access checks
    )
    app.state.settings = settings
    app.state.district = load_district(settings.district_file)
    # Background workers (e.g. the appeals' intake writer) only on an engine the app owns, never
    # on a caller's session factory (tests share one connection).
    app.state.background_workers = session_factory is None
    if session_factory is None:
        if settings.sqlalchemy_url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        session_factory = sessionmaker(bind=make_engine(settings.sqlalchemy_url), expire_on_commit=False)
    app.state.sessionmaker = session_factory

    errors.install(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="shengxin_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)

    for name, sub in VENDOR_DIRS.items():
        directory = settings.frontend_dir / sub
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=str(directory), check_dir=False), name=f"vendor-{name}")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    for router in routers():
        app.include_router(router)
    return app


def routers() -> list:
    """Every router of the platform, in matching order. Importing the page modules also registers
    their navigation sections, so call this before reading ``web.nav.SECTIONS``."""
    from shengxin.web.api import accounts as api_accounts
    from shengxin.web.api import appeals as api_appeals
    from shengxin.web.api import audit as api_audit
    from shengxin.web.api import cockpit as api_cockpit
    from shengxin.web.api import docs as api_docs
    from shengxin.web.api import enterprises as api_enterprises
    from shengxin.web.api import open311 as api_open311
    from shengxin.web.api import policies as api_policies
    from shengxin.web.api import signals as api_signals
    from shengxin.web.api import system as api_system
    from shengxin.web.api import tags as api_tags
    from shengxin.web.api import payouts as api_payouts
    from shengxin.web.pages import admin as pages_admin
    from shengxin.web.pages import appeals as pages_appeals
    from shengxin.web.pages import appeals_library as pages_appeals_library
    from shengxin.web.pages import auth as pages_auth
    from shengxin.web.pages import cockpit as pages_cockpit
    from shengxin.web.pages import datahub as pages_datahub
    from shengxin.web.pages import enterprises as pages_enterprises
    from shengxin.web.pages import policies as pages_policies
    from shengxin.web.pages import signals as pages_signals
    from shengxin.web.pages import tags as pages_tags
    from shengxin.web.pages import payouts as pages_payouts
    from shengxin.web.pages import payouts_portal as pages_payouts_portal
    from shengxin.web.pages import payouts_public as pages_payouts_public

    return [api_appeals.router, api_appeals.workdays_router, api_open311.router,
                   pages_appeals_library.router,  # before pages_appeals: /appeals/{appeal_id} would shadow it
                   pages_appeals.router,
                   api_system.router, api_accounts.router, api_audit.router, api_docs.router,
                   api_enterprises.router, pages_auth.router, pages_admin.router, pages_enterprises.router,
                   pages_datahub.router, api_signals.router, api_cockpit.router, pages_signals.router,
                   pages_cockpit.router, api_tags.router, pages_tags.router, api_policies.router, pages_policies.router,
                   api_payouts.router, pages_payouts_portal.router, pages_payouts_public.router, pages_payouts.router]
