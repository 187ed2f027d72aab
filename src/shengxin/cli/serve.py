"""``shengxin serve``: run the web platform."""

from __future__ import annotations

import typer

from shengxin.cli.common import console, load_settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Uvicorn worker processes (one per core is a good start; see docs/appeals.md)."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log every request."),
) -> None:
    """Serve the web platform and API (Uvicorn); ``--workers N`` runs N processes on one port."""
    import uvicorn

    settings = load_settings()
    # Train (once, reproducibly) or load the appeal classifier before any worker starts, so that
    # workers load it from <data_dir>/models/ at start-up instead of training it on a request.
    from shengxin.appeals.classify import get_model

    get_model(settings.data_dir)
    console.print(f"Shengxin 省心 at http://{host}:{port}  (API docs: /docs, health: /healthz; "
                  f"{workers} worker{'s' if workers > 1 else ''})")
    common = {"host": host, "port": port, "log_level": "info", "proxy_headers": False, "access_log": access_log}
    if workers == 1:
        from shengxin.web.app import create_app

        uvicorn.run(create_app(settings), **common)
    else:
        # Each worker process builds its app from the same environment (SHENGXIN_* settings).
        uvicorn.run("shengxin.web.app:create_app", factory=True, workers=workers, **common)
