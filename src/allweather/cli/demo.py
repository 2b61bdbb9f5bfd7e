"""``allweather demo``: the embedded platform on real bundled data, in one command."""

from __future__ import annotations

import time

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.cli.serve import run_server
from allweather.platform import demo_portfolio_path


@click.command()
@click.option("--host", default=None, help="Bind address (default ALLWEATHER_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default ALLWEATHER_PORT or 8000).")
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@handle_errors
def demo(host: str | None, port: int | None, no_serve: bool) -> None:
    """Create the database, import the bundled real portfolio, and serve the platform."""
    platform = platform_from_env()
    started = time.perf_counter()
    report = platform.import_file(demo_portfolio_path(), skip_if_unchanged=True)
    counts = platform.portfolio.counts()
    settings = platform.settings
    platform.close()
    took = time.perf_counter() - started
    state = "已是最新 up to date" if report.skipped_as_unchanged else "已导入 imported"
    click.echo(
        f"演示项目组合 demo portfolio {state}: {counts['projects']} 个项目 projects, "
        f"{counts['sites']} 个站点 sites ({took:.1f} s) → {settings.resolved_database_url}",
        err=True,
    )
    if report.rows_rejected:
        for line in report.lines()[:20]:
            click.echo(line, err=True)
    if not no_serve:
        run_server(host or settings.host, port or settings.port)
