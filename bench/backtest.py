"""Scoring backtest on the bundled real data, in full (``make bench``).

Does a higher score at the end of month m rank projects by the events that reach them in month
m+1? Two runs, each on a fresh SQLite platform whose clock is after the data:

1. 政治风险 political: UCDP GED 19.1 Syria, 2016-01 … 2019-12, against a 0.25° grid of virtual
   projects over Syria (the demo portfolio has no project there);
2. 自然风险 natural: USGS ComCat M5+, 2013-01 … 2023-12, against the real demo portfolio
   (3,319 projects).

Each is scored once and evaluated for three outcomes (``allweather.pipeline.backtest.Outcome``):
any event (as the platform stores them), a located event reaching the project (the headline),
and a located event within half its reach. The first half of the months trains the
calibration and the persistence rates; figures are on the second half. docs/scoring-backtest.md
explains the method and reads the figures.

Target (the issue): the score's test-half AUC beats persistence's on both, for the headline
outcome. Reported as measured, met or not.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from allweather.domain.clock import FixedClock
from allweather.domain.taxonomy import MofcomCategory
from allweather.pipeline.backtest import (
    UCDP_MONTHS,
    USGS_MONTHS,
    BacktestResult,
    Outcome,
    load_ucdp_syria,
    load_usgs,
    run_backtests,
)
from allweather.platform import Platform
from allweather.reference.countries import country_catalog
from allweather.settings import Settings
from allweather.store.database import make_engine, upgrade

GRID_DEG = 0.25
# After the last event of both recordings: the platform has seen all of them.
NOW = datetime(2024, 8, 19, 13, 0, tzinfo=UTC)
HEADLINE = Outcome.LOCATED


def fresh_platform(workdir: Path, name: str) -> Platform:
    url = f"sqlite:///{workdir / f'{name}.db'}"
    engine = make_engine(url)
    catalog = country_catalog()
    upgrade(engine, catalog.all())
    settings = Settings(database_url=url, var_dir=workdir / "var", now=NOW)
    return Platform.assemble(settings, FixedClock(NOW), engine, catalog)


def ucdp_syria(workdir: Path) -> tuple[float, list[BacktestResult]]:
    platform = fresh_platform(workdir, "ucdp-syria")
    start = time.perf_counter()
    ids = load_ucdp_syria(platform, GRID_DEG)
    loaded = time.perf_counter() - start
    results = run_backtests(
        platform,
        MofcomCategory.POLITICAL,
        *UCDP_MONTHS,
        project_ids=ids,
        label=f"UCDP GED Syria, virtual grid {GRID_DEG:g}°",
    )
    platform.close()
    return loaded, results


def usgs(workdir: Path) -> tuple[float, list[BacktestResult]]:
    platform = fresh_platform(workdir, "usgs")
    start = time.perf_counter()
    ids = load_usgs(platform)
    loaded = time.perf_counter() - start
    results = run_backtests(
        platform,
        MofcomCategory.NATURAL,
        *USGS_MONTHS,
        outcomes=(Outcome.LOCATED, Outcome.NEAR),  # every M5+ epicentre is located: ANY = LOCATED
        project_ids=ids,
        label="USGS ComCat M5+, demo portfolio",
    )
    platform.close()
    return loaded, results


def run(workdir: Path) -> tuple[dict[str, Any], list[str], bool]:
    """Run both backtests; return (results, report lines, target met)."""
    figures: dict[str, Any] = {}
    lines: list[str] = []
    met = True
    for name, runner in (("ucdp_syria", ucdp_syria), ("usgs", usgs)):
        loaded, results = runner(workdir)
        figures[name] = {
            "load_seconds": loaded,
            "outcomes": {r.outcome.value: r.figures() for r in results},
        }
        headline = next(r for r in results if r.outcome is HEADLINE)
        met &= headline.beats_persistence
        scoring = max(r.seconds for r in results)
        lines.append(
            f"{headline.label}: import + ingest {loaded:.1f} s, scoring {scoring:.1f} s "
            f"({headline.projects} projects × {headline.train_months + headline.test_months} "
            "months)"
        )
        for r in results:
            lines.extend(r.lines())
    lines.append(
        f"  target: the score's AUC beats persistence on both ({HEADLINE.label}): "
        + ("met" if met else "MISSED")
    )
    return figures, lines, met
