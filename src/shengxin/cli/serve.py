"""``shengxin serve``: run the web platform."""

from __future__ import annotations

import typer

from shengxin.cli.common import console, load_settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Serve the web platform and API (Uvicorn)."""
    import uvicorn

    from shengxin.web.app import create_app

    settings = load_settings()
    app = create_app(settings)
    console.print(f"Shengxin 省心 at http://{host}:{port}  (API docs: /docs, health: /healthz)")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
