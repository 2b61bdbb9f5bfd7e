"""Ingest benchmarks: GDELT-shaped files through parse → normalize → store, against pandas.

Files are built from the real GDELT 2.0 export in ../shared/data (1,544 rows), repeated with
fresh GLOBALEVENTIDs to one million rows:

- **shaped**: the real mix of CAMEO codes, so about 8 % of rows are risk events and stored;
- **all-risk**: only the rows whose code is a risk event, so every row is stored (the
  store-bound worst case).

Peers, in the same run, on the same file, into SQLite:

- pandas ``read_csv`` of the same 21 columns + ``to_sql`` of every row (the plain pipeline);
- the same with the CAMEO filter applied, so pandas stores exactly the rows we store.

The issue's target: at least 200,000 events/s into SQLite, and at least 5× the plain pandas
pipeline.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from allweather.connectors.gdelt_events.connector import V2_FIELDS, cameo_row
from allweather.connectors.registry import get_connector
from allweather.domain.clock import SystemClock
from allweather.pipeline.ingest import Ingestor
from allweather.reference.countries import country_catalog
from allweather.store.database import make_engine, upgrade
from allweather.store.sources import SqlSourceStore

SHARED_EXPORT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "gdelt2" / "20240819130000.export.csv"
)
ROWS = 1_000_000


def build(path: Path, risk_only: bool) -> Path:
    lines = SHARED_EXPORT.read_text(encoding="utf-8").splitlines()[1:]
    if risk_only:
        lines = [line for line in lines if cameo_row(line.split("\t")[26])]
    tails = [line.split("\t", 1)[1] for line in lines]
    with path.open("w", encoding="utf-8") as out:
        for n in range(ROWS):
            out.write(f"{5_000_000_000 + n}\t{tails[n % len(tails)]}\n")
    return path


def ours(path: Path, db: Path) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine, country_catalog().all())
    ingestor = Ingestor(SqlSourceStore(engine), SystemClock(), catalog=country_catalog())
    start = time.perf_counter()
    report = ingestor.ingest_file(get_connector("gdelt_events"), path)
    seconds = time.perf_counter() - start
    engine.dispose()
    return {
        "seconds": seconds,
        "read": report.read,
        "stored": report.counts.new,
        "skipped": report.skipped,
    }


def pandas(path: Path, db: Path, filtered: bool) -> dict[str, Any]:
    import pandas as pd

    columns = sorted(V2_FIELDS.values())
    start = time.perf_counter()
    frame = pd.read_csv(
        path, sep="\t", header=None, usecols=columns, dtype=str, quoting=3, keep_default_na=False
    )
    if filtered:
        codes = frame[V2_FIELDS["code"]].unique()
        risk = {code for code in codes if cameo_row(code)}
        frame = frame[frame[V2_FIELDS["code"]].isin(risk)]
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        frame.to_sql("events", conn, index=False, chunksize=20_000)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "stored": len(frame)}


def run(workdir: Path) -> tuple[dict[str, Any], list[str], bool]:
    """Run the ingest benchmarks; return (results, report lines, target met)."""
    results: dict[str, Any] = {}
    lines: list[str] = []
    met = True
    for name, risk_only in (("shaped", False), ("all-risk", True)):
        path = build(workdir / f"{name}.export.CSV", risk_only)
        mine = ours(path, workdir / f"ours-{name}.db")
        plain = pandas(path, workdir / f"pandas-{name}.db", filtered=False)
        same = pandas(path, workdir / f"pandas-filtered-{name}.db", filtered=True)
        rate = mine["read"] / mine["seconds"]
        results[name] = {"ours": mine, "pandas_plain": plain, "pandas_filtered": same}
        lines.append(
            f"GDELT {name:8} 1M rows -> SQLite (ours)        {mine['seconds']:8.3f} s   "
            f"{rate:,.0f} rows/s read, {mine['stored'] / mine['seconds']:,.0f} events/s stored "
            f"({mine['stored']:,} stored)"
        )
        lines.append(
            f"  vs pandas read_csv + to_sql, every row     {plain['seconds']:8.3f} s   "
            f"ours {plain['seconds'] / mine['seconds']:.1f}x faster"
        )
        lines.append(
            f"  vs pandas with the same CAMEO filter       {same['seconds']:8.3f} s   "
            f"ours {same['seconds'] / mine['seconds']:.1f}x faster ({same['stored']:,} stored)"
        )
        if name == "shaped":
            met &= rate >= 200_000 and plain["seconds"] / mine["seconds"] >= 5
        path.unlink()
    lines.append(
        "  targets (shaped file): >= 200,000 events/s and >= 5x pandas: "
        + ("met" if met else "MISSED")
    )
    return results, lines, met
