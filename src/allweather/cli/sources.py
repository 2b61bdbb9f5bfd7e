"""``allweather ingest``, ``run``, ``sources``, ``events export`` and ``quarantine list``."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from allweather.cli.common import handle_errors, platform_from_env
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import all_connectors, get_connector
from allweather.domain.clock import parse_instant
from allweather.errors import ConfigError
from allweather.pipeline.export import EXPORT_FIELDS, normalized
from allweather.pipeline.health import SourceHealth, assess
from allweather.pipeline.schedule import Scheduler
from allweather.warnings.dispatch import start_dispatcher


def secrets_for(source_id: str) -> dict[str, str]:
    """The connector's secrets from the environment (names in its spec, values never in files)."""
    spec = get_connector(source_id).spec
    return {name: os.environ[env] for name, env in spec.secrets.items() if env in os.environ}


@click.command()
@click.argument("source")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Ingest a recorded file instead of fetching live.",
)
@click.option(
    "--since",
    help="Live only: backfill from this ISO 8601 instant (sources that support it, e.g. GDELT).",
)
@handle_errors
def ingest(source: str, path: Path | None, since: str | None) -> None:
    """Ingest SOURCE once: from --file offline, or live from the source's URL.

    Prints read, new, updated, deleted and quarantined counts to stderr. Exit code 0 when every
    record landed, 1 when some were quarantined (or a live fetch failed), 2 for an unreadable
    file or an unknown source.
    """
    connector = get_connector(source)
    if since is not None and path is not None:
        raise click.UsageError("--since backfills a live source; it cannot be used with --file")
    try:
        backfill = parse_instant(since) if since else None
    except ValueError as err:
        raise click.UsageError(f"--since: {err}") from err
    platform = platform_from_env()
    try:
        ingestor = platform.ingestor()
        if path is not None:
            report = ingestor.ingest_file(connector, path)
        else:

            async def live() -> Any:
                http = HttpClient(now=platform.clock.now)
                try:
                    return await ingestor.ingest_live(
                        connector, http, secrets_for(source), since=backfill
                    )
                finally:
                    await http.aclose()

            report = asyncio.run(live())
        sent = platform.dispatcher.run_once()  # the warnings this raised go out now
    finally:
        platform.close()
    click.echo(report.line(), err=True)
    if sent.sent or sent.failed:
        click.echo(sent.line(), err=True)
    if report.error:
        click.echo(f"错误 error: {report.error}", err=True)
    sys.exit(report.exit_code)


@click.command()
@click.option("--source", "only", multiple=True, help="Run only these sources (repeatable).")
@click.option("--once", is_flag=True, help="Run every due source once, then stop.")
@handle_errors
def run(only: tuple[str, ...], once: bool) -> None:
    """Run every enabled source on its cadence until stopped (Ctrl-C stops cleanly)."""
    platform = platform_from_env()
    connectors = [get_connector(s) for s in only] if only else None
    scheduler = Scheduler(
        platform.ingestor(),
        platform.sources,
        platform.clock,
        secrets_for,
        periodic=platform.tick_warnings,
    )
    thread, stop = start_dispatcher(platform.dispatcher)
    try:
        asyncio.run(
            scheduler.run(connectors, once=once, log=lambda line: click.echo(line, err=True))
        )
        if once:
            platform.dispatcher.run_once()
    except KeyboardInterrupt:
        click.echo("已停止 stopped", err=True)
    finally:
        stop.set()
        thread.join(5)
        platform.close()


def _age(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def health_table() -> list[SourceHealth]:
    platform = platform_from_env()
    try:
        states = platform.sources.states()
        runs = platform.sources.last_runs()
        now = platform.clock.now()
        return [
            assess(c.spec, states.get(c.spec.id), runs.get(c.spec.id), now)
            for c in all_connectors()
        ]
    finally:
        platform.close()


@click.group(invoke_without_command=True)
@click.option("--format", "out_format", type=click.Choice(["table", "json"]), default="table")
@click.pass_context
@handle_errors
def sources(ctx: click.Context, out_format: str) -> None:
    """The health of every source: last success, lag, volume, stale (silent > 2 × cadence)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = health_table()
    if out_format == "json":
        click.echo(
            json.dumps(
                [
                    {
                        **h.__dict__,
                        "status": h.status,
                        "cadence": h.cadence.total_seconds(),
                        "lag": h.lag.total_seconds() if h.lag else None,
                        "silent_for": h.silent_for.total_seconds() if h.silent_for else None,
                    }
                    for h in rows
                ],
                default=str,
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    header = (
        "status",
        "source",
        "enabled",
        "cadence",
        "last success",
        "silent",
        "lag",
        "read",
        "quar.",
        "volume",
    )
    lines = [header]
    for h in rows:
        lines.append(
            (
                h.status.upper() if h.stale else h.status,
                h.source,
                "yes" if h.enabled else "no",
                _age(h.cadence),
                h.last_success_at.strftime("%Y-%m-%d %H:%M") if h.last_success_at else "never",
                _age(h.silent_for),
                _age(h.lag),
                "-" if h.last_read is None else str(h.last_read),
                "-" if h.last_quarantined is None else str(h.last_quarantined),
                h.volume,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for row in lines:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _set_enabled(source: str, enabled: bool) -> None:
    get_connector(source)
    platform = platform_from_env()
    try:
        state = platform.sources.state(source)
        state.enabled = enabled
        platform.sources.save_state(state)
    finally:
        platform.close()
    click.echo(f"{source}: {'已启用 enabled' if enabled else '已停用 disabled'}", err=True)


@sources.command("enable")
@click.argument("source")
@handle_errors
def enable(source: str) -> None:
    """Watch SOURCE live under `allweather run`."""
    _set_enabled(source, True)


@sources.command("disable")
@click.argument("source")
@handle_errors
def disable(source: str) -> None:
    """Stop watching SOURCE under `allweather run`."""
    _set_enabled(source, False)


@click.group()
def events() -> None:
    """Stored risk events."""


@events.command("export")
@click.option(
    "--format", "out_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--source", help="Only this source.")
@click.option("--since", help="Only events at or after this ISO 8601 instant.")
@click.option("--until", help="Only events at or before this ISO 8601 instant.")
@handle_errors
def export_events(
    out_format: str, source: str | None, since: str | None, until: str | None
) -> None:
    """Write stored events with their normalized fields to stdout, oldest first."""
    try:
        start = parse_instant(since) if since else None
        end = parse_instant(until) if until else None
    except ValueError as err:
        raise ConfigError(str(err)) from err
    numbers = {c.spec.number: c.spec.id for c in all_connectors()}
    number = get_connector(source).spec.number if source else None
    platform = platform_from_env()
    count = 0
    try:
        rows = normalized(platform.sources.iter_events(number, start, end), numbers)
        if out_format == "jsonl":
            for record in rows:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(EXPORT_FIELDS), lineterminator="\n")
            writer.writeheader()
            for record in rows:
                record["details"] = json.dumps(record["details"], ensure_ascii=False)
                writer.writerow({k: "" if v is None else v for k, v in record.items()})
                count += 1
    finally:
        platform.close()
    click.echo(f"已导出 exported {count} 个事件 events", err=True)


@click.group()
def quarantine() -> None:
    """Records that could not be normalized, with the reason."""


@quarantine.command("list")
@click.option("--source", help="Only this source.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "out_format", type=click.Choice(["text", "jsonl"]), default="text")
@handle_errors
def quarantine_list(source: str | None, limit: int, out_format: str) -> None:
    """Show quarantined records, newest first."""
    if source:
        get_connector(source)
    platform = platform_from_env()
    try:
        records = platform.sources.quarantined(source, limit)
    finally:
        platform.close()
    for r in records:
        if out_format == "jsonl":
            click.echo(
                json.dumps(
                    {**r.__dict__, "created_at": r.created_at.isoformat()}, ensure_ascii=False
                )
            )
        else:
            field = f" [{r.field}]" if r.field else ""
            click.echo(f"#{r.id} {r.source} run {r.run_id} {r.ref}{field}: {r.reason}")
            click.echo(f"    {r.raw[:200]}")
    if not records:
        click.echo("隔离区为空 quarantine is empty", err=True)
