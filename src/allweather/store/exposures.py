"""Exposures, reach overrides and the match generation, in SQL.

``SqlMatchStore`` keeps the matcher in step with the database: it builds a
``PortfolioMatcher`` from the stored sites and reach overrides, rebuilds it when the stored
match generation moves (a portfolio import or a reach change elsewhere), writes exposures in
the same transaction as the events they come from (``on_chunk``), and re-matches every stored
event when asked (``rematch``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from allweather.domain.events import EventColumns
from allweather.domain.reach import ReachMatrix, ReachOverride
from allweather.domain.taxonomy import FineType
from allweather.matching.matcher import EventBatch, MatchSite, PortfolioMatcher
from allweather.store import score_inputs as inputs
from allweather.store.score_inputs import EventFacts, facts_of_row
from allweather.store.tables import (
    events,
    exposures,
    match_state,
    organizations,
    projects,
    reach_overrides,
    sites,
)

_CHUNK = 500
_REMATCH_BATCH = 20_000


def bump_generation(conn: Connection, now: datetime) -> int:
    """Record that sites or reach rules changed: matchers reload, a re-match is due."""
    row = conn.execute(select(match_state.c.generation).where(match_state.c.id == 1)).first()
    if row is None:
        conn.execute(
            insert(match_state),
            {"id": 1, "generation": 1, "matched_generation": 0, "changed_at": now},
        )
        return 1
    generation = int(row.generation) + 1
    conn.execute(
        update(match_state).where(match_state.c.id == 1),
        {"generation": generation, "changed_at": now},
    )
    return generation


def _generations(conn: Connection) -> tuple[int, int]:
    row = conn.execute(
        select(match_state.c.generation, match_state.c.matched_generation).where(
            match_state.c.id == 1
        )
    ).first()
    return (0, 0) if row is None else (int(row.generation), int(row.matched_generation))


def _stored_fingerprint(conn: Connection) -> str | None:
    row = conn.execute(
        select(match_state.c.matrix_fingerprint).where(match_state.c.id == 1)
    ).first()
    return None if row is None else row.matrix_fingerprint


class SqlMatchStore:
    """The matcher's view of the database, and where its exposures go."""

    def __init__(self, engine: Engine, defaults: ReachMatrix | None = None) -> None:
        self.engine = engine
        self.defaults = defaults or ReachMatrix.default()
        self._matcher: PortfolioMatcher | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the matcher

    def matcher(self, conn: Connection | None = None) -> PortfolioMatcher:
        """The matcher for the stored sites and rules, rebuilt when the generation moved."""
        if conn is None:
            with self.engine.connect() as own:
                return self.matcher(own)
        generation, _ = _generations(conn)
        with self._lock:
            if self._matcher is None or self._matcher.generation != generation:
                matrix = self.defaults.with_overrides(self._overrides(conn))
                self._matcher = PortfolioMatcher(self._sites(conn), matrix, generation)
            return self._matcher

    def _sites(self, conn: Connection) -> list[MatchSite]:
        query = (
            select(
                sites.c.id,
                sites.c.project_id,
                projects.c.code,
                organizations.c.code.label("org"),
                sites.c.country_code,
                sites.c.geometry,
            )
            .join(projects, projects.c.id == sites.c.project_id)
            .outerjoin(organizations, organizations.c.id == projects.c.organization_id)
            .order_by(sites.c.id)
        )
        return [
            MatchSite(r.id, r.project_id, r.code, r.org, r.country_code, r.geometry)
            for r in conn.execute(query)
        ]

    def _overrides(self, conn: Connection) -> list[ReachOverride]:
        rows = conn.execute(select(reach_overrides).order_by(reach_overrides.c.id))
        return [
            ReachOverride(
                scope=r.scope,
                scope_code=r.scope_code,
                fine_type=r.fine_type,
                severity=None if r.severity == "*" else r.severity,
                site_kind=None if r.site_kind == "*" else r.site_kind,
                kind=r.kind,
                radius_km=r.radius_km,
                reason=r.reason,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ overrides

    def overrides(self) -> list[ReachOverride]:
        with self.engine.connect() as conn:
            return self._overrides(conn)

    def set_override(self, override: ReachOverride, now: datetime) -> None:
        """Add or replace an override (same scope, code, type, grade and kind), in one step
        with the generation bump that makes every matcher reload."""
        values = {
            "scope": override.scope,
            "scope_code": override.scope_code,
            "fine_type": override.fine_type.value,
            "severity": override.severity.value if override.severity else "*",
            "site_kind": override.site_kind.value if override.site_kind else "*",
        }
        with self.engine.begin() as conn:
            conn.execute(delete(reach_overrides).where(*_equal(values)))
            conn.execute(
                insert(reach_overrides),
                {
                    **values,
                    "kind": override.kind.value,
                    "radius_km": override.radius_km,
                    "reason": override.reason,
                    "created_at": now,
                },
            )
            bump_generation(conn, now)

    def remove_override(self, key: dict[str, str], now: datetime) -> int:
        """Remove the override with this scope, scope_code, fine_type, severity, site_kind
        ("*" for every grade or kind); the number removed (0 or 1)."""
        with self.engine.begin() as conn:
            removed = conn.execute(delete(reach_overrides).where(*_equal(key))).rowcount
            if removed:
                bump_generation(conn, now)
        return int(removed)

    # ------------------------------------------------------------------ writing exposures

    def on_chunk(
        self,
        conn: Connection,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[EventColumns],
        retracted: Sequence[int],
        now: datetime,
    ) -> int:
        """Inside an event chunk's transaction: replace the exposures of the events it wrote
        or retracted. Returns the number of exposures written.

        Bulk columns (GDELT) are only ever inserted, never revised: their exposures are added
        with conflicts ignored, so a replay neither duplicates them nor pays for deletes.
        """
        matcher = self.matcher(conn)
        stamp = int(now.timestamp())
        gone = [int(r["id"]) for r in rows] + list(retracted)
        for start in range(0, len(gone), _CHUNK):
            conn.execute(
                delete(exposures).where(exposures.c.event_id.in_(gone[start : start + _CHUNK]))
            )
        inputs.remove_events(conn, gone)
        found = matcher.match(EventBatch.from_rows(rows), stamp)
        if found:
            conn.execute(insert(exposures), found)
            facts = {int(r["id"]): facts_of_row(r) for r in rows}
            inputs.add_rows(conn, inputs.input_rows(found, facts, stamp), ignore_existing=False)
        total = len(found)
        for c in columns:
            batch = EventBatch()
            _extend(batch, c)
            bulk = matcher.match(batch, stamp)
            if bulk:
                conn.execute(_insert_ignoring_conflicts(conn), bulk)
                facts = _column_facts(c, {int(x["event_id"]) for x in bulk})
                inputs.add_rows(conn, inputs.input_rows(bulk, facts, stamp), ignore_existing=True)
            total += len(bulk)
        return total

    def rematch(self, now: datetime) -> int:
        """Match every live stored event against every site again, in one transaction;
        returns the number of exposures."""
        with self.engine.begin() as conn:
            generation, _ = _generations(conn)
            matcher = self.matcher(conn)
            conn.execute(delete(exposures))
            total = 0
            stamp = int(now.timestamp())
            rebuilt: list[list[dict[str, Any]]] = []
            for batch, facts in _live_events(conn):
                found = matcher.match(batch, stamp)
                if found:
                    conn.execute(insert(exposures), found)
                    rebuilt.append(inputs.input_rows(found, facts, stamp))
                total += len(found)
            inputs.replace_all(conn, rebuilt)
            if generation == 0:  # events but never a portfolio change: start counting
                generation = bump_generation(conn, now)
            conn.execute(
                update(match_state).where(match_state.c.id == 1),
                {
                    "matched_generation": generation,
                    "matrix_fingerprint": self.defaults.fingerprint(),
                    "rematched_at": now,
                },
            )
        return total

    def rematch_due(self) -> bool:
        """True when sites or overrides changed since the last full re-match, or the platform
        matrix differs from the one it ran under (a new release, ``ALLWEATHER_REACH_FILE``)."""
        with self.engine.connect() as conn:
            generation, matched = _generations(conn)
            fingerprint = _stored_fingerprint(conn)
        if generation != matched:
            return True
        return generation > 0 and fingerprint != self.defaults.fingerprint()

    # ------------------------------------------------------------------ reading

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(exposures)).scalar_one())

    def iter_exposures(self) -> Iterator[dict[str, Any]]:
        """Every exposure with its event and site facts, by event then site."""
        query = _joined().order_by(exposures.c.event_id, exposures.c.site_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
            for row in result:
                yield dict(row._mapping)

    def list_exposures(
        self, project_code: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of exposures, newest event first (then nearest), and the total."""
        conditions = [projects.c.code == project_code] if project_code else []
        query = (
            _joined()
            .where(*conditions)
            .order_by(
                events.c.occurred_at.desc(),
                exposures.c.distance_km.asc().nulls_last(),
                exposures.c.site_id,
            )
            .offset(offset)
            .limit(limit)
        )
        count = (
            select(func.count())
            .select_from(exposures.join(projects, projects.c.id == exposures.c.project_id))
            .where(*conditions)
        )
        with self.engine.connect() as conn:
            total = int(conn.execute(count).scalar_one())
            return [dict(r._mapping) for r in conn.execute(query)], total

    def site_keys(self) -> dict[int, tuple[str, str]]:
        """Site id → (project code, site key), for what-if answers."""
        query = select(sites.c.id, projects.c.code, sites.c.key).join(
            projects, projects.c.id == sites.c.project_id
        )
        with self.engine.connect() as conn:
            return {r.id: (r.code, r.key) for r in conn.execute(query)}


def _insert_ignoring_conflicts(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return pg_insert(exposures).on_conflict_do_nothing()
    return sqlite_insert(exposures).on_conflict_do_nothing()


def _joined() -> Any:
    """Exposures with the event and site facts a reader needs."""
    return (
        select(
            exposures,
            events.c.source_id,
            events.c.occurred_at,
            events.c.fine_type,
            events.c.severity,
            projects.c.code.label("project_code"),
            sites.c.key.label("site_key"),
        )
        .join(events, events.c.id == exposures.c.event_id)
        .join(sites, sites.c.id == exposures.c.site_id)
        .join(projects, projects.c.id == exposures.c.project_id)
    )


def _equal(values: dict[str, str]) -> list[Any]:
    return [reach_overrides.c[name] == value for name, value in values.items()]


def _extend(batch: EventBatch, c: EventColumns) -> None:
    batch.ids += c.ids
    batch.fine_type += c.fine_type
    batch.severity += c.severity
    batch.precision += c.precision
    batch.country_code += c.country_code
    batch.lon += c.lon
    batch.lat += c.lat
    batch.geometry += [None] * len(c)


def _column_facts(c: EventColumns, wanted: set[int]) -> dict[int, EventFacts]:
    return {
        event_id: EventFacts(
            occurred_at=int(c.occurred_at[i]),
            fine_type=c.fine_type[i],
            category=FineType(c.fine_type[i]).category.value,
            severity=c.severity[i],
        )
        for i, event_id in enumerate(c.ids)
        if event_id in wanted
    }


def _live_events(conn: Connection) -> Iterator[tuple[EventBatch, dict[int, EventFacts]]]:
    query = (
        select(
            events.c.id,
            events.c.fine_type,
            events.c.severity,
            events.c.precision,
            events.c.country_code,
            events.c.lon,
            events.c.lat,
            events.c.geometry,
            events.c.occurred_at,
            events.c.category,
        )
        .where(and_(events.c.deleted_at.is_(None)))
        .order_by(events.c.id)
    )
    rows: list[dict[str, Any]] = []
    for row in conn.execute(query):
        rows.append(dict(row._mapping))
        if len(rows) >= _REMATCH_BATCH:
            yield EventBatch.from_rows(rows), {int(r["id"]): facts_of_row(r) for r in rows}
            rows = []
    if rows:
        yield EventBatch.from_rows(rows), {int(r["id"]): facts_of_row(r) for r in rows}
