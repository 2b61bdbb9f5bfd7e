"""The SQL portfolio store: organisations, projects, sites, contacts and the import log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from allweather.domain.geo import anchor_point
from allweather.domain.portfolio import (
    Contact,
    Country,
    Organization,
    Project,
    Site,
    StaffCounts,
)
from allweather.domain.vocabulary import (
    LocationPrecision,
    OrgKind,
    ProjectKind,
    ProjectStatus,
    Sector,
)
from allweather.store.base import (
    CountryUsage,
    ImportRecord,
    PortfolioChanges,
    ProjectFilter,
    ProjectSummary,
    ProjectUpdate,
    SiteFeature,
)
from allweather.store.exposures import bump_generation
from allweather.store.tables import (
    countries,
    organization_oversight,
    organizations,
    portfolio_imports,
    project_contacts,
    projects,
    sites,
)

_CHUNK = 500  # keeps IN (...) lists well under every backend's parameter limit

# Project columns an import field maps to.
_FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "name_zh": ("name_zh",),
    "organization_code": ("organization_id",),
    "country_code": ("country_code",),
    "kind": ("kind",),
    "sector": ("sector",),
    "status": ("status",),
    "value_usd": ("value_usd",),
    "start_date": ("start_date",),
    "end_date": ("end_date",),
    "staff": ("staff_cn", "staff_local", "staff_other"),
    "source": ("source",),
}


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqlPortfolioStore:
    """Portfolio reads and writes over one SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ writes

    def apply_portfolio(
        self,
        updates: Sequence[ProjectUpdate],
        organizations: Sequence[Organization],
        now: datetime,
    ) -> PortfolioChanges:
        changes = PortfolioChanges()
        with self.engine.begin() as conn:
            org_ids = self._ensure_organizations(conn, organizations, now, changes)
            project_ids, counted = self._write_projects(conn, updates, org_ids, now, changes)
            touched = self._write_sites(conn, updates, project_ids, now, changes)
            touched |= self._write_contacts(conn, updates, project_ids)
            # A project whose own row is unchanged but whose sites or contacts changed is
            # updated too: bump its timestamp and count it once.
            for pid in touched - counted:
                conn.execute(update(projects).where(projects.c.id == pid), {"updated_at": now})
                changes.projects_updated += 1
            changes.projects_unchanged = (
                len(updates) - changes.projects_created - changes.projects_updated
            )
            if changes.projects_created or changes.projects_updated or touched:
                bump_generation(conn, now)  # sites changed: matchers reload, re-match due
        return changes

    def _ensure_organizations(
        self,
        conn: Connection,
        wanted: Sequence[Organization],
        now: datetime,
        changes: PortfolioChanges,
    ) -> dict[str, int]:
        codes = sorted({o.code for o in wanted})
        ids: dict[str, int] = {}
        for chunk in _chunks(codes):
            query = select(organizations.c.code, organizations.c.id).where(
                organizations.c.code.in_(chunk)
            )
            ids.update((row.code, row.id) for row in conn.execute(query))
        missing = [o for o in {o.code: o for o in wanted}.values() if o.code not in ids]
        if missing:
            rows = [
                {
                    "code": o.code,
                    "name": o.name,
                    "name_zh": o.name_zh,
                    "kind": o.kind.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for o in missing
            ]
            inserted = conn.execute(
                insert(organizations).returning(organizations.c.code, organizations.c.id), rows
            )
            ids.update((row.code, row.id) for row in inserted)
            changes.organizations_created += len(missing)
        return ids

    def _write_projects(
        self,
        conn: Connection,
        updates: Sequence[ProjectUpdate],
        org_ids: dict[str, int],
        now: datetime,
        changes: PortfolioChanges,
    ) -> tuple[dict[str, int], set[int]]:
        """Insert new projects, update changed ones; return ids by code and the ids counted."""
        codes = [u.project.code for u in updates]
        stored: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(codes):
            for row in conn.execute(select(projects).where(projects.c.code.in_(chunk))):
                stored[row.code] = dict(row._mapping)

        inserts: list[dict[str, Any]] = []
        counted: set[int] = set()
        for u in updates:
            values = _project_values(u.project, org_ids)
            current = stored.get(u.project.code)
            if current is None:
                inserts.append(
                    {**values, "code": u.project.code, "created_at": now, "updated_at": now}
                )
                continue
            wanted = {
                column: values[column]
                for field_name in u.fields
                for column in _FIELD_COLUMNS[field_name]
            }
            diff = {k: v for k, v in wanted.items() if current[k] != v}
            if diff:
                conn.execute(
                    update(projects).where(projects.c.id == current["id"]),
                    {**diff, "updated_at": now},
                )
                changes.projects_updated += 1
                counted.add(current["id"])
        project_ids = {code: row["id"] for code, row in stored.items()}
        if inserts:
            result = conn.execute(
                insert(projects).returning(projects.c.code, projects.c.id), inserts
            )
            created: dict[str, int] = {row.code: row.id for row in result}
            project_ids.update(created)
            counted.update(created.values())
            changes.projects_created += len(inserts)
        return project_ids, counted

    def _write_sites(
        self,
        conn: Connection,
        updates: Sequence[ProjectUpdate],
        project_ids: dict[str, int],
        now: datetime,
        changes: PortfolioChanges,
    ) -> set[int]:
        """Upsert sites by (project, key); return the ids of projects whose sites changed."""
        ids = [project_ids[u.project.code] for u in updates]
        stored: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
        for chunk in _chunks(ids):
            query = select(
                sites.c.id,
                sites.c.project_id,
                sites.c.key,
                sites.c.name,
                sites.c.precision,
                sites.c.country_code,
                sites.c.geometry,
            ).where(sites.c.project_id.in_(chunk))
            for row in conn.execute(query):
                stored[row.project_id][row.key] = dict(row._mapping)

        touched: set[int] = set()
        inserts: list[dict[str, Any]] = []
        for u in updates:
            pid = project_ids[u.project.code]
            current = stored.get(pid, {})
            for site in u.project.sites:
                values = _site_values(site)
                existing = current.get(site.key)
                if existing is None:
                    inserts.append(
                        {**values, "project_id": pid, "created_at": now, "updated_at": now}
                    )
                    touched.add(pid)
                elif _site_differs(existing, values):
                    conn.execute(
                        update(sites).where(sites.c.id == existing["id"]),
                        {**values, "updated_at": now},
                    )
                    changes.sites_updated += 1
                    touched.add(pid)
            if u.replace_sites:
                keep = {s.key for s in u.project.sites}
                gone = [row["id"] for key, row in current.items() if key not in keep]
                if gone:
                    conn.execute(delete(sites).where(sites.c.id.in_(gone)))
                    changes.sites_removed += len(gone)
                    touched.add(pid)
        if inserts:
            conn.execute(insert(sites), inserts)
            changes.sites_created += len(inserts)
        return touched

    def _write_contacts(
        self, conn: Connection, updates: Sequence[ProjectUpdate], project_ids: dict[str, int]
    ) -> set[int]:
        """Replace contacts where the input provides them; return the projects changed."""
        touched: set[int] = set()
        with_contacts = [u for u in updates if u.contacts_provided]
        if not with_contacts:
            return touched
        ids = [project_ids[u.project.code] for u in with_contacts]
        stored: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for chunk in _chunks(ids):
            query = (
                select(
                    project_contacts.c.project_id,
                    project_contacts.c.name,
                    project_contacts.c.role,
                    project_contacts.c.phone,
                    project_contacts.c.email,
                )
                .where(project_contacts.c.project_id.in_(chunk))
                .order_by(project_contacts.c.project_id, project_contacts.c.position)
            )
            for row in conn.execute(query):
                stored[row.project_id].append(tuple(row)[1:])
        for u in with_contacts:
            pid = project_ids[u.project.code]
            wanted = [(c.name, c.role, c.phone, c.email) for c in u.project.contacts]
            if stored.get(pid, []) == wanted:
                continue
            touched.add(pid)
            conn.execute(delete(project_contacts).where(project_contacts.c.project_id == pid))
            if wanted:
                conn.execute(
                    insert(project_contacts),
                    [
                        {
                            "project_id": pid,
                            "position": i,
                            "name": n,
                            "role": r,
                            "phone": p,
                            "email": e,
                        }
                        for i, (n, r, p, e) in enumerate(wanted)
                    ],
                )
        return touched

    def record_import(self, record: ImportRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(portfolio_imports), [record.__dict__])

    def clean_import_rows(self, sha256: str) -> int | None:
        query = (
            select(portfolio_imports.c.rows_total)
            .where(portfolio_imports.c.sha256 == sha256, portfolio_imports.c.rows_rejected == 0)
            .order_by(portfolio_imports.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            rows: int | None = conn.execute(query).scalar_one_or_none()
        return rows

    # ------------------------------------------------------------------ reads

    def iter_projects(self) -> Iterator[Project]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(projects, organizations.c.code.label("org_code"))
                .select_from(projects.outerjoin(organizations))
                .order_by(projects.c.code)
            ).all()
            yield from self._assemble(conn, rows)

    def get_project(self, code: str) -> Project | None:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(projects, organizations.c.code.label("org_code"))
                .select_from(projects.outerjoin(organizations))
                .where(projects.c.code == code)
            ).all()
            found = list(self._assemble(conn, rows))
        return found[0] if found else None

    def _assemble(self, conn: Connection, rows: Sequence[Any]) -> Iterator[Project]:
        ids = [row.id for row in rows]
        site_rows: dict[int, list[Site]] = defaultdict(list)
        contact_rows: dict[int, list[Contact]] = defaultdict(list)
        for chunk in _chunks(ids):
            for s in conn.execute(
                select(sites)
                .where(sites.c.project_id.in_(chunk))
                .order_by(sites.c.project_id, sites.c.id)
            ):
                site_rows[s.project_id].append(
                    Site(
                        key=s.key,
                        geometry=s.geometry,
                        name=s.name,
                        country_code=s.country_code,
                        precision=LocationPrecision(s.precision),
                        id=s.id,
                    )
                )
            for c in conn.execute(
                select(project_contacts)
                .where(project_contacts.c.project_id.in_(chunk))
                .order_by(project_contacts.c.project_id, project_contacts.c.position)
            ):
                contact_rows[c.project_id].append(Contact(c.name, c.role, c.phone, c.email))
        for row in rows:
            yield Project(
                code=row.code,
                name=row.name,
                name_zh=row.name_zh,
                organization_code=row.org_code,
                country_code=row.country_code,
                kind=ProjectKind(row.kind),
                sector=Sector(row.sector) if row.sector else None,
                status=ProjectStatus(row.status) if row.status else None,
                value_usd=row.value_usd,
                start_date=row.start_date,
                end_date=row.end_date,
                staff=StaffCounts(row.staff_cn, row.staff_local, row.staff_other),
                source=row.source,
                contacts=tuple(contact_rows[row.id]),
                sites=tuple(site_rows[row.id]),
                id=row.id,
            )

    def list_projects(
        self, where: ProjectFilter, offset: int, limit: int
    ) -> tuple[list[ProjectSummary], int]:
        conditions = _project_conditions(where)
        base = projects.outerjoin(organizations)
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(base).where(*conditions)
            ).scalar_one()
            rows = conn.execute(
                select(projects, organizations.c.code.label("org_code"))
                .select_from(base)
                .where(*conditions)
                .order_by(projects.c.code)
                .offset(offset)
                .limit(limit)
            ).all()
            ids = [r.id for r in rows]
            counts: dict[int, int] = {}
            anchors: dict[int, tuple[float, float]] = {}
            if ids:
                query = (
                    select(sites.c.project_id, sites.c.anchor_lon, sites.c.anchor_lat)
                    .where(sites.c.project_id.in_(ids))
                    .order_by(sites.c.project_id, sites.c.id)
                )
                for pid, lon, lat in conn.execute(query):
                    counts[pid] = counts.get(pid, 0) + 1
                    anchors.setdefault(pid, (lon, lat))
        summaries = [
            ProjectSummary(
                code=r.code,
                name=r.name,
                name_zh=r.name_zh,
                organization_code=r.org_code,
                country_code=r.country_code,
                kind=r.kind,
                sector=r.sector,
                status=r.status,
                value_usd=r.value_usd,
                site_count=counts.get(r.id, 0),
                anchor=anchors.get(r.id),
                updated_at=r.updated_at,
            )
            for r in rows
        ]
        return summaries, total

    def site_features(
        self, bbox: tuple[float, float, float, float] | None, offset: int, limit: int
    ) -> tuple[list[SiteFeature], int]:
        conditions: list[ColumnElement[bool]] = []
        if bbox is not None:
            conditions.append(_bbox_condition(*bbox))
        base = sites.join(projects)
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(base).where(*conditions)
            ).scalar_one()
            rows = conn.execute(
                select(
                    sites.c.id,
                    sites.c.key,
                    sites.c.name.label("site_name"),
                    sites.c.kind.label("site_kind"),
                    sites.c.precision,
                    sites.c.country_code,
                    sites.c.geometry,
                    projects.c.code,
                    projects.c.name,
                    projects.c.name_zh,
                    projects.c.kind,
                    projects.c.sector,
                    projects.c.status,
                )
                .select_from(base)
                .where(*conditions)
                .order_by(sites.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        features = [
            SiteFeature(
                site_id=r.id,
                site_key=r.key,
                site_name=r.site_name,
                site_kind=r.site_kind,
                precision=r.precision,
                country_code=r.country_code,
                geometry=r.geometry,
                project_code=r.code,
                project_name=r.name,
                project_name_zh=r.name_zh,
                project_kind=r.kind,
                sector=r.sector,
                status=r.status,
            )
            for r in rows
        ]
        return features, total

    def country_usage(self) -> list[CountryUsage]:
        with self.engine.connect() as conn:
            project_counts: dict[str | None, int] = dict(
                conn.execute(
                    select(projects.c.country_code, func.count()).group_by(projects.c.country_code)
                ).all()
            )
            site_counts: dict[str | None, int] = dict(
                conn.execute(
                    select(sites.c.country_code, func.count()).group_by(sites.c.country_code)
                ).all()
            )
            rows = conn.execute(select(countries).order_by(countries.c.iso2)).all()
        return [
            CountryUsage(
                Country(r.iso2, r.iso3, r.numeric or "", r.name_en, r.name_zh),
                project_counts.get(r.iso2, 0),
                site_counts.get(r.iso2, 0),
            )
            for r in rows
        ]

    def organizations(self) -> list[Organization]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(organizations).order_by(organizations.c.code)).all()
            oversight: dict[int, list[str]] = defaultdict(list)
            child = organizations.alias("child")
            for dept_id, code in conn.execute(
                select(organization_oversight.c.department_id, child.c.code).join(
                    child, child.c.id == organization_oversight.c.organization_id
                )
            ):
                oversight[dept_id].append(code)
        return [
            Organization(r.code, r.name, r.name_zh, OrgKind(r.kind), tuple(sorted(oversight[r.id])))
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (projects, sites, organizations, countries, project_contacts)
            }


def _project_values(project: Project, org_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "name": project.name,
        "name_zh": project.name_zh,
        "organization_id": org_ids.get(project.organization_code)
        if project.organization_code
        else None,
        "country_code": project.country_code,
        "kind": project.kind.value,
        "sector": project.sector.value if project.sector else None,
        "status": project.status.value if project.status else None,
        "value_usd": project.value_usd,
        "start_date": project.start_date,
        "end_date": project.end_date,
        "staff_cn": project.staff.chinese,
        "staff_local": project.staff.local,
        "staff_other": project.staff.third_country,
        "source": project.source,
    }


def _site_values(site: Site) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = site.geometry.bounds
    anchor_lon, anchor_lat = anchor_point(site.geometry)
    return {
        "key": site.key,
        "name": site.name,
        "kind": site.kind.value,
        "precision": site.precision.value,
        "country_code": site.country_code,
        "geometry": site.geometry,
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "anchor_lon": anchor_lon,
        "anchor_lat": anchor_lat,
    }


def _site_differs(stored: dict[str, Any], values: dict[str, Any]) -> bool:
    if any(stored[k] != values[k] for k in ("name", "precision", "country_code")):
        return True
    return bool(shapely.to_wkb(stored["geometry"]) != shapely.to_wkb(values["geometry"]))


def _project_conditions(where: ProjectFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.country_code:
        conditions.append(projects.c.country_code == where.country_code.upper())
    if where.organization_code:
        conditions.append(organizations.c.code == where.organization_code)
    if where.kind:
        conditions.append(projects.c.kind == where.kind)
    if where.sector:
        conditions.append(projects.c.sector == where.sector)
    if where.status:
        conditions.append(projects.c.status == where.status)
    if where.text:
        needle = where.text.lower()
        conditions.append(
            or_(
                func.lower(projects.c.code).contains(needle, autoescape=True),
                func.lower(projects.c.name).contains(needle, autoescape=True),
                func.coalesce(projects.c.name_zh, "").contains(where.text, autoescape=True),
            )
        )
    return conditions


def _bbox_condition(
    min_lon: float, min_lat: float, max_lon: float, max_lat: float
) -> ColumnElement[bool]:
    lat = and_(sites.c.max_lat >= min_lat, sites.c.min_lat <= max_lat)
    if min_lon <= max_lon:
        return and_(lat, sites.c.max_lon >= min_lon, sites.c.min_lon <= max_lon)
    # A box across the antimeridian (e.g. 170 … -170) is two longitude ranges.
    return and_(lat, or_(sites.c.max_lon >= min_lon, sites.c.min_lon <= max_lon))
