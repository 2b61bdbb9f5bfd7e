"""``allweather demo``: the embedded platform on real bundled data, in one command."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import click

from allweather.cli.common import handle_errors
from allweather.cli.serve import run_server
from allweather.cli.sources import secrets_for
from allweather.connectors.registry import all_connectors
from allweather.domain.clock import Clock, ReplayClock, parse_instant
from allweather.errors import ConfigError
from allweather.logs import configure_logging
from allweather.pipeline.replay import Replayer, bundled_recordings
from allweather.pipeline.schedule import Scheduler
from allweather.platform import Platform, demo_portfolio_path, open_platform
from allweather.settings import load_settings
from allweather.warnings.dispatch import start_dispatcher

WARN_EVERY_S = 5.0
TICK_EVERY_S = 60.0

DEFAULT_START = "2016-01-01T00:00:00Z"
DEFAULT_SPEED = 43_200.0  # twelve platform hours per real second


@click.command()
@click.option("--host", default=None, help="Bind address (default ALLWEATHER_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default ALLWEATHER_PORT or 8000).")
@click.option(
    "--from", "start", default=DEFAULT_START, show_default=True,
    help="Where the replay clock starts (ISO 8601). Ignored when ALLWEATHER_NOW is set.",
)  # fmt: skip
@click.option(
    "--speed", type=float, default=DEFAULT_SPEED, show_default=True,
    help="Platform seconds per real second during the replay.",
)  # fmt: skip
@click.option(
    "--live", is_flag=True, help="No replay: the real clock, and enabled sources fetched live."
)
@click.option(
    "--no-serve", is_flag=True, help="Prepare the database and the replay history, then stop."
)
@handle_errors
def demo(
    host: str | None, port: int | None, start: str, speed: float, live: bool, no_serve: bool
) -> None:
    """Import the bundled real portfolio, replay real recorded events as a live stream on an
    accelerated clock, and serve the platform. With --live, watch the real sources instead."""
    settings = load_settings()
    configure_logging(settings.log_level)
    clock: Clock
    if live or settings.now is not None:
        clock = settings.clock()
    else:
        try:
            clock = ReplayClock(start=parse_instant(start), speed=speed)
        except ValueError as err:
            raise ConfigError(f"--from/--speed: {err}") from err
    platform = open_platform(settings, clock=clock)
    started = time.perf_counter()
    report = platform.import_file(demo_portfolio_path(), skip_if_unchanged=True)
    counts = platform.portfolio.counts()
    state = "已是最新 up to date" if report.skipped_as_unchanged else "已导入 imported"
    click.echo(
        f"演示项目组合 demo portfolio {state}: {counts['projects']} 个项目 projects, "
        f"{counts['sites']} 个站点 sites ({time.perf_counter() - started:.1f} s) "
        f"→ {settings.resolved_database_url}",
        err=True,
    )
    if report.rows_rejected:
        for line in report.lines()[:20]:
            click.echo(line, err=True)
    stop = threading.Event()
    worker = _live(platform, stop) if live else _replay(platform, stop)
    warner = _warnings(platform, stop)
    dispatcher, dispatch_stop = start_dispatcher(platform.dispatcher)
    try:
        if not no_serve:
            run_server(host or settings.host, port or settings.port, platform)
    finally:
        stop.set()
        dispatch_stop.set()
        worker.join(timeout=10)
        warner.join(timeout=10)
        dispatcher.join(timeout=10)
        platform.close()


def _replay(platform: Platform, stop: threading.Event) -> threading.Thread:
    """Land the recordings' history now, then stream the rest as the replay clock passes it."""
    started = time.perf_counter()
    if isinstance(platform.clock, ReplayClock):
        platform.clock.restart()  # the replay begins now, at --from, whatever set-up took
    replayer = Replayer(platform.sources, platform.clock, platform.catalog)
    recordings = bundled_recordings()
    total = replayer.load(recordings, {c.spec.id: c for c in all_connectors()})
    history = replayer.step()
    click.echo(
        f"回放 replay: {total} 个真实事件 real recorded events from "
        f"{', '.join(r.source for r in recordings)}; {history} before "
        f"{platform.clock.now():%Y-%m-%d} landed now, the rest arrive as the clock runs "
        f"({time.perf_counter() - started:.1f} s)",
        err=True,
    )
    thread = threading.Thread(target=replayer.run, args=(stop,), name="replay", daemon=True)
    thread.start()
    return thread


def _warnings(platform: Platform, stop: threading.Event) -> threading.Thread:
    """Keep scores and warnings in step with the replay: changed projects every few seconds,
    the periodic pass (decay, holds, stale sources, escalation) every minute."""

    def work() -> None:
        last_tick = 0.0
        while not stop.wait(WARN_EVERY_S):
            try:
                platform.after_chunk()
                if time.monotonic() - last_tick >= TICK_EVERY_S:
                    last_tick = time.monotonic()
                    report = platform.tick_warnings()
                    if report.actions:
                        click.echo(report.line(), err=True)
            except Exception:  # keep the demo serving; say what went wrong
                logging.getLogger(__name__).exception("预警 warnings pass failed")

    thread = threading.Thread(target=work, name="warnings", daemon=True)
    thread.start()
    return thread


def _live(platform: Platform, stop: threading.Event) -> threading.Thread:
    """Run the enabled sources on their cadence (allweather sources enable ID to add one)."""
    scheduler = Scheduler(platform.ingestor(), platform.sources, platform.clock, secrets_for)
    names = (
        ", ".join(c.spec.id for c in scheduler.enabled()) or "none (allweather sources enable ID)"
    )
    click.echo(f"实时 live: watching {names}", err=True)

    def work() -> None:
        asyncio.run(scheduler.run(stop=stop, log=lambda s: click.echo(s, err=True)))

    thread = threading.Thread(target=work, name="live", daemon=True)
    thread.start()
    return thread
