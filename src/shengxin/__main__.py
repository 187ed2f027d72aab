"""``python -m shengxin`` runs the command-line program."""

from shengxin.cli.main import app

app()
