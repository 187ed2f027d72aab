"""The ``shengxin`` program: mounts one Typer sub-app per domain."""

from __future__ import annotations

import typer

from shengxin import __version__
from shengxin.cli import db, demo, enterprises, ingest, serve, synth, users, uscc
from shengxin.cli import appeals, workdays
from shengxin.cli import appeals_classify
from shengxin.cli import signals as signals_cli
from shengxin.cli import tags as tags_cli
from shengxin.cli import policies as policies_cli
from shengxin.cli import payouts as payouts_cli

app = typer.Typer(
    name="shengxin",
    help="Shengxin 省心 — enterprise service platform for district governments.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(demo.app, name="demo")
app.add_typer(uscc.app, name="uscc")
app.add_typer(synth.app, name="synth")
app.add_typer(ingest.app, name="ingest")
app.add_typer(enterprises.app, name="enterprises")
app.add_typer(workdays.app, name="workdays")
app.add_typer(appeals.app, name="appeals")
app.add_typer(appeals_classify.app, name="appeals-model")
app.add_typer(signals_cli.app, name="signals")
app.add_typer(tags_cli.app, name="tags")
app.add_typer(policies_cli.app, name="policies")
app.add_typer(payouts_cli.app, name="payouts")



@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
