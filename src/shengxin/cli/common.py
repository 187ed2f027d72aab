"""Helpers shared by CLI modules: settings loading with readable errors, JSON output."""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console

from shengxin.config import Settings, get_settings
from shengxin.errors import DomainError

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    """Settings, or exit 2 with the reason (e.g. the secret key is unset outside demo mode)."""
    try:
        return get_settings()
    except ValidationError as exc:
        for e in exc.errors():
            err_console.print(f"[red]设置错误 / settings error:[/red] {e['msg']}")
        raise typer.Exit(2) from exc


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(exc: DomainError, code: int = 1) -> None:
    err_console.print(f"[red]错误 / error:[/red] {exc}")
    raise typer.Exit(code)
