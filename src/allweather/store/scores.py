"""Scores in SQL: event pressure by aggregation, current scores, daily history, overrides.

Pressure is one grouped scan of ``score_inputs`` (clustered on project, category, fine type),
with the method's weights and half-lives written into the SQL as constants, so the database
sums the decayed contributions and hands back one row per project, category and fine type.
Everything else (baseline, index, levels, matrix) is domain arithmetic on those rows.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, Engine

from allweather.domain.levels import WarningLevel
from allweather.domain.scoring.baseline import (
    CategoryBaseline,
    CountryRating,
    IndicatorValue,
    RatingScale,
    all_baselines,
    fallback_baselines,
)
from allweather.domain.scoring.index import (
    CATEGORIES,
    CategoryScore,
    TypePressure,
    baseline_explanation,
    level_for,
    score_project,
)
from allweather.domain.scoring.method import LN2, ScoringMethod
from allweather.domain.taxonomy import FineType, MofcomCategory, SeverityGrade
from allweather.store.score_inputs import mark_warn_dirty
from allweather.store.tables import (
    country_baselines,
    country_ratings,
    projects,
    score_dirty,
    score_history,
    score_overrides,
    score_state,
    scores,
)

# Days are Beijing days: our users file daily figures by 北京时间.
BEIJING = timedelta(hours=8)
_WRITE_BATCH = 5000
FALLBACK = "--"  # country_baselines key of the fallback (no data, or no country)


def day_end(day: date) -> int:
    """Epoch seconds of the last instant of a Beijing day (24:00 Beijing, exclusive)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - BEIJING
    return int((start + timedelta(days=1)).timestamp()) - 1


def beijing_day(instant: datetime) -> date:
    return (instant.astimezone(UTC) + BEIJING).date()


@dataclass(frozen=True)
class Override:
    """An analyst's score or level for a project and category, with a reason and an expiry."""

    id: int
    project_code: str
    category: str
    score: float | None
    level: WarningLevel | None
    reason: str
    set_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def active_at(self, instant: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= instant:
            return False
        return self.created_at <= instant < self.expires_at


@dataclass(frozen=True)
class _Project:
    id: int
    code: str
    country: str | None
    large: bool


def _weight_exprs(method: ScoringMethod) -> tuple[str, str]:
    """SQL for an input's weight (severity × proximity) and decay rate under ``method``.
    Only validated numbers and enum values are formatted into it."""
    sev = " ".join(f"WHEN '{g.value}' THEN {method.severity[g]!r}" for g in SeverityGrade)
    lam = " ".join(f"WHEN '{t.value}' THEN {method.decay_per_second(t)!r}" for t in FineType)
    k = LN2 / method.half_reach
    prox = (
        "CASE proximity WHEN 'radius' THEN "
        f"exp(-{k!r} * COALESCE(distance_km, 0) / COALESCE(NULLIF(reach_km, 0), 1)) "
        f"WHEN 'country' THEN 1.0 ELSE {method.country_precision!r} END"
    )
    return f"(CASE severity {sev} ELSE 0 END) * ({prox})", f"CASE fine_type {lam} ELSE 0 END"


def weight_sql(method: ScoringMethod, only_missing: bool) -> str:
    """Fill in each input's weight and decay rate under ``method``."""
    weight, decay = _weight_exprs(method)
    where = " WHERE weight IS NULL" if only_missing else ""
    return f"UPDATE score_inputs SET weight = {weight}, decay = {decay}{where}"  # noqa: S608


def pressure_sql(
    method: ScoringMethod, dialect: str, filtered: bool, known: bool, ranged: bool = False
) -> str:
    """The grouped scan. Parameters: :as_of (epoch s), :known_by when ``known``,
    :project_ids (expanding) when ``filtered``, :lo and :hi (project ids) when ``ranged``.
    An input not yet weighed (another transaction's) is weighed inline."""
    weight, decay = _weight_exprs(method)
    where = ["occurred_at <= :as_of"]
    if known:
        where.append("known_at <= :known_by")
    if filtered:
        where.append("project_id IN :project_ids")
    if ranged:
        where.append("project_id >= :lo AND project_id < :hi")
    inner = (
        "SELECT project_id, category, fine_type, event_id, severity, distance_km, occurred_at, "  # noqa: S608
        f"COALESCE(weight, {weight}) * exp(COALESCE(decay, {decay}) * (occurred_at - :as_of)) AS c "
        f"FROM score_inputs WHERE {' AND '.join(where)}"
    )
    if dialect == "sqlite":
        # SQLite fills bare columns from the row that holds max(c): the strongest event.
        return (
            "SELECT project_id, category, fine_type, SUM(c) AS total, COUNT(*) AS n, "  # noqa: S608
            "MAX(c) AS strongest, event_id, severity, distance_km, occurred_at "
            f"FROM ({inner}) GROUP BY project_id, category, fine_type"
        )
    return (
        "SELECT project_id, category, fine_type, SUM(c) AS total, COUNT(*) AS n, "  # noqa: S608
        "MAX(c) AS strongest, "
        "(array_agg(event_id ORDER BY c DESC))[1] AS event_id, "
        "(array_agg(severity ORDER BY c DESC))[1] AS severity, "
        "(array_agg(distance_km ORDER BY c DESC))[1] AS distance_km, "
        "(array_agg(occurred_at ORDER BY c DESC))[1] AS occurred_at "
        f"FROM ({inner}) AS x GROUP BY project_id, category, fine_type"
    )


_Pressures = dict[int, dict[MofcomCategory, list[TypePressure]]]
# Plain dict lookups: enum construction per row costs more than the scan at 10M inputs.
_CATEGORY = {c.value: c for c in MofcomCategory}
_TYPE = {t.value: t for t in FineType}
_GRADE = {g.value: g for g in SeverityGrade}


def _collect(result: Any, out: _Pressures) -> None:
    for pid, cat, fine, total, n, strongest, event_id, sev, dist, at in result:
        out[pid][_CATEGORY[cat]].append(
            TypePressure(_TYPE[fine], total, n, event_id, strongest, _GRADE[sev], dist, int(at))
        )


class SqlScoreStore:
    """Computes, stores and reads scores; keeps overrides and country ratings."""

    def __init__(
        self, engine: Engine, method: ScoringMethod, indicators: Sequence[IndicatorValue]
    ) -> None:
        self.engine = engine
        self.method = method
        self.indicators = tuple(indicators)
        self._baseline_cache: (
            tuple[
                tuple[CountryRating, ...],
                dict[str, dict[MofcomCategory, CategoryBaseline]],
                dict[MofcomCategory, CategoryBaseline],
            ]
            | None
        ) = None
        self._baselines_stored = False
        # Full scans split over this many connections (SQLite in WAL mode and PostgreSQL both
        # serve concurrent readers).
        self.scan_workers = min(4, os.cpu_count() or 1)

    def _state_key(self) -> str:
        """The method as the state row records it: a content change of the bundled file (same
        version string) still counts as a change, so scores never outlive their method."""
        return f"{self.method.label}@{self.method.fingerprint()}"

    def _method_current(self, conn: Connection) -> bool:
        """True when the stored scores were computed under this method."""
        state = conn.execute(select(score_state.c.method_version).where(score_state.c.id == 1))
        return state.scalar_one_or_none() == self._state_key()

    # ------------------------------------------------------------------ inputs

    def pressures(
        self,
        conn: Connection,
        as_of: int,
        project_ids: Sequence[int] | None = None,
        known_by: int | None = None,
    ) -> dict[int, dict[MofcomCategory, list[TypePressure]]]:
        """Per project and category, the summed pressure of each fine type at ``as_of``."""
        reweighed = self._weigh(conn)
        params: dict[str, Any] = {"as_of": as_of}
        if known_by is not None:
            params["known_by"] = known_by
        dialect = conn.dialect.name
        # Not after re-weighing everything in this (uncommitted) transaction: other
        # connections would still see the old method's weights.
        if project_ids is None and self.scan_workers > 1 and not reweighed:
            return self._parallel_pressures(conn, params, known_by is not None)
        sql = text(
            pressure_sql(self.method, dialect, project_ids is not None, known_by is not None)
        )
        if project_ids is not None:
            sql = sql.bindparams(bindparam("project_ids", expanding=True))
            params["project_ids"] = list(project_ids)
        out: _Pressures = defaultdict(lambda: defaultdict(list))
        _collect(conn.execute(sql, params), out)
        return out

    def _parallel_pressures(
        self, conn: Connection, params: dict[str, Any], known: bool
    ) -> _Pressures:
        """The full scan split by project id over ``scan_workers`` connections: the database
        drivers release the GIL while the database works, so the ranges scan in parallel.
        Other connections see committed inputs only, hence ``refresh`` weighs and commits
        first, and anything newer is weighed inline."""
        # The projects' ids bound the inputs' (min/max on score_inputs would scan an index).
        lo, hi = conn.execute(select(func.min(projects.c.id), func.max(projects.c.id))).one()
        out: _Pressures = defaultdict(lambda: defaultdict(list))
        if lo is None:
            return out
        step = (hi - lo) // self.scan_workers + 1
        bounds = [(lo + i * step, lo + (i + 1) * step) for i in range(self.scan_workers)]
        sql = text(pressure_sql(self.method, conn.dialect.name, False, known, ranged=True))

        def scan(bound: tuple[int, int]) -> _Pressures:
            part: _Pressures = defaultdict(lambda: defaultdict(list))
            with self.engine.connect() as own:
                _collect(own.execute(sql, {**params, "lo": bound[0], "hi": bound[1]}), part)
            return part

        with ThreadPoolExecutor(self.scan_workers, thread_name_prefix="score-scan") as pool:
            for part in pool.map(scan, bounds):
                out.update(part)
        return out

    def _weigh(self, conn: Connection) -> bool:
        """Weights for new inputs; for every input when they were weighed under another
        method (then True). The state row records the method in the same transaction."""
        state = conn.execute(select(score_state.c.weights_method).where(score_state.c.id == 1))
        everything = state.scalar_one_or_none() != self._state_key()
        conn.execute(text(weight_sql(self.method, only_missing=not everything)))
        if everything:
            _set_state(conn, weights_method=self._state_key())
        return everything

    def ratings(self, conn: Connection) -> list[CountryRating]:
        rows = conn.execute(select(country_ratings).order_by(country_ratings.c.as_of))
        return [
            CountryRating(
                country=r.country_code,
                scale=RatingScale(r.scale),
                value=r.value,
                source=r.source,
                as_of=r.as_of,
            )
            for r in rows
        ]

    def baselines(
        self, conn: Connection
    ) -> tuple[
        dict[str, dict[MofcomCategory, CategoryBaseline]], dict[MofcomCategory, CategoryBaseline]
    ]:
        """Every country's baseline and the fallback, cached until the ratings change."""
        ratings = tuple(self.ratings(conn))
        if self._baseline_cache is None or self._baseline_cache[0] != ratings:
            found = all_baselines(self.indicators, ratings)
            self._baseline_cache = (ratings, found, fallback_baselines(found))
            self._baselines_stored = False
        return self._baseline_cache[1], self._baseline_cache[2]

    def _store_baselines(self, conn: Connection, now: datetime) -> None:
        """Write every country's baseline explanation (once per process and ratings change,
        and on every full recompute)."""
        found, fallback = self.baselines(conn)
        conn.execute(delete(country_baselines))
        rows = [
            {
                "country_code": country,
                "category": category.value,
                "score": b.score,
                "coverage": b.coverage,
                "imputed": b.imputed,
                "detail": baseline_explanation(b),
                "computed_at": now,
            }
            for country, by_category in [*found.items(), (FALLBACK, fallback)]
            for category, b in by_category.items()
        ]
        conn.execute(insert(country_baselines), rows)
        self._baselines_stored = True

    def _projects(self, conn: Connection, ids: Sequence[int] | None) -> list[_Project]:
        m = self.method.matrix
        query = select(
            projects.c.id,
            projects.c.code,
            projects.c.country_code,
            projects.c.value_usd,
            projects.c.staff_cn,
        ).order_by(projects.c.id)
        if ids is not None:
            query = query.where(projects.c.id.in_(list(ids)))
        return [
            _Project(
                r.id,
                r.code,
                r.country_code,
                (r.value_usd or 0) >= m.large_project_value_usd
                or (r.staff_cn or 0) >= m.large_project_staff_cn,
            )
            for r in conn.execute(query)
        ]

    def _overrides(self, conn: Connection, ids: Sequence[int] | None) -> list[Override]:
        query = (
            select(score_overrides, projects.c.code)
            .join(projects, projects.c.id == score_overrides.c.project_id)
            .order_by(score_overrides.c.id)
        )
        if ids is not None:
            query = query.where(score_overrides.c.project_id.in_(list(ids)))
        return [_override(r) for r in conn.execute(query)]

    # ------------------------------------------------------------------ computing

    def _compute(
        self,
        conn: Connection,
        as_of: datetime,
        ids: Sequence[int] | None,
        previous: Mapping[tuple[int, str], WarningLevel],
        known_by: int | None,
    ) -> list[tuple[_Project, CategoryScore, Override | None]]:
        stamp = int(as_of.timestamp())
        plist = self._projects(conn, ids)
        pressures = self.pressures(conn, stamp, ids, known_by)
        baselines, fallback = self.baselines(conn)
        active: dict[tuple[int, str], Override] = {}
        by_code = {p.code: p.id for p in plist}
        for o in self._overrides(conn, ids):
            if o.active_at(as_of):
                active[(by_code[o.project_code], o.category)] = o  # the latest wins
        out = []
        for p in plist:
            base = baselines.get(p.country or "", fallback)
            prev = {c: previous[(p.id, c)] for c in CATEGORIES if (p.id, c) in previous}
            for s in score_project(self.method, base, pressures.get(p.id, {}), prev, p.large):
                out.append((p, s, active.get((p.id, s.category))))
        return out

    def refresh(self, now: datetime, project_ids: Sequence[int] | None = None) -> int:
        """Recompute the current scores of these projects (all when None) at ``now``, with
        hysteresis against their stored levels; returns the number of score rows written."""
        with self.engine.begin() as conn:
            self._weigh(conn)  # committed first: the parallel scan reads committed inputs
        with self.engine.begin() as conn:
            return self._refresh(conn, now, project_ids)

    def _refresh(self, conn: Connection, now: datetime, ids: Sequence[int] | None) -> int:
        cond = [] if ids is None else [scores.c.project_id.in_(list(ids))]
        # Hysteresis holds levels the same method set; a new method starts from plain levels.
        previous: dict[tuple[int, str], WarningLevel] = {}
        if self._method_current(conn):
            query = select(scores.c.project_id, scores.c.category, scores.c.computed_level)
            previous = {
                (r.project_id, r.category): WarningLevel(r.computed_level)
                for r in conn.execute(query.where(*cond))
            }
        computed = self._compute(conn, now, ids, previous, None)
        if ids is None or not self._baselines_stored:
            self._store_baselines(conn, now)
        conn.execute(delete(scores).where(*cond))
        stamp = int(now.timestamp())
        rows = [
            {
                **_values(s, o, self.method),
                "project_id": p.id,
                "likelihood": s.cell.likelihood,
                "consequence": s.cell.consequence,
                "risk_grade": int(s.cell.grade),
                "coverage": s.coverage,
                "explanation": s.explanation(),
                "as_of": stamp,
                "computed_at": now,
            }
            for p, s, o in computed
        ]
        _insert_batched(conn, scores, rows)
        # The warning rules look again at every project whose score may have moved them: the
        # re-scored ones, or after a full recompute those whose level changed.
        if ids is not None:
            mark_warn_dirty(conn, ids)
        else:
            mark_warn_dirty(
                conn,
                {p.id for p, s, _ in computed if previous.get((p.id, s.category)) != s.level},
            )
        if ids is None:
            conn.execute(delete(score_dirty))
            _set_state(conn, method_version=self._state_key(), recomputed_at=now)
        else:
            conn.execute(delete(score_dirty).where(score_dirty.c.project_id.in_(list(ids))))
        return len(rows)

    def stale(self, now: datetime, max_age: timedelta) -> bool:
        """True when a full recompute is due: never done, another method, or scores older
        than ``max_age`` (or computed for a later instant than ``now``: a clock set back)."""
        with self.engine.connect() as conn:
            if not self._method_current(conn):
                return True
            oldest, newest = conn.execute(
                select(func.min(scores.c.as_of), func.max(scores.c.as_of))
            ).one()
        if oldest is None:
            return True
        stamp = now.timestamp()
        return bool(stamp - oldest > max_age.total_seconds() or newest > stamp)

    def refresh_dirty(self, now: datetime) -> int:
        """Re-score the projects whose inputs changed (``score_dirty``); the number re-scored.
        A changed method re-scores everything."""
        with self.engine.begin() as conn:
            self._weigh(conn)
        with self.engine.begin() as conn:
            if not self._method_current(conn):
                return self._refresh(conn, now, None) // len(CATEGORIES)
            ids = [int(i) for i in conn.execute(select(score_dirty.c.project_id)).scalars()]
            if not ids:
                return 0
            self._refresh(conn, now, ids)
            return len(ids)

    # ------------------------------------------------------------------ history

    def close_days(self, now: datetime, since: date | None = None) -> list[date]:
        """Write end-of-day history rows for every Beijing day that has ended and is not yet
        closed (from ``since`` when given, rewriting those days). Each day is evaluated at its
        end, with what the platform knew by then and hysteresis from the day before."""
        today = beijing_day(now)
        with self.engine.begin() as conn:
            self._weigh(conn)
        with self.engine.begin() as conn:
            state = conn.execute(select(score_state).where(score_state.c.id == 1)).first()
            closed = None if state is None else state.closed_through
            first = since or (closed + timedelta(days=1) if closed else today - timedelta(days=1))
            days = []
            day = first
            while day < today:
                days.append(day)
                day += timedelta(days=1)
            if not days:
                return []
            conn.execute(delete(score_history).where(score_history.c.day >= days[0]))
            previous = self._history_levels(conn, days[0] - timedelta(days=1))
            for day in days:
                end = day_end(day)
                computed = self._compute(
                    conn, datetime.fromtimestamp(end, UTC), None, previous, end
                )
                rows = [
                    {**_values(s, o, self.method), "project_id": p.id, "day": day}
                    for p, s, o in computed
                ]
                _insert_batched(conn, score_history, rows)
                previous = {(p.id, s.category): s.level for p, s, _ in computed}
            _set_state(conn, closed_through=days[-1])
        return days

    def _history_levels(self, conn: Connection, day: date) -> dict[tuple[int, str], WarningLevel]:
        query = select(
            score_history.c.project_id, score_history.c.category, score_history.c.computed_level
        ).where(score_history.c.day == day)
        return {
            (r.project_id, r.category): WarningLevel(r.computed_level) for r in conn.execute(query)
        }

    def history(
        self, project_code: str | None = None, category: str | None = None
    ) -> list[dict[str, Any]]:
        query = (
            select(score_history, projects.c.code.label("project_code"))
            .join(projects, projects.c.id == score_history.c.project_id)
            .order_by(projects.c.code, score_history.c.category, score_history.c.day)
        )
        if project_code:
            query = query.where(projects.c.code == project_code)
        if category:
            query = query.where(score_history.c.category == category)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # ------------------------------------------------------------------ reading

    def current(
        self, project_code: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Current scores with project code and any override, by project then category."""
        order = {c: i for i, c in enumerate(CATEGORIES)}
        query = (
            select(
                scores,
                projects.c.code.label("project_code"),
                projects.c.name.label("project_name"),
                projects.c.country_code,
            )
            .join(projects, projects.c.id == scores.c.project_id)
            .order_by(projects.c.code)
        )
        if project_code:
            query = query.where(projects.c.code == project_code)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
            wanted = {r["override_id"] for r in rows if r["override_id"] is not None}
            overrides = {}
            if wanted:
                q = (
                    select(score_overrides, projects.c.code)
                    .join(projects, projects.c.id == score_overrides.c.project_id)
                    .where(score_overrides.c.id.in_(sorted(wanted)))
                )
                overrides = {o.id: o for o in (_override(r) for r in conn.execute(q))}
            details = {
                (b.country_code, b.category): b.detail
                for b in conn.execute(
                    select(
                        country_baselines.c.country_code,
                        country_baselines.c.category,
                        country_baselines.c.detail,
                    )
                )
            }
        rows.sort(key=lambda r: (r["project_code"], order.get(r["category"], 99)))
        for r in rows:
            r["override"] = overrides.get(r["override_id"])
            driver = r["explanation"].get("driver", r["category"])
            detail = details.get((r["country_code"], driver)) or details.get((FALLBACK, driver))
            r["explanation"] = {**r["explanation"], "baseline_detail": detail}
        if limit is not None:
            rows = rows[offset : offset + limit]
        return rows

    # ------------------------------------------------------------------ overrides

    def set_override(
        self,
        project_code: str,
        category: str,
        score: float | None,
        level: WarningLevel | None,
        reason: str,
        set_by: str,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        """Record an override and apply it to the current score at once; its id."""
        with self.engine.begin() as conn:
            pid = conn.execute(
                select(projects.c.id).where(projects.c.code == project_code)
            ).scalar_one_or_none()
            if pid is None:
                raise LookupError(f"project {project_code!r} not found")
            new_id = conn.execute(
                insert(score_overrides).returning(score_overrides.c.id),
                {
                    "project_id": pid,
                    "category": category,
                    "score": score,
                    "level": None if level is None else int(level),
                    "reason": reason,
                    "set_by": set_by,
                    "created_at": now,
                    "expires_at": expires_at,
                },
            ).scalar_one()
            self._refresh(conn, now, [pid])
        return int(new_id)

    def revoke_override(self, override_id: int, now: datetime) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(score_overrides.c.project_id).where(
                    and_(
                        score_overrides.c.id == override_id, score_overrides.c.revoked_at.is_(None)
                    )
                )
            ).first()
            if row is None:
                return False
            conn.execute(
                update(score_overrides).where(score_overrides.c.id == override_id),
                {"revoked_at": now},
            )
            self._refresh(conn, now, [row.project_id])
        return True

    def expire_overrides(self, now: datetime) -> int:
        """Re-score projects whose override ran out since their score was computed."""
        with self.engine.begin() as conn:
            query = (
                select(scores.c.project_id)
                .join(score_overrides, score_overrides.c.id == scores.c.override_id)
                .where(
                    or_(
                        score_overrides.c.expires_at <= now,
                        score_overrides.c.revoked_at.is_not(None),
                    )
                )
                .distinct()
            )
            ids = [int(i) for i in conn.execute(query).scalars()]
            if ids:
                self._refresh(conn, now, ids)
        return len(ids)

    # ------------------------------------------------------------------ ratings

    def set_rating(self, rating: CountryRating, entered_by: str, now: datetime) -> None:
        """Record an administrator's rating; every project in that country is re-scored."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(country_ratings).where(
                    and_(
                        country_ratings.c.country_code == rating.country,
                        country_ratings.c.scale == rating.scale.value,
                        country_ratings.c.as_of == rating.as_of,
                    )
                )
            )
            conn.execute(
                insert(country_ratings),
                {
                    "country_code": rating.country,
                    "scale": rating.scale.value,
                    "value": rating.value,
                    "source": rating.source,
                    "as_of": rating.as_of,
                    "entered_by": entered_by,
                    "created_at": now,
                },
            )
            ids = list(
                conn.execute(
                    select(projects.c.id).where(projects.c.country_code == rating.country)
                ).scalars()
            )
            if ids:
                self._refresh(conn, now, ids)


def _values(s: CategoryScore, o: Override | None, method: ScoringMethod) -> dict[str, Any]:
    """The columns a current score and a history row share: the effective score and level
    (an active override's), the computed ones beside them, and where they came from."""
    score, level = s.score, int(s.level)
    if o is not None:
        score = s.score if o.score is None else o.score
        level = int(level_for(method, score)) if o.level is None else int(o.level)
    return {
        "category": s.category,
        "score": score,
        "level": level,
        "computed_score": s.score,
        "computed_level": int(s.level),
        "baseline": s.baseline,
        "pressure": s.pressure,
        "confidence": s.confidence,
        "override_id": None if o is None else o.id,
        "method_version": method.label,
    }


def _insert_batched(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _WRITE_BATCH):
        conn.execute(insert(table), rows[start : start + _WRITE_BATCH])


def _override(r: Any) -> Override:
    return Override(
        id=r.id,
        project_code=r.code,
        category=r.category,
        score=r.score,
        level=None if r.level is None else WarningLevel(r.level),
        reason=r.reason,
        set_by=r.set_by,
        created_at=r.created_at,
        expires_at=r.expires_at,
        revoked_at=r.revoked_at,
    )


def _set_state(conn: Connection, **values: Any) -> None:
    if conn.execute(select(score_state.c.id).where(score_state.c.id == 1)).first() is None:
        conn.execute(insert(score_state), {"id": 1, **values})
    else:
        conn.execute(update(score_state).where(score_state.c.id == 1), values)
