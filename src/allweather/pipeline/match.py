"""Matching use cases: re-match every stored event, export exposures, answer what-if radii.

Incremental matching needs no use case of its own: the source store writes each chunk's
exposures in the chunk's transaction (``SqlMatchStore.on_chunk``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from allweather.domain.clock import Clock
from allweather.matching.matcher import EventBatch
from allweather.store.exposures import SqlMatchStore
from allweather.store.sources import SqlSourceStore


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
    matrix: the analyst's question, and a check of the matcher against brute force."""
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
                "fine_type": row["fine_type"],
                "severity": row["severity"],
                "project_code": project_code,
                "site_id": site.site_id,
                "site_key": site_key,
                "distance_km": round(float(km), 6),
                "bearing_deg": None if az != az else round(float(az), 2),
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
