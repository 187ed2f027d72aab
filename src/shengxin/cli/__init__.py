"""The ``shengxin`` command-line program: one Typer app, one module per domain."""
