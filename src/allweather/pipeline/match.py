"""Matching use cases: re-match every stored event, export exposures, answer what-if radii.

Incremental matching needs no use case of its own: the source store writes each chunk's
exposures in the chunk's transaction (``SqlMatchStore.on_chunk``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from allweather.domain.clock import Clock
from allweather.domain.events import source_number_of
from allweather.matching.matcher import EventBatch
from allweather.pipeline.export import iso_instant
from allweather.store.exposures import SqlMatchStore
from allweather.store.sources import SqlSourceStore

EXPOSURE_FIELDS = (
    "event_id",
    "source",
    "source_id",
    "occurred_at",
    "fine_type",
    "severity",
    "project_code",
    "site_id",
    "site_key",
    "distance_km",
    "bearing_deg",
    "reach_kind",
    "reach_km",
    "rule",
    "precision",
    "note",
    "matrix_version",
)


def exposure_records(
    rows: Iterable[dict[str, Any]], sources: dict[int, str]
) -> Iterator[dict[str, Any]]:
    """Stored exposures (``SqlMatchStore.iter_exposures``) → export records."""
    for row in rows:
        number = source_number_of(int(row["event_id"]))
        source = sources.get(number, f"source#{number}")
        yield {
            "event_id": f"{source}:{row['source_id']}",
            "source": source,
            "source_id": row["source_id"],
            "occurred_at": iso_instant(row.get("occurred_at")),
            "fine_type": row["fine_type"],
            "severity": row["severity"],
            "project_code": row["project_code"],
            "site_id": row["site_id"],
            "site_key": row["site_key"],
            "distance_km": row["distance_km"],
            "bearing_deg": row["bearing_deg"],
            "reach_kind": row["reach_kind"],
            "reach_km": row["reach_km"],
            "rule": row["rule"],
            "precision": row["precision"],
            "note": row.get("note"),
            "matrix_version": row.get("matrix_version"),
        }


@dataclass(frozen=True)
class RematchReport:
    exposures: int
    seconds: float

    def line(self) -> str:
        return f"re-matched every stored event: {self.exposures} exposures in {self.seconds:.1f} s"


def rematch(store: SqlMatchStore, clock: Clock) -> RematchReport:
    """Match every live stored event against every site again, under the current rules."""
    started = time.perf_counter()
    total = store.rematch(clock.now())
    return RematchReport(total, time.perf_counter() - started)


def what_if(
    matching: SqlMatchStore, sources: SqlSourceStore, radius_km: float
) -> Iterator[dict[str, Any]]:
    """Every (event, site) within ``radius_km`` of each stored live event, ignoring the reach
    matrix: the analyst's question, and a check of the matcher against brute force. Rows have
    the shape of ``SqlMatchStore.iter_exposures``, for ``exposure_records``."""
    matcher = matching.matcher()
    keys = matching.site_keys()
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        events = EventBatch.from_rows(batch)
        pairs = matcher.match_radius(events, radius_km)
        by_id = {int(r["id"]): r for r in batch}
        for e, s, km, az in zip(
            pairs.event, pairs.site, pairs.distance_km, pairs.bearing_deg, strict=True
        ):
            row = by_id[events.ids[int(e)]]
            site = matcher.sites[int(s)]
            project_code, site_key = keys[site.site_id]
            yield {
                "event_id": int(row["id"]),
                "source_id": row["source_id"],
                "occurred_at": row["occurred_at"],
                "fine_type": row["fine_type"],
                "severity": row["severity"],
                "project_code": project_code,
                "site_id": site.site_id,
                "site_key": site_key,
                "distance_km": round(float(km), 6),
                "bearing_deg": None if az != az else round(float(az), 2),
                "reach_kind": "what-if",
                "reach_km": radius_km,
                "rule": f"what-if:{radius_km:g} km",
                "precision": row["precision"],
            }

    for row in sources.iter_events():
        if row.get("deleted_at") is not None:
            continue
        batch.append(row)
        if len(batch) >= 20_000:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
