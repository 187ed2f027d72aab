"""``shengxin demo``: prepare the embedded demo (migrate, demo accounts, demo data)."""

from __future__ import annotations

import typer

from shengxin import migrate
from shengxin.accounts.demo import DEMO_PASSWORD, ensure_demo_accounts
from shengxin.cli.common import console, fail, load_settings
from shengxin.db import get_engine, session_scope
from shengxin.errors import DomainError
from shengxin.reference.district import load_district

app = typer.Typer(help="Embedded demo (requires SHENGXIN_DEMO=true).")


@app.command()
def setup() -> None:
    """Migrate the database and create the demo accounts (idempotent)."""
    settings = load_settings()
    migrate.upgrade(get_engine())
    try:
        with session_scope() as s:
            created = ensure_demo_accounts(s, load_district(settings.district_file), demo_mode=settings.demo)
    except DomainError as exc:
        fail(exc)
    console.print(f"演示账号 / demo accounts ready (password: {DEMO_PASSWORD}); newly created: {created or 'none'}")
