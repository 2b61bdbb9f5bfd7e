"""The SQL side of ingest: events, retractions, listed entities, quarantine, runs, source state.

Two write paths share one table. Objects (``RiskEvent``) are compared with what is stored and
inserted, updated or left alone — sources revise their records. Columns (``EventColumns``, the
GDELT bulk path) are append-only: ``INSERT … ON CONFLICT DO NOTHING`` through the driver's
fastest route (``executemany`` on SQLite, ``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from allweather.domain.events import (
    EventColumns,
    ListedEntity,
    Rejection,
    RiskEvent,
    event_key,
)
from allweather.domain.geo import approx_distances_km
from allweather.store.base import (
    Chunk,
    ChunkCounts,
    QuarantinedRecord,
    RunRecord,
    SourceState,
)
from allweather.store.exposures import SqlMatchStore
from allweather.store.tables import (
    events,
    listed_entities,
    quarantine,
    raw_payloads,
    source_runs,
    source_state,
)

_CHUNK = 500

# The columns the bulk path writes, in EventColumns order.
BULK_COLUMNS = (
    "id",
    "source_id",
    "occurred_at",
    "reported_at",
    "fine_type",
    "severity",
    "severity_rule",
    "country_code",
    "place",
    "lon",
    "lat",
    "precision",
    "title",
    "url",
    "details",
    "run_id",
)

# Columns compared to decide whether a revised record changed.
_CONTENT = (
    "source_id",
    "occurred_at",
    "ended_at",
    "reported_at",
    "fine_type",
    "category",
    "event_class",
    "severity",
    "severity_rule",
    "country_code",
    "place",
    "title",
    "url",
    "language",
    "lon",
    "lat",
    "extent_km",
    "geometry",
    "precision",
    "fatalities",
    "magnitude",
    "details",
    "deleted_at",
)


def local_id(source_id: str) -> int | str:
    """Numeric source ids key events directly; others by hash (allweather.domain.events)."""
    if source_id.isdigit() and len(source_id) < 17:
        return int(source_id)
    return source_id


def event_row(event: RiskEvent, number: int, run_id: int) -> dict[str, Any]:
    """A RiskEvent as a row of the events table (epoch seconds, JSON details)."""
    geometry = event.geometry
    lon = lat = extent = None
    stored_geometry = None
    if geometry is not None:
        if geometry.geom_type == "Point":
            lon, lat = float(geometry.x), float(geometry.y)
        else:
            anchor = geometry.representative_point()
            lon, lat = float(anchor.x), float(anchor.y)
            hull = shapely.get_coordinates(geometry.convex_hull)
            extent = float(
                approx_distances_km(
                    shapely.points([(lon, lat)] * len(hull)), shapely.points(hull)
                ).max()
            )
            stored_geometry = geometry
    return {
        "id": event_key(number, local_id(event.source_id)),
        "source_id": event.source_id,
        "occurred_at": int(event.occurred_at.timestamp()),
        "ended_at": int(event.ended_at.timestamp()) if event.ended_at else None,
        "reported_at": int(event.reported_at.timestamp()) if event.reported_at else None,
        "fine_type": event.fine_type.value,
        "category": event.category.value if event.category else None,
        "event_class": event.event_class.value if event.event_class else None,
        "severity": event.severity.value,
        "severity_rule": event.severity_rule,
        "country_code": event.country_code,
        "place": event.place[:300] if event.place else None,
        "title": event.title,
        "url": event.url,
        "language": event.language,
        "lon": lon,
        "lat": lat,
        "extent_km": extent,
        "geometry": stored_geometry,
        "precision": event.precision.value,
        "fatalities": event.fatalities,
        "magnitude": event.magnitude,
        "details": json.dumps(dict(event.details), ensure_ascii=False, sort_keys=True, default=str)
        if event.details
        else None,
        "deleted_at": None,
        "run_id": run_id,
    }


def _seconds(value: datetime | int | None) -> int | None:
    if value is None:
        return None
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _older(row: dict[str, Any], stored: dict[str, Any]) -> bool:
    """True when ``row`` is not newer than what is stored (so it must not replace it)."""
    incoming, current = row["reported_at"], _seconds(stored["reported_at"])
    if incoming is not None and current is not None and incoming < current:
        return True
    deleted = _seconds(stored["deleted_at"])
    return deleted is not None and (incoming is None or incoming <= deleted)


def _same(stored: dict[str, Any], row: dict[str, Any]) -> bool:
    for column in _CONTENT:
        a, b = stored.get(column), row.get(column)
        if column == "geometry" and a is not None and b is not None:
            if shapely.to_wkb(a) != shapely.to_wkb(b):
                return False
        elif isinstance(a, datetime):
            if int(a.timestamp()) != b:
                return False
        elif a != b:
            return False
    return True


class SqlSourceStore:
    """Ingest storage over one engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, matching: SqlMatchStore | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.matching = matching  # when set, chunks write their exposures too

    # ------------------------------------------------------------------ runs and state

    def start_run(self, source: str, mode: str, target: str | None, now: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(source_runs).returning(source_runs.c.id),
                {
                    "source": source,
                    "mode": mode,
                    "target": target,
                    "started_at": now,
                    "status": "running",
                    "records_read": 0,
                    "records_new": 0,
                    "records_updated": 0,
                    "records_deleted": 0,
                    "records_quarantined": 0,
                    "records_skipped": 0,
                },
            )
            run_id: int = result.scalar_one()
        return run_id

    def finish_run(self, run: RunRecord) -> None:
        values = {
            k: v
            for k, v in run.__dict__.items()
            if k not in ("id", "source", "mode", "target", "started_at")
        }
        with self.engine.begin() as conn:
            conn.execute(update(source_runs).where(source_runs.c.id == run.id), values)

    def runs(self, source: str | None = None, limit: int = 20) -> list[RunRecord]:
        query = select(source_runs).order_by(source_runs.c.id.desc()).limit(limit)
        if source:
            query = query.where(source_runs.c.source == source)
        with self.engine.connect() as conn:
            return [RunRecord(**row._mapping) for row in conn.execute(query)]

    def last_runs(self) -> dict[str, RunRecord]:
        """The newest run of every source."""
        newest = select(func.max(source_runs.c.id)).group_by(source_runs.c.source).scalar_subquery()
        with self.engine.connect() as conn:
            rows = conn.execute(select(source_runs).where(source_runs.c.id.in_(newest))).all()
        return {row.source: RunRecord(**row._mapping) for row in rows}

    def state(self, source: str) -> SourceState:
        with self.engine.connect() as conn:
            row = conn.execute(select(source_state).where(source_state.c.source == source)).first()
        if row is None:
            return SourceState(source)
        values = dict(row._mapping)
        values["cursor"] = values["cursor"] or {}
        values["progress"] = values["progress"] or {}
        return SourceState(**values)

    def states(self) -> dict[str, SourceState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(source_state.c.source)).scalars().all()
        return {source: self.state(source) for source in rows}

    def save_state(self, state: SourceState) -> None:
        with self.engine.begin() as conn:
            self._save_state(conn, state)

    def _save_state(self, conn: Connection, state: SourceState) -> None:
        values = dict(state.__dict__)
        exists = conn.execute(
            select(source_state.c.source).where(source_state.c.source == state.source)
        ).first()
        if exists:
            conn.execute(update(source_state).where(source_state.c.source == state.source), values)
        else:
            conn.execute(insert(source_state), values)

    def record_payload(
        self,
        source: str,
        run_id: int,
        sha256: str,
        path: str,
        size: int,
        url: str | None,
        now: datetime,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(raw_payloads),
                {
                    "source": source,
                    "run_id": run_id,
                    "fetched_at": now,
                    "url": url,
                    "sha256": sha256,
                    "path": path,
                    "size": size,
                },
            )

    # ------------------------------------------------------------------ chunks

    def commit_chunk(self, chunk: Chunk, now: datetime) -> ChunkCounts:
        counts = ChunkCounts()
        written: list[dict[str, Any]] = []
        retracted: list[int] = []
        with self.engine.begin() as conn:
            if chunk.events:
                counts.add(self._write_events(conn, chunk, written))
            for batch in chunk.columns:
                counts.new += self._write_columns(conn, batch, chunk.source_number, chunk.run_id)
                chunk.rejections.extend(batch.rejections)
            if chunk.retractions:
                counts.deleted += self._retract(conn, chunk, now, retracted)
            if self.matching is not None and (written or chunk.columns or retracted):
                # Exposures commit with their events: a crash loses or repeats neither.
                self.matching.on_chunk(conn, written, chunk.columns, retracted, now)
            if chunk.entities:
                counts.add(self._write_entities(conn, chunk.entities, chunk.run_id, now))
            if chunk.rejections:
                counts.quarantined += self._quarantine(
                    conn, chunk.source, chunk.run_id, chunk.rejections, now
                )
            if chunk.progress is not None:
                state = self._state_in(conn, chunk.source)
                fingerprint, done = chunk.progress
                state.progress = {**state.progress, fingerprint: done}
                self._save_state(conn, state)
        return counts

    def _state_in(self, conn: Connection, source: str) -> SourceState:
        row = conn.execute(select(source_state).where(source_state.c.source == source)).first()
        if row is None:
            return SourceState(source)
        values = dict(row._mapping)
        values["cursor"] = values["cursor"] or {}
        values["progress"] = values["progress"] or {}
        return SourceState(**values)

    def _write_events(
        self, conn: Connection, chunk: Chunk, written: list[dict[str, Any]]
    ) -> ChunkCounts:
        counts = ChunkCounts()
        rows: dict[int, dict[str, Any]] = {}
        for event in chunk.events:  # a later record of the same id in one chunk wins
            row = event_row(event, chunk.source_number, chunk.run_id)
            rows[row["id"]] = row
        stored: dict[int, dict[str, Any]] = {}
        keys = list(rows)
        for start in range(0, len(keys), _CHUNK):
            query = select(events).where(events.c.id.in_(keys[start : start + _CHUNK]))
            stored.update({row.id: dict(row._mapping) for row in conn.execute(query)})
        inserts, updates = [], []
        for key, row in rows.items():
            old = stored.get(key)
            if old is None:
                inserts.append(row)
            elif old["source_id"] != row["source_id"]:
                chunk.rejections.append(
                    Rejection(
                        row["source_id"], row["source_id"], f"id collides with {old['source_id']}"
                    )
                )
            elif _older(row, old) or _same(old, row):
                # An older revision (re-ingesting an old export) never overwrites a newer one,
                # and a retracted event stays retracted unless the source republishes it later.
                counts.unchanged += 1
            else:
                updates.append(row)
        if inserts:
            conn.execute(insert(events), inserts)
        for row in updates:
            conn.execute(update(events).where(events.c.id == row["id"]), row)
        counts.new, counts.updated = len(inserts), len(updates)
        written += inserts + updates
        return counts

    def _write_columns(
        self, conn: Connection, batch: EventColumns, number: int, run_id: int
    ) -> int:
        if not len(batch):
            return 0
        columns: Sequence[Sequence[Any]] = (
            batch.ids,
            batch.source_ids,
            batch.occurred_at,
            batch.reported_at,
            batch.fine_type,
            batch.severity,
            batch.severity_rule,
            batch.country_code,
            batch.place,
            batch.lon,
            batch.lat,
            batch.precision,
            batch.title,
            batch.url,
            batch.details,
            [run_id] * len(batch),
        )
        driver = conn.connection.driver_connection
        names = ", ".join(BULK_COLUMNS)
        if self.dialect == "sqlite":
            before = driver.total_changes  # type: ignore[union-attr]
            placeholders = ", ".join("?" * len(BULK_COLUMNS))
            driver.executemany(  # type: ignore[union-attr]
                f"INSERT OR IGNORE INTO events ({names}) VALUES ({placeholders})",  # noqa: S608
                zip(*columns, strict=True),
            )
            return int(driver.total_changes - before)  # type: ignore[union-attr]
        # PostgreSQL: COPY into a temporary table, then one insert that skips known ids.
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS events_bulk "
                "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(f"COPY events_bulk ({names}) FROM STDIN") as copy:
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO events ({names}) SELECT {names} FROM events_bulk "  # noqa: S608
                "ON CONFLICT (id) DO NOTHING"
            )
            inserted = int(cursor.rowcount)
            cursor.execute("DELETE FROM events_bulk")
        return inserted

    def _retract(
        self, conn: Connection, chunk: Chunk, now: datetime, retracted_keys: list[int]
    ) -> int:
        retracted = 0
        for item in chunk.retractions:
            key = event_key(chunk.source_number, local_id(item.source_id))
            moment = int((item.reported_at or now).timestamp())
            result = conn.execute(
                update(events)
                .where(events.c.id == key, events.c.deleted_at.is_(None))
                .values(deleted_at=moment, run_id=chunk.run_id)
            )
            retracted += result.rowcount
            if result.rowcount:
                retracted_keys.append(key)
        return retracted

    def _write_entities(
        self, conn: Connection, entities: list[ListedEntity], run_id: int, now: datetime
    ) -> ChunkCounts:
        counts = ChunkCounts()
        source = entities[0].source
        wanted = {e.source_id: e for e in entities}
        stored: dict[str, dict[str, Any]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), _CHUNK):
            query = select(listed_entities).where(
                listed_entities.c.source == source,
                listed_entities.c.source_id.in_(keys[start : start + _CHUNK]),
            )
            stored.update({row.source_id: dict(row._mapping) for row in conn.execute(query)})
        inserts = []
        for source_id, entity in wanted.items():
            values = {
                "name": entity.name[:500],
                "kind": entity.kind.value,
                "aliases": list(entity.aliases),
                "countries": list(entity.countries),
                "programs": list(entity.programs),
                "listed_from": entity.listed_from,
                "listed_to": entity.listed_to,
                "reason": entity.reason,
                "details": dict(entity.details),
            }
            old = stored.get(source_id)
            if old is None:
                inserts.append(
                    {
                        **values,
                        "source": source,
                        "source_id": source_id,
                        "first_seen_at": now,
                        "last_seen_at": now,
                        "run_id": run_id,
                    }
                )
                continue
            changed = any(old[k] != v for k, v in values.items()) or old["delisted_at"] is not None
            conn.execute(
                update(listed_entities)
                .where(listed_entities.c.id == old["id"])
                .values(
                    **(values if changed else {}), last_seen_at=now, delisted_at=None, run_id=run_id
                )
            )
            if changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        if inserts:
            conn.execute(insert(listed_entities), inserts)
        counts.new = len(inserts)
        return counts

    def listed_count(self, source: str) -> int:
        """Entries of ``source`` currently listed (not delisted)."""
        query = select(func.count()).where(
            listed_entities.c.source == source, listed_entities.c.delisted_at.is_(None)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def listed(self, source: str, include_delisted: bool = False) -> list[dict[str, Any]]:
        """The entries of one list, as stored (for screening and the API)."""
        query = select(listed_entities).where(listed_entities.c.source == source)
        if not include_delisted:
            query = query.where(listed_entities.c.delisted_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(listed_entities.c.source_id)).all()
        return [dict(row._mapping) for row in rows]

    def delist_missing(self, source: str, seen: set[str], run_id: int, now: datetime) -> int:
        with self.engine.begin() as conn:
            current = conn.execute(
                select(listed_entities.c.id, listed_entities.c.source_id).where(
                    listed_entities.c.source == source, listed_entities.c.delisted_at.is_(None)
                )
            ).all()
            gone = [row.id for row in current if row.source_id not in seen]
            for start in range(0, len(gone), _CHUNK):
                conn.execute(
                    update(listed_entities)
                    .where(listed_entities.c.id.in_(gone[start : start + _CHUNK]))
                    .values(delisted_at=now, run_id=run_id)
                )
        return len(gone)

    def _quarantine(
        self, conn: Connection, source: str, run_id: int, rejections: list[Rejection], now: datetime
    ) -> int:
        conn.execute(
            insert(quarantine),
            [
                {
                    "source": source,
                    "run_id": run_id,
                    "ref": r.ref[:200],
                    "field": r.field[:64] if r.field else None,
                    "reason": r.reason,
                    "raw": r.raw,
                    "created_at": now,
                }
                for r in rejections
            ],
        )
        return len(rejections)

    # ------------------------------------------------------------------ reads

    def quarantined(self, source: str | None = None, limit: int = 100) -> list[QuarantinedRecord]:
        query = select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
        if source:
            query = query.where(quarantine.c.source == source)
        with self.engine.connect() as conn:
            return [QuarantinedRecord(**row._mapping) for row in conn.execute(query)]

    def iter_events(
        self,
        number: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored events as rows, oldest first, streamed; ``number`` limits to one source."""
        conditions: list[ColumnElement[bool]] = []
        if number is not None:
            conditions.append(and_(events.c.id >= number << 56, events.c.id < (number + 1) << 56))
        if since is not None:
            conditions.append(events.c.occurred_at >= since)
        if until is not None:
            conditions.append(events.c.occurred_at <= until)
        query = select(events).where(*conditions).order_by(events.c.occurred_at, events.c.id)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
            for row in result:
                yield dict(row._mapping)

    def list_events(
        self,
        *,
        number: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        severities: Sequence[str] | None = None,
        country: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of live (not retracted) events, newest first, and the total that match.

        ``bbox`` filters on the event's anchor point (min lon, min lat, max lon, max lat; a box
        with min lon > max lon crosses 180°).
        """
        conditions: list[ColumnElement[bool]] = [events.c.deleted_at.is_(None)]
        if number is not None:
            conditions.append(and_(events.c.id >= number << 56, events.c.id < (number + 1) << 56))
        if since is not None:
            conditions.append(events.c.occurred_at >= since)
        if until is not None:
            conditions.append(events.c.occurred_at <= until)
        if severities:
            conditions.append(events.c.severity.in_(list(severities)))
        if country:
            conditions.append(events.c.country_code == country.upper())
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            conditions.append(events.c.lat.between(min_lat, max_lat))
            if min_lon <= max_lon:
                conditions.append(events.c.lon.between(min_lon, max_lon))
            else:
                conditions.append(or_(events.c.lon >= min_lon, events.c.lon <= max_lon))
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(events).where(*conditions)
            ).scalar_one()
            rows = conn.execute(
                select(events)
                .where(*conditions)
                .order_by(events.c.occurred_at.desc(), events.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return [dict(row._mapping) for row in rows], int(total)

    def count_events(self, number: int | None = None, include_deleted: bool = True) -> int:
        query = select(func.count()).select_from(events)
        if number is not None:
            query = query.where(events.c.id >= number << 56, events.c.id < (number + 1) << 56)
        if not include_deleted:
            query = query.where(events.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def newest_event_at(self, number: int) -> datetime | None:
        query = select(func.max(events.c.occurred_at)).where(
            events.c.id >= number << 56, events.c.id < (number + 1) << 56
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is None:
            return None
        return value if isinstance(value, datetime) else datetime.fromtimestamp(int(value), UTC)

    def delete_source_events(self, number: int) -> int:
        """Remove every event of one source (tests and re-initialisation)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(events).where(events.c.id >= number << 56, events.c.id < (number + 1) << 56)
            )
        return int(result.rowcount)
