"""Portfolio benchmarks: Allweather against GeoPandas, in one run (``make bench``).

Reported as ratios (ours / peer; below 1 means faster than the peer).

1. Portfolio import of the bundled real portfolio (3,319 projects) into a fresh SQLite database:
   read + validate + place every site in its country + idempotent upsert, against GeoPandas
   (pyogrio/GDAL) reading the same file, joining it to the same country boundaries (sjoin) and
   writing a GeoPackage (SQLite) — the usual do-it-yourself pipeline, which validates nothing
   and cannot update in place.
2. Re-import of the unchanged portfolio (the compare-and-skip path; the demo's content-hash
   shortcut is bypassed on purpose).
3. Country placement of every site's anchor point: our STRtree catalog against GeoPandas sjoin.
4. With ALLWEATHER_TEST_DATABASE_URL set: the same import into PostgreSQL/PostGIS.

The issue target: the whole bundled portfolio imports in under 10 s on SQLite.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from allweather.domain.clock import SystemClock
from allweather.platform import Platform, demo_portfolio_path
from allweather.portfolio.readers import read_table
from allweather.reference import countries as reference
from allweather.settings import Settings
from allweather.store.database import make_engine, upgrade
from allweather.store.tables import ALL_DATA_TABLES

REPEATS = 3


def timed(fn: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """Median wall time of ``fn`` over ``repeats`` runs, and its last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def fresh_platform(url: str) -> Platform:
    engine = make_engine(url)
    catalog = reference.country_catalog()
    upgrade(engine, catalog.all())
    with engine.begin() as conn:
        for table in ALL_DATA_TABLES:
            conn.execute(table.delete())
    return Platform.assemble(Settings(database_url=url), SystemClock(), engine, catalog)


def ours_cold_import(workdir: Path, url: str | None = None) -> dict[str, Any]:
    """Fresh database, fresh process state (boundaries not yet loaded): the first-run cost."""
    counter = iter(range(1000))

    def run() -> Any:
        target = url or f"sqlite:///{workdir / f'ours-{next(counter)}.db'}"
        platform = fresh_platform(target)
        reference.country_catalog.cache_clear()  # count the boundary load, as a new process would
        platform.catalog = reference.country_catalog()
        start = time.perf_counter()
        report = platform.importer().run(read_table(demo_portfolio_path()))
        took = time.perf_counter() - start
        counts = platform.portfolio.counts()
        platform.close()
        return took, report, counts

    runs = [run() for _ in range(REPEATS)]
    took = statistics.median(r[0] for r in runs)
    _, report, counts = runs[-1]
    return {
        "seconds": took,
        "rows": report.rows_total,
        "rejected": report.rows_rejected,
        "projects": counts["projects"],
        "sites": counts["sites"],
    }


def ours_reimport(workdir: Path) -> dict[str, Any]:
    platform = fresh_platform(f"sqlite:///{workdir / 'reimport.db'}")
    table = read_table(demo_portfolio_path())
    platform.importer().run(table)
    seconds, report = timed(lambda: platform.importer().run(read_table(demo_portfolio_path())))
    counts = platform.portfolio.counts()
    platform.close()
    return {
        "seconds": seconds,
        "unchanged": report.changes.projects_unchanged if report.changes else None,
        "projects": counts["projects"],
        "sites": counts["sites"],
    }


def peer_geopandas_import(workdir: Path) -> dict[str, Any]:
    import geopandas as gpd

    boundaries = _boundaries_file(workdir)
    counter = iter(range(1000))

    def run() -> int:
        sites = gpd.read_file(f"/vsigzip/{demo_portfolio_path()}")
        countries = gpd.read_file(str(boundaries))
        anchors = sites.copy()
        anchors["geometry"] = sites.geometry.representative_point()
        joined = gpd.sjoin(anchors, countries, how="left", predicate="intersects")
        joined = joined[~joined.index.duplicated()]
        sites["country_found"] = joined["iso2"]
        sites.to_file(workdir / f"peer-{next(counter)}.gpkg", driver="GPKG", engine="pyogrio")
        return len(sites)

    seconds, rows = timed(run)
    return {"seconds": seconds, "rows": rows}


def placement(workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    import geopandas as gpd
    import shapely

    table = read_table(demo_portfolio_path())
    geometries = [row.geometry for row in table.rows if row.geometry is not None]
    catalog = reference.country_catalog()
    catalog.place(geometries[0])  # boundaries loaded before timing: placement alone

    ours_seconds, ours_found = timed(lambda: sum(1 for g in geometries if catalog.place(g).iso2))
    countries = gpd.read_file(_boundaries_file(workdir))

    def peer() -> int:  # the same work: an anchor point per site, then the spatial join
        points = gpd.GeoDataFrame(geometry=shapely.point_on_surface(geometries), crs="EPSG:4326")
        joined = gpd.sjoin(points, countries, how="left", predicate="intersects")
        return int(joined[~joined.index.duplicated()]["iso2"].notna().sum())

    peer_seconds, peer_found = timed(peer)
    return (
        {"seconds": ours_seconds, "sites": len(geometries), "placed": ours_found},
        {"seconds": peer_seconds, "sites": len(geometries), "placed": peer_found},
    )


def _boundaries_file(workdir: Path) -> Path:
    """The same 1:10m boundaries as a GeoJSON file, the form a GeoPandas user would read."""
    target = workdir / "boundaries.geojson"
    if not target.exists():
        catalog = reference.country_catalog()
        features = [
            {"type": "Feature", "properties": {"iso2": c.iso2}, "geometry": mapping(boundary)}
            for c in catalog.all()
            if (boundary := catalog.boundary(c.iso2)) is not None
        ]
        target.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return target


def run(workdir: Path) -> tuple[dict[str, Any], list[str], bool]:
    """Run the portfolio benchmarks; return (results, report lines, target met)."""
    results: dict[str, Any] = {}
    results["ours_import_sqlite"] = ours_cold_import(workdir)
    results["peer_geopandas_import_gpkg"] = peer_geopandas_import(workdir)
    results["ours_reimport_unchanged_sqlite"] = ours_reimport(workdir)
    results["ours_placement"], results["peer_geopandas_sjoin"] = placement(workdir)
    pg = os.environ.get("ALLWEATHER_TEST_DATABASE_URL")
    if pg:
        results["ours_import_postgis"] = ours_cold_import(workdir, url=pg)

    ours = results["ours_import_sqlite"]
    peer = results["peer_geopandas_import_gpkg"]
    placed, sjoin = results["ours_placement"], results["peer_geopandas_sjoin"]
    rows: list[tuple[str, float, str]] = [
        (
            "import bundled portfolio -> SQLite",
            ours["seconds"],
            f"{ours['seconds'] / peer['seconds']:.2f}x GeoPandas read+sjoin+GPKG "
            f"({peer['seconds']:.2f} s)",
        ),
        ("re-import unchanged -> SQLite", results["ours_reimport_unchanged_sqlite"]["seconds"], ""),
        (
            f"place {placed['sites']} sites in countries",
            placed["seconds"],
            f"{placed['seconds'] / sjoin['seconds']:.2f}x GeoPandas sjoin "
            f"({sjoin['seconds']:.3f} s)",
        ),
    ]
    if "ours_import_postgis" in results:
        rows.append(
            ("import bundled portfolio -> PostGIS", results["ours_import_postgis"]["seconds"], "")
        )
    lines = [f"{name:44} {seconds:8.3f} s   {ratio}" for name, seconds, ratio in rows]
    met = ours["seconds"] < 10
    lines.append(
        f"  portfolio: {ours['rows']} rows, {ours['projects']} projects, {ours['sites']} sites, "
        f"{ours['rejected']} rejected; target < 10 s on SQLite: {'met' if met else 'MISSED'}"
    )
    return results, lines, met
