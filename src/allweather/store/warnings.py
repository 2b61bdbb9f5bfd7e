"""Warnings in the database: the facts the rules read, the warnings they write, channels,
the transactional outbox and its delivery log.

Every function takes the caller's connection, so a warning change, its history, evidence,
rule evaluations and outbox rows commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from allweather.domain.events import source_number_of
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.warnings.model import Action, Decision, Evidence, Finding, Status
from allweather.store.tables import (
    channels,
    countries,
    country_ratings,
    deliveries,
    events,
    organizations,
    outbox,
    projects,
    rule_evaluations,
    score_inputs,
    scores,
    sites,
    warn_dirty,
    warning_acks,
    warning_evidence,
    warning_history,
    warning_suppressions,
    warnings,
)

_CHUNK = 500
SourceName = Callable[[int], str]


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


# ---------------------------------------------------------------- what the rules read


def take_dirty(conn: Connection, limit: int | None = None) -> list[int]:
    """The queued projects (removed from the queue in the caller's transaction)."""
    query = select(warn_dirty.c.project_id).order_by(warn_dirty.c.project_id)
    if limit is not None:
        query = query.limit(limit)
    ids = [int(i) for i in conn.execute(query).scalars()]
    for part in _chunks(ids):
        conn.execute(delete(warn_dirty).where(warn_dirty.c.project_id.in_(part)))
    return ids


def projects_with_open_warnings(conn: Connection) -> list[int]:
    query = select(warnings.c.project_id).where(
        warnings.c.open_key.is_not(None), warnings.c.project_id.is_not(None)
    )
    return sorted({int(i) for i in conn.execute(query).scalars()})


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    code: str
    name: Label
    organization_id: int | None
    organization_code: str | None
    country_code: str | None
    country: Label | None


def project_infos(conn: Connection, ids: Sequence[int]) -> dict[int, ProjectInfo]:
    out: dict[int, ProjectInfo] = {}
    query = select(
        projects.c.id,
        projects.c.code,
        projects.c.name,
        projects.c.name_zh,
        projects.c.organization_id,
        organizations.c.code.label("org_code"),
        projects.c.country_code,
        countries.c.name_en,
        countries.c.name_zh.label("country_zh"),
    ).select_from(
        projects.outerjoin(
            organizations, organizations.c.id == projects.c.organization_id
        ).outerjoin(countries, countries.c.iso2 == projects.c.country_code)
    )
    for part in _chunks(ids):
        for r in conn.execute(query.where(projects.c.id.in_(part))):
            country = None if r.name_en is None else Label(r.country_zh, r.name_en)
            out[int(r.id)] = ProjectInfo(
                id=int(r.id),
                code=r.code,
                name=Label(r.name_zh or r.name, r.name),
                organization_id=r.organization_id,
                organization_code=r.org_code,
                country_code=r.country_code,
                country=country,
            )
    return out


def _evidence_query() -> Any:
    return select(
        score_inputs.c.project_id,
        score_inputs.c.category,
        score_inputs.c.event_id,
        score_inputs.c.fine_type,
        score_inputs.c.severity,
        score_inputs.c.occurred_at,
        score_inputs.c.proximity,
        score_inputs.c.distance_km,
        score_inputs.c.reach_km,
        score_inputs.c.site_id,
        events.c.source_id,
        events.c.title,
        events.c.url,
        events.c.place,
        events.c.country_code,
        sites.c.key.label("site_key"),
        sites.c.name.label("site_name"),
    ).select_from(
        score_inputs.join(events, events.c.id == score_inputs.c.event_id).join(
            sites, sites.c.id == score_inputs.c.site_id
        )
    )


def _evidence(r: Any, source_name: SourceName) -> Evidence:
    return Evidence(
        event_id=int(r.event_id),
        source=source_name(source_number_of(int(r.event_id))),
        source_id=r.source_id,
        fine_type=r.fine_type,
        severity=r.severity,
        occurred_at=_utc(r.occurred_at),
        title=r.title,
        url=r.url,
        place=r.place,
        country_code=r.country_code,
        site_key=r.site_key,
        site_name=r.site_name,
        distance_km=r.distance_km,
        reach_km=r.reach_km,
        proximity=r.proximity,
    )


def event_candidates(
    conn: Connection,
    ids: Sequence[int],
    since: datetime,
    until: datetime,
    grades: Iterable[str],
    source_name: SourceName,
) -> dict[tuple[int, str], list[Evidence]]:
    """Events of these grades within reach (radius or country-wide) in [since, until]."""
    out: dict[tuple[int, str], list[Evidence]] = defaultdict(list)
    lo, hi = int(since.timestamp()), int(until.timestamp())
    query = _evidence_query().where(
        score_inputs.c.occurred_at.between(lo, hi),
        score_inputs.c.severity.in_(sorted(set(grades))),
        score_inputs.c.proximity.in_(["radius", "country"]),
    )
    for part in _chunks(ids):
        for r in conn.execute(query.where(score_inputs.c.project_id.in_(part))):
            out[(int(r.project_id), r.category)].append(_evidence(r, source_name))
    return out


def surge_inputs(
    conn: Connection,
    ids: Sequence[int],
    fine_types: Sequence[str],
    window_start: datetime,
    baseline_start: datetime,
    until: datetime,
    source_name: SourceName,
) -> tuple[dict[tuple[int, str], list[Evidence]], dict[tuple[int, str], int]]:
    """Conflict/unrest events within a radius: this window's (with details) and the count of
    the baseline weeks before it, per project and category."""
    current: dict[tuple[int, str], list[Evidence]] = defaultdict(list)
    previous: dict[tuple[int, str], int] = defaultdict(int)
    w0, b0, hi = (int(t.timestamp()) for t in (window_start, baseline_start, until))
    base = [
        score_inputs.c.fine_type.in_(list(fine_types)),
        score_inputs.c.proximity == "radius",
    ]
    counts = (
        select(score_inputs.c.project_id, score_inputs.c.category, func.count())
        .where(*base, score_inputs.c.occurred_at >= b0, score_inputs.c.occurred_at < w0)
        .group_by(score_inputs.c.project_id, score_inputs.c.category)
    )
    recent = _evidence_query().where(*base, score_inputs.c.occurred_at.between(w0, hi))
    for part in _chunks(ids):
        for pid, category, n in conn.execute(counts.where(score_inputs.c.project_id.in_(part))):
            previous[(int(pid), category)] = int(n)
        for r in conn.execute(recent.where(score_inputs.c.project_id.in_(part))):
            current[(int(r.project_id), r.category)].append(_evidence(r, source_name))
    return current, previous


@dataclass(frozen=True)
class StoredScore:
    score: float
    level: WarningLevel
    baseline: float
    overridden: bool
    strongest_events: tuple[int, ...]


def stored_scores(conn: Connection, ids: Sequence[int]) -> dict[tuple[int, str], StoredScore]:
    out: dict[tuple[int, str], StoredScore] = {}
    query = select(
        scores.c.project_id,
        scores.c.category,
        scores.c.score,
        scores.c.level,
        scores.c.baseline,
        scores.c.override_id,
        scores.c.explanation,
    ).where(scores.c.category != "overall")
    for part in _chunks(ids):
        for r in conn.execute(query.where(scores.c.project_id.in_(part))):
            strongest = tuple(
                int(e["strongest_event"])
                for e in (r.explanation or {}).get("events", [])
                if e.get("strongest_event") is not None
            )
            out[(int(r.project_id), r.category)] = StoredScore(
                score=float(r.score),
                level=WarningLevel(r.level),
                baseline=float(r.baseline),
                overridden=r.override_id is not None,
                strongest_events=strongest,
            )
    return out


def evidence_for(
    conn: Connection, project_id: int, event_ids: Sequence[int], source_name: SourceName
) -> list[Evidence]:
    if not event_ids:
        return []
    query = _evidence_query().where(
        score_inputs.c.project_id == project_id, score_inputs.c.event_id.in_(list(event_ids))
    )
    return [_evidence(r, source_name) for r in conn.execute(query)]


def travel_levels(
    conn: Connection, country_codes: Iterable[str]
) -> dict[str, tuple[str, date, str]]:
    """The latest MFA travel level entered per country: (value, as_of, source)."""
    codes = sorted({c for c in country_codes if c})
    if not codes:
        return {}
    out: dict[str, tuple[str, date, str]] = {}
    query = (
        select(
            country_ratings.c.country_code,
            country_ratings.c.value,
            country_ratings.c.as_of,
            country_ratings.c.source,
        )
        .where(country_ratings.c.scale == "mfa_travel", country_ratings.c.country_code.in_(codes))
        .order_by(country_ratings.c.as_of)
    )
    for r in conn.execute(query):
        out[r.country_code] = (r.value, r.as_of, r.source)  # the latest wins
    return out


def suppressed_events(conn: Connection, ids: Sequence[int]) -> dict[int, frozenset[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    query = select(warning_suppressions.c.project_id, warning_suppressions.c.event_id)
    for part in _chunks(ids):
        for pid, eid in conn.execute(query.where(warning_suppressions.c.project_id.in_(part))):
            out[int(pid)].add(int(eid))
    return {k: frozenset(v) for k, v in out.items()}


# ---------------------------------------------------------------- warnings


def open_key(project_id: int | None, category: str, source: str | None = None) -> str:
    """The key that makes one open warning per project and category (or per stale source)."""
    return f"s:{source}" if project_id is None else f"p:{project_id}:{category}"


def open_warnings(conn: Connection, keys: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        part = list(keys[start : start + _CHUNK])
        for r in conn.execute(select(warnings).where(warnings.c.open_key.in_(part))):
            out[r.open_key] = r
    return out


def evidence_ids(conn: Connection, warning_id: int) -> set[int]:
    query = select(warning_evidence.c.event_id).where(warning_evidence.c.warning_id == warning_id)
    return {int(i) for i in conn.execute(query).scalars()}


# ---------------------------------------------------------------- channels and outbox


def matching_channels(
    conn: Connection,
    *,
    organization_id: int | None,
    country_code: str | None,
    project_id: int | None,
    category: str,
    level: WarningLevel,
    ladder_step: int,
) -> list[Any]:
    """Enabled channels whose subscription covers this warning at this ladder step."""
    conds = [
        channels.c.enabled.is_(True),
        channels.c.ladder_step == ladder_step,
        channels.c.min_level >= int(level),  # min_level 4 (blue) receives every level
    ]
    if project_id is None:  # the platform's own warnings go to administrators' channels
        conds.append(channels.c.system.is_(True))
    else:
        conds += [
            or_(
                channels.c.organization_id.is_(None), channels.c.organization_id == organization_id
            ),
            or_(channels.c.country_code.is_(None), channels.c.country_code == country_code),
            or_(channels.c.project_id.is_(None), channels.c.project_id == project_id),
            or_(channels.c.category.is_(None), channels.c.category == category),
        ]
    return list(conn.execute(select(channels).where(and_(*conds)).order_by(channels.c.id)))


def enqueue(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Add outbox rows; a key already there (a replay) is skipped. Returns rows added."""
    if not rows:
        return 0
    maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = conn.execute(maker(outbox).on_conflict_do_nothing(index_elements=["key"]), rows)
    return int(result.rowcount or 0)


def log_delivery(
    conn: Connection,
    *,
    channel_id: int,
    key: str,
    items: int,
    attempt: int,
    at: datetime,
    ok: bool,
    latency_ms: float,
    detail: str | None,
) -> None:
    conn.execute(
        insert(deliveries),
        {
            "channel_id": channel_id,
            "key": key,
            "items": items,
            "attempt": attempt,
            "at": at,
            "ok": ok,
            "latency_ms": latency_ms,
            "detail": detail,
        },
    )


def sent_since(conn: Connection, channel_id: int, since: datetime) -> int:
    """Messages the channel accepted since ``since`` (for its rate limits)."""
    query = select(func.count()).where(
        deliveries.c.channel_id == channel_id, deliveries.c.ok.is_(True), deliveries.c.at > since
    )
    return int(conn.execute(query).scalar_one())


def release(conn: Connection, ids: Sequence[int]) -> None:
    for part in _chunks(ids):
        conn.execute(update(outbox).where(outbox.c.id.in_(part)).values(locked_until=None))


def insert_warning(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(warnings).returning(warnings.c.id), values).scalar_one())


def update_warning(conn: Connection, warning_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(warnings).where(warnings.c.id == warning_id).values(**values))


def warning_row(conn: Connection, warning_id: int) -> Any:
    return conn.execute(select(warnings).where(warnings.c.id == warning_id)).one()


_SNAPSHOT = (
    "category",
    "level",
    "started_at",
    "affected_area",
    "key_points",
    "measures",
    "issuer",
    "issued_at",
    "title",
    "triggers",
    "decision_required",
)


def snapshot(row: Any) -> dict[str, Any]:
    """The Art. 64 fields as they stood at one revision (kept in the history)."""
    out: dict[str, Any] = {}
    for name in _SNAPSHOT:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def add_history(
    conn: Connection,
    warning_id: int,
    revision: int,
    action: Action,
    level: WarningLevel,
    previous: WarningLevel | None,
    at: datetime,
    actor: str,
    note: dict[str, Any],
    snapshot: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(warning_history),
        {
            "warning_id": warning_id,
            "revision": revision,
            "action": action.value,
            "level": int(level),
            "previous_level": None if previous is None else int(previous),
            "at": at,
            "actor": actor,
            "note": note,
            "snapshot": snapshot,
        },
    )


def add_evidence(
    conn: Connection,
    warning_id: int,
    revision: int,
    decision: Decision,
    now: datetime,
    known: set[int],
) -> int:
    """Link the decision's evidence not in ``known`` (the ids already linked); returns how
    many were new."""
    known = set(known)
    rows = []
    for f in decision.findings:
        if not f.fired:
            continue
        for e in f.evidence:
            if e.event_id in known:
                continue
            known.add(e.event_id)
            rows.append(
                {
                    "warning_id": warning_id,
                    "event_id": e.event_id,
                    "trigger": f.trigger.value,
                    "site_id": None,
                    "distance_km": e.distance_km,
                    "reach_km": e.reach_km,
                    "proximity": e.proximity,
                    "added_at": now,
                    "revision": revision,
                }
            )
    if rows:
        conn.execute(insert(warning_evidence), rows)
    return len(rows)


def record_evaluations(
    conn: Connection,
    now: datetime,
    project_id: int | None,
    source: str | None,
    category: str,
    findings: Sequence[Finding],
    warning_id: int | None,
    rules_version: str,
    keep_all: bool,
) -> int:
    """Record each rule's verdict. Verdicts of rules that had nothing to look at (no score at
    a warning level, no candidate events) are kept only when a warning is open or changed."""
    rows = []
    for f in findings:
        if not (keep_all or f.fired or f.inputs):
            continue
        rows.append(
            {
                "evaluated_at": now,
                "project_id": project_id,
                "source": source,
                "category": category,
                "rule": f.trigger.value,
                "fired": f.fired,
                "level": None if f.level is None else int(f.level),
                "reason": {"zh": f.reason.zh, "en": f.reason.en},
                "evidence": [e.event_id for e in f.evidence],
                "warning_id": warning_id,
                "rules_version": rules_version,
            }
        )
    if rows:
        conn.execute(insert(rule_evaluations), rows)
    return len(rows)


def due_escalations(conn: Connection, now: datetime) -> list[Any]:
    query = select(warnings).where(
        warnings.c.status == Status.ACTIVE.value,
        warnings.c.acknowledged_at.is_(None),
        warnings.c.escalate_at.is_not(None),
        warnings.c.escalate_at <= now,
    )
    return list(conn.execute(query.order_by(warnings.c.id)))


# ---------------------------------------------------------------- channels (订阅)


def add_channel(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(channels).returning(channels.c.id), values).scalar_one())


def list_channels(conn: Connection) -> list[Any]:
    query = (
        select(
            channels,
            organizations.c.code.label("organization_code"),
            projects.c.code.label("project_code"),
        )
        .select_from(
            channels.outerjoin(
                organizations, organizations.c.id == channels.c.organization_id
            ).outerjoin(projects, projects.c.id == channels.c.project_id)
        )
        .order_by(channels.c.id)
    )
    return list(conn.execute(query))


def set_channel_enabled(conn: Connection, channel_id: int, enabled: bool) -> bool:
    result = conn.execute(
        update(channels).where(channels.c.id == channel_id).values(enabled=enabled)
    )
    return bool(result.rowcount)


def organization_id(conn: Connection, code: str) -> int | None:
    query = select(organizations.c.id).where(organizations.c.code == code)
    return conn.execute(query).scalar_one_or_none()


def project_id(conn: Connection, code: str) -> int | None:
    return conn.execute(select(projects.c.id).where(projects.c.code == code)).scalar_one_or_none()


# ---------------------------------------------------------------- reading warnings


_WARNINGS_WITH_CODES = warnings.outerjoin(
    projects, projects.c.id == warnings.c.project_id
).outerjoin(organizations, organizations.c.id == warnings.c.organization_id)


def _warning_filters(
    status: str | None,
    warning_id: int | None,
    project_code: str | None,
    organization_code: str | None,
    min_level: int | None,
) -> list[Any]:
    conds: list[Any] = []
    if status is not None:
        conds.append(warnings.c.status == status)
    if warning_id is not None:
        conds.append(warnings.c.id == warning_id)
    if project_code is not None:
        conds.append(projects.c.code == project_code)
    if organization_code is not None:
        conds.append(organizations.c.code == organization_code)
    if min_level is not None:
        conds.append(warnings.c.level <= min_level)
    return conds


def list_warnings(
    conn: Connection,
    *,
    status: str | None = None,
    warning_id: int | None = None,
    project_code: str | None = None,
    organization_code: str | None = None,
    min_level: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """Warnings newest first, with their project and organisation codes."""
    conds = _warning_filters(status, warning_id, project_code, organization_code, min_level)
    query = (
        select(
            warnings,
            projects.c.code.label("project_code"),
            organizations.c.code.label("organization_code"),
        )
        .select_from(_WARNINGS_WITH_CODES)
        .where(*conds)
        .order_by(warnings.c.updated_at.desc(), warnings.c.id.desc())
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def count_warnings(
    conn: Connection,
    *,
    status: str | None = None,
    project_code: str | None = None,
    organization_code: str | None = None,
    min_level: int | None = None,
) -> int:
    """How many warnings ``list_warnings`` would return with these filters (for paging)."""
    conds = _warning_filters(status, None, project_code, organization_code, min_level)
    query = select(func.count()).select_from(_WARNINGS_WITH_CODES).where(*conds)
    return int(conn.execute(query).scalar_one())


def history(conn: Connection, warning_id: int) -> list[Any]:
    query = (
        select(warning_history)
        .where(warning_history.c.warning_id == warning_id)
        .order_by(warning_history.c.id)
    )
    return list(conn.execute(query))


def evidence_rows(
    conn: Connection, warning_id: int, source_name: SourceName
) -> list[dict[str, Any]]:
    """The warning's evidence with the events' sources, links and distances."""
    query = (
        select(
            warning_evidence,
            events.c.source_id,
            events.c.title,
            events.c.url,
            events.c.occurred_at,
            events.c.fine_type,
            events.c.severity,
            events.c.place,
        )
        .select_from(warning_evidence.join(events, events.c.id == warning_evidence.c.event_id))
        .where(warning_evidence.c.warning_id == warning_id)
        .order_by(warning_evidence.c.distance_km, warning_evidence.c.event_id)
    )
    out = []
    for r in conn.execute(query):
        out.append(
            {
                "event_id": int(r.event_id),
                "source": source_name(source_number_of(int(r.event_id))),
                "source_id": r.source_id,
                "title": r.title,
                "url": r.url,
                "occurred_at": r.occurred_at,
                "fine_type": r.fine_type,
                "severity": r.severity,
                "place": r.place,
                "trigger": r.trigger,
                "distance_km": r.distance_km,
                "reach_km": r.reach_km,
                "proximity": r.proximity,
            }
        )
    return out


def acks(conn: Connection, warning_id: int) -> list[Any]:
    query = select(warning_acks).where(warning_acks.c.warning_id == warning_id)
    return list(conn.execute(query.order_by(warning_acks.c.id)))


def add_ack(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(warning_acks), values)


def suppress(
    conn: Connection,
    project_id: int,
    event_ids: Iterable[int],
    warning_id: int,
    disposition: str,
    now: datetime,
) -> None:
    rows = [
        {
            "project_id": project_id,
            "event_id": e,
            "warning_id": warning_id,
            "disposition": disposition,
            "created_at": now,
        }
        for e in sorted(set(event_ids))
    ]
    if rows:
        maker = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(maker(warning_suppressions).on_conflict_do_nothing(), rows)


def delivery_log(conn: Connection, limit: int = 100) -> list[Any]:
    return list(conn.execute(select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)))


def outbox_rows(conn: Connection, warning_id: int | None = None) -> list[Any]:
    query = select(outbox).order_by(outbox.c.id)
    if warning_id is not None:
        query = query.where(outbox.c.warning_id == warning_id)
    return list(conn.execute(query))


def disposition_counts(conn: Connection) -> list[Any]:
    """Acknowledgements per rule and disposition: the labels that measure each rule's precision."""
    return list(
        conn.execute(
            select(warning_acks.c.triggers, warning_acks.c.disposition, func.count()).group_by(
                warning_acks.c.triggers, warning_acks.c.disposition
            )
        )
    )


def mark_all_dirty(conn: Connection) -> None:
    """Queue every project for the warning rules (a rules change, a clock set back)."""
    conn.execute(
        insert(warn_dirty).from_select(
            ["project_id"],
            select(projects.c.id).where(projects.c.id.not_in(select(warn_dirty.c.project_id))),
        )
    )
