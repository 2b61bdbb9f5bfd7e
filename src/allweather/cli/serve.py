"""``allweather serve``: the API and web interface."""

from __future__ import annotations

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.platform import Platform


def run_server(host: str, port: int, platform: Platform | None = None) -> None:
    """Serve the app on host:port until interrupted (on ``platform``, or one from settings)."""
    import uvicorn

    from allweather.api.app import create_app

    app = create_app(platform or platform_from_env())
    click.echo(
        f"全天候 Allweather: http://{host}:{port}/  (API http://{host}:{port}/api/v1/)", err=True
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.command()
@click.option("--host", default=None, help="Bind address (default ALLWEATHER_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default ALLWEATHER_PORT or 8000).")
@handle_errors
def serve(host: str | None, port: int | None) -> None:
    """Serve the REST API (/api/v1) and the web interface (/)."""
    from allweather.settings import load_settings

    settings = load_settings()
    run_server(host or settings.host, port or settings.port)
