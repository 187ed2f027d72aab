"""``shengxin db``: migrate the operational store."""

from __future__ import annotations

import typer

from shengxin import migrate
from shengxin.cli.common import console, load_settings
from shengxin.db import get_engine

app = typer.Typer(help="Operational store (SQLite by default, PostgreSQL via SHENGXIN_DATABASE_URL).")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision (default: newest).")) -> None:
    """Apply migrations up to REVISION."""
    settings = load_settings()
    migrate.upgrade(get_engine(), revision)
    console.print(f"已迁移到 / migrated to [bold]{migrate.current_revision(get_engine())}[/bold] "
                  f"({_safe_url(settings.sqlalchemy_url)})")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations down to REVISION."""
    load_settings()
    migrate.downgrade(get_engine(), revision)
    console.print(f"now at {migrate.current_revision(get_engine())}")


@app.command()
def current() -> None:
    """Print the applied revision and the newest available one."""
    load_settings()
    console.print(f"current: {migrate.current_revision(get_engine())}  head: {migrate.head_revision()}")
