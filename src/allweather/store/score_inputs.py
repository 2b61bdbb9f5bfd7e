"""Score inputs: per project, the events reaching it, kept in step with the exposures.

An event that reaches several sites of one project counts once, at its nearest site (the one
with the highest proximity weight). Rows are written in the same transaction as the exposures
they come from, and the project is marked for re-scoring (``score_dirty``) in that transaction
too, so a crash can lose neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from allweather.domain.reach import ReachKind, ReachMatrix
from allweather.domain.scoring.index import Proximity
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind
from allweather.store.tables import score_dirty, score_inputs, warn_dirty

_CHUNK = 500


@dataclass(frozen=True)
class EventFacts:
    """What scoring needs to know of an event besides where it reached."""

    occurred_at: int
    fine_type: str
    category: str
    severity: str


def facts_of_row(row: Mapping[str, Any]) -> EventFacts:
    """Facts from an ``events`` row (a dict as the source store writes it)."""
    fine = FineType(row["fine_type"])
    occurred = row["occurred_at"]
    return EventFacts(
        occurred_at=occurred if isinstance(occurred, int) else int(occurred.timestamp()),
        fine_type=fine.value,
        category=row.get("category") or fine.category.value,
        severity=str(row["severity"]),
    )


@cache
def _country_wide(fine_type: str, severity: str) -> bool:
    """The type acts on a whole country at this grade (platform default); cached: it is asked
    for every country-precision exposure on the ingest path."""
    reach = ReachMatrix.default().reach(
        FineType(fine_type), SeverityGrade(severity), SiteKind.POINT
    )
    return reach.kind is ReachKind.COUNTRY


def _proximity(exposure: Mapping[str, Any], facts: EventFacts) -> Proximity:
    if exposure["reach_kind"] == "radius":
        return Proximity.RADIUS
    if str(exposure["rule"]).startswith("precision:") and not _country_wide(
        facts.fine_type, facts.severity
    ):
        return Proximity.COUNTRY_PRECISION
    return Proximity.COUNTRY


def _closeness(row: Mapping[str, Any]) -> tuple[int, float]:
    """Sort key, nearest first: country-wide, then by the share of the radius."""
    kind = row["proximity"]
    if kind == Proximity.COUNTRY:
        return (0, 0.0)
    if kind == Proximity.RADIUS:
        return (1, float(row["distance_km"] or 0.0) / float(row["reach_km"] or 1.0))
    return (2, 0.0)


def input_rows(
    found: Iterable[Mapping[str, Any]], facts: Mapping[int, EventFacts], known_at: int
) -> list[dict[str, Any]]:
    """``score_inputs`` rows from exposure rows: one per (project, event), its nearest site."""
    best: dict[tuple[int, int], dict[str, Any]] = {}
    for x in found:
        event_id = int(x["event_id"])
        f = facts[event_id]
        row = {
            "project_id": int(x["project_id"]),
            "category": f.category,
            "fine_type": f.fine_type,
            "event_id": event_id,
            "occurred_at": f.occurred_at,
            "severity": f.severity,
            "proximity": _proximity(x, f).value,
            "distance_km": x["distance_km"],
            "reach_km": x["reach_km"],
            "site_id": int(x["site_id"]),
            "known_at": known_at,
        }
        key = (row["project_id"], event_id)
        held = best.get(key)
        if held is None or (_closeness(row), row["site_id"]) < (_closeness(held), held["site_id"]):
            best[key] = row
    return list(best.values())


def remove_events(conn: Connection, event_ids: Sequence[int]) -> None:
    """Drop the inputs of these events and mark their projects for re-scoring."""
    for start in range(0, len(event_ids), _CHUNK):
        part = list(event_ids[start : start + _CHUNK])
        affected = conn.execute(
            select(score_inputs.c.project_id).where(score_inputs.c.event_id.in_(part)).distinct()
        ).scalars()
        mark_dirty(conn, set(affected))
        conn.execute(delete(score_inputs).where(score_inputs.c.event_id.in_(part)))


def add_rows(conn: Connection, rows: Sequence[dict[str, Any]], ignore_existing: bool) -> None:
    """Insert inputs (a replayed bulk event is ignored) and mark their projects."""
    if not rows:
        return
    if ignore_existing:
        maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(maker(score_inputs).on_conflict_do_nothing(), rows)
    else:
        conn.execute(insert(score_inputs), rows)
    mark_dirty(conn, {r["project_id"] for r in rows})


def mark_dirty(conn: Connection, project_ids: Iterable[int]) -> None:
    """Queue projects for re-scoring (same transaction as what changed them)."""
    _queue(conn, score_dirty, project_ids)


def mark_warn_dirty(conn: Connection, project_ids: Iterable[int]) -> None:
    """Queue projects for the warning rules (same transaction as what changed them)."""
    _queue(conn, warn_dirty, project_ids)


def _queue(conn: Connection, table: Any, project_ids: Iterable[int]) -> None:
    ids = [{"project_id": int(p)} for p in sorted(set(project_ids))]
    if not ids:
        return
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(maker(table).on_conflict_do_nothing(), ids)


def replace_all(conn: Connection, rows_batches: Iterable[Sequence[dict[str, Any]]]) -> None:
    """Rebuild every input after a full re-match, keeping when each was first known."""
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE aw_known AS "
            "SELECT project_id, event_id, known_at FROM score_inputs"
        )
    )
    try:
        conn.execute(delete(score_inputs))
        for rows in rows_batches:
            if rows:
                conn.execute(insert(score_inputs), list(rows))
        conn.execute(
            text(
                "UPDATE score_inputs SET known_at = (SELECT k.known_at FROM aw_known k "
                "WHERE k.project_id = score_inputs.project_id "
                "AND k.event_id = score_inputs.event_id) "
                "WHERE EXISTS (SELECT 1 FROM aw_known k WHERE k.project_id = "
                "score_inputs.project_id AND k.event_id = score_inputs.event_id "
                "AND k.known_at < score_inputs.known_at)"
            )
        )
    finally:
        conn.execute(text("DROP TABLE aw_known"))
    conn.execute(
        text(
            "INSERT INTO score_dirty (project_id) SELECT id FROM projects "
            "WHERE id NOT IN (SELECT project_id FROM score_dirty)"
        )
    )
