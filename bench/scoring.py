"""Scoring benchmark: a full recompute for 10,000 projects from 10,000,000 stored exposures, and
the incremental update for one new exposure; ours against pandas, the tool a risk analyst would
otherwise reach for.

Data (deterministic, seed fixed): 10,000 projects spread over the countries of the bundled
portfolio (so baselines are real), and 10,000,000 scoring inputs — one per (project, event
reaching it), the form in which the platform keeps exposures for scoring — with fine types,
grades and proximity drawn from the shares seen in the bundled replay data, event times over
the two years before "now", and distances within each reach.

- **ours, full**: ``SqlScoreStore.refresh(now)`` — the grouped decay sum in the database, the
  baselines, index, levels with hysteresis, 5 × 5 cell and explanation for every project and
  category, written to ``scores`` (60,000 rows) in one transaction.
- **pandas, full**: ``pandas.read_sql`` of the same inputs, the same contribution formula
  vectorised in NumPy, ``groupby(project, category).sum()`` — pressure only: no baseline, no
  levels, no explanation, nothing written. A lower bound for the peer.
- **ours, incremental**: one new exposure (an input row and its project marked, as the
  matcher writes them) then ``refresh_dirty`` — re-scoring that project; 200 times, each a
  different project, after 10 warm-up calls.

Goals (the issue): full ≤ 10 s, incremental ≤ 10 ms.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from allweather.domain.clock import FixedClock
from allweather.domain.scoring.method import LN2, ScoringMethod
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.platform import Platform
from allweather.reference import countries as reference
from allweather.settings import Settings
from allweather.store import score_inputs as inputs
from allweather.store.database import make_engine, upgrade
from allweather.store.tables import ALL_DATA_TABLES

PROJECTS = int(os.environ.get("ALLWEATHER_BENCH_SCORE_PROJECTS", "10000"))
EXPOSURES = int(os.environ.get("ALLWEATHER_BENCH_SCORE_EXPOSURES", "10000000"))
NOW = datetime(2024, 8, 19, 13, 0, tzinfo=UTC)
INCREMENTAL_RUNS = 200
COUNTRIES = ["AO", "PK", "ID", "LK", "ET", "CG", "LA", "KE", "BR", "KH", "VN", "CM", "BY", "SD"]
# Shares of fine types in the bundled replay data (UCDP, USGS, GDELT), rounded.
TYPES = [
    (FineType.ARMED_CLASH, 0.22),
    (FineType.EXPLOSION_REMOTE_VIOLENCE, 0.15),
    (FineType.VIOLENCE_AGAINST_CIVILIANS, 0.08),
    (FineType.PROTEST, 0.2),
    (FineType.RIOT, 0.05),
    (FineType.EARTHQUAKE, 0.1),
    (FineType.FLOOD, 0.05),
    (FineType.TROPICAL_CYCLONE, 0.03),
    (FineType.EPIDEMIC_OUTBREAK, 0.03),
    (FineType.KIDNAPPING, 0.02),
    (FineType.TERRORIST_ATTACK, 0.02),
    (FineType.STRIKE, 0.03),
    (FineType.COUP, 0.005),
    (FineType.SANCTIONS_LISTING, 0.005),
    (FineType.REGULATION_CHANGE, 0.01),
]


def _platform(path: Path) -> Platform:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    catalog = reference.country_catalog()
    upgrade(engine, catalog.all())
    with engine.begin() as conn:
        for table in ALL_DATA_TABLES:
            conn.execute(table.delete())
    return Platform.assemble(Settings(database_url=url), FixedClock(NOW), engine, catalog)


def _fill(path: Path) -> None:
    """Projects and inputs straight through sqlite3 (the setup is not what is measured)."""
    rnd = random.Random(20261121)  # noqa: S311 — reproducible bench data
    db = sqlite3.connect(path)
    stamp = NOW.isoformat(sep=" ")
    db.executemany(
        "INSERT INTO projects (id, code, name, country_code, kind, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'project', ?, ?)",
        [
            (i, f"B-{i:05d}", f"Bench project {i}", COUNTRIES[i % len(COUNTRIES)], stamp, stamp)
            for i in range(1, PROJECTS + 1)
        ],
    )
    types = [t for t, _ in TYPES]
    weights = [w for _, w in TYPES]
    grades = [g.value for g in SeverityGrade]
    span = 2 * 365 * 86400
    now = int(NOW.timestamp())
    per_project = EXPOSURES // PROJECTS

    def rows() -> Any:
        event = 0
        for p in range(1, PROJECTS + 1):
            drawn = rnd.choices(types, weights, k=per_project)
            batch = []
            for fine in drawn:
                event += 1
                kind = (
                    "country" if fine in (FineType.COUP, FineType.SANCTIONS_LISTING) else "radius"
                )
                reach = 50.0
                batch.append(
                    (
                        p,
                        fine.category.value,
                        fine.value,
                        event,
                        now - rnd.randrange(span),
                        rnd.choices(grades, (1, 3, 10, 30))[0],
                        kind,
                        None if kind == "country" else rnd.random() * reach,
                        None if kind == "country" else reach,
                        p,
                        now - span,
                    )
                )
            batch.sort(key=lambda r: (r[1], r[2], r[3]))
            yield from batch

    db.executemany("INSERT INTO score_inputs VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL,NULL)", rows())
    db.commit()
    db.close()


def _pandas_full(path: Path, method: ScoringMethod) -> tuple[float, int]:
    import pandas as pd

    start = time.perf_counter()
    db = sqlite3.connect(path)
    frame = pd.read_sql(
        "SELECT project_id, category, fine_type, occurred_at, severity, proximity, distance_km, "
        "reach_km FROM score_inputs",
        db,
    )
    db.close()
    sev = frame["severity"].map({g.value: method.severity[g] for g in SeverityGrade})
    lam = frame["fine_type"].map({t.value: method.decay_per_second(t) for t in FineType})
    prox = np.where(
        frame["proximity"] == "radius",
        np.exp(-LN2 / method.half_reach * frame["distance_km"] / frame["reach_km"]),
        np.where(frame["proximity"] == "country", 1.0, method.country_precision),
    )
    age = NOW.timestamp() - frame["occurred_at"]
    frame["c"] = sev * prox * np.exp(-lam * age)
    grouped = frame.groupby(["project_id", "category"])["c"].sum()
    return time.perf_counter() - start, len(grouped)


def run(workdir: Path) -> tuple[dict[str, Any], list[str], bool]:
    path = workdir / "scoring.db"
    platform = _platform(path)
    platform.close()
    start = time.perf_counter()
    _fill(path)
    setup = time.perf_counter() - start
    platform = _platform_open(path)
    store = platform.scores
    store.refresh(NOW)  # warm: page cache, baselines
    full_runs = []
    for minutes in (1, 2, 3):
        t0 = time.perf_counter()
        rows = store.refresh(NOW + timedelta(minutes=minutes))
        full_runs.append(time.perf_counter() - t0)
    full = statistics.median(full_runs)
    peer, groups = _pandas_full(path, store.method)

    now = int((NOW + timedelta(minutes=10)).timestamp())
    timings = []
    for i in range(INCREMENTAL_RUNS + 10):
        project = 1 + (i * 37) % PROJECTS
        row = {
            "project_id": project,
            "category": "political",
            "fine_type": "armed_clash",
            "event_id": EXPOSURES + 1 + i,
            "occurred_at": now,
            "severity": "II",
            "proximity": "radius",
            "distance_km": 4.0,
            "reach_km": 50.0,
            "site_id": project,
            "known_at": now,
        }
        t0 = time.perf_counter()
        with platform.engine.begin() as conn:
            inputs.add_rows(conn, [row], ignore_existing=False)
        store.refresh_dirty(NOW + timedelta(minutes=10))
        if i >= 10:
            timings.append(time.perf_counter() - t0)
    platform.close()
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p99 = timings[int(len(timings) * 0.99) - 1] * 1000
    results = {
        "projects": PROJECTS,
        "exposures": EXPOSURES,
        "setup_seconds": setup,
        "full_seconds": full,
        "full_runs": full_runs,
        "score_rows": rows,
        "pandas_pressure_seconds": peer,
        "pandas_groups": groups,
        "incremental_ms_p50": p50,
        "incremental_ms_p99": p99,
    }
    met = full <= 10 and p50 <= 10
    lines = [
        f"full recompute, {PROJECTS} projects / {EXPOSURES:,} exposures (SQLite)"
        f" {full:8.2f} s   {full / peer:.2f}x pandas read_sql+groupby"
        f" ({peer:.2f} s, pressure only)",
        f"incremental, one new exposure -> re-scored project"
        f"      p50 {p50:6.2f} ms, p99 {p99:6.2f} ms",
        f"  {rows} score rows written per recompute; setup {setup:.0f} s; goals full <= 10 s,"
        f" incremental <= 10 ms: {'met' if met else 'MISSED'}",
    ]
    return results, lines, met


def _platform_open(path: Path) -> Platform:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    catalog = reference.country_catalog()
    return Platform.assemble(Settings(database_url=url), FixedClock(NOW), engine, catalog)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _, report, ok = run(Path(tmp))
        print("\n".join(report))
        sys.exit(0 if ok else 1)
