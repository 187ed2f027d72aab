"""``shengxin users``: create and list accounts."""

from __future__ import annotations

import typer
from rich.table import Table

from shengxin.accounts.roles import ROLE_LABELS, Role
from shengxin.accounts.service import UserCreate, create_user, list_users, set_password
from shengxin.audit.service import Actor
from shengxin.cli.common import console, fail, load_settings, print_json
from shengxin.db import session_scope
from shengxin.errors import DomainError
from shengxin.reference.district import load_district

app = typer.Typer(help="User accounts.")
CLI_ACTOR = Actor("cli", "district_admin")


@app.command()
def create(
    username: str = typer.Argument(...),
    role: Role = typer.Option(..., "--role", help="enterprise | town_staff | department_staff | district_admin | auditor"),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="At least 8 characters (prompted when omitted)."),
    display_name: str = typer.Option("", "--name", help="Display name."),
    uscc: str = typer.Option(None, "--uscc", help="Enterprise users: the enterprise's USCC."),
    town: str = typer.Option(None, "--town", help="Town staff: the town's NBS code."),
    department: str = typer.Option(None, "--department", help="Department staff: the department code."),
) -> None:
    """Create a user (password hashed with argon2)."""
    settings = load_settings()
    try:
        with session_scope() as s:
            p = create_user(s, UserCreate(username, password, display_name, role, uscc, town, department),
                            load_district(settings.district_file), CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    console.print(f"已创建用户 / created [bold]{p.username}[/bold] ({ROLE_LABELS[p.role]})")


@app.command("set-password")
def set_password_cmd(
    username: str,
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set a user's password."""
    load_settings()
    try:
        with session_scope() as s:
            set_password(s, username, password, CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    console.print("已更新 / updated")


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List users."""
    load_settings()
    with session_scope() as s:
        users = list_users(s)
    if as_json:
        print_json([{"username": u.username, "display_name": u.display_name, "role": u.role.value,
                     "uscc": u.uscc, "town_code": u.town_code, "department_code": u.department_code}
                    for u in users])
        return
    table = Table("username", "name", "role", "scope")
    for u in users:
        table.add_row(u.username, u.display_name, ROLE_LABELS[u.role], u.uscc or u.town_code or u.department_code or "")
    console.print(table)
