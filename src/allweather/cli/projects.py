"""``allweather projects``: portfolio import and export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.portfolio.exporter import write_csv, write_geojson


@click.group()
def projects() -> None:
    """The project portfolio (项目台账)."""


@projects.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--strict", is_flag=True, help="Land nothing when any row is bad.")
@click.option(
    "--report",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a summary on stderr; json: the full report on stdout.",
)
@handle_errors
def import_command(path: Path, strict: bool, report_format: str) -> None:
    """Import projects and sites from a CSV, XLSX or GeoJSON file (docs/portfolio-import.md).

    Exit code 0 when every row landed, 1 when some were rejected, 2 when the file is unreadable.
    """
    platform = platform_from_env()
    try:
        report = platform.import_file(path, strict=strict)
    finally:
        platform.close()
    if report_format == "json":
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        for line in report.lines():
            click.echo(line, err=True)
    sys.exit(report.exit_code)


@projects.command("export")
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["csv", "geojson"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of stdout.",
)
@handle_errors
def export_command(out_format: str, out: Path | None) -> None:
    """Write the portfolio in the canonical columns (one row or feature per site)."""
    platform = platform_from_env()
    writer = write_csv if out_format == "csv" else write_geojson
    try:
        if out is None:
            count = writer(platform.portfolio.iter_projects(), sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as fh:
                count = writer(platform.portfolio.iter_projects(), fh)
    finally:
        platform.close()
    click.echo(f"已导出 exported {count} 个站点 sites", err=True)
