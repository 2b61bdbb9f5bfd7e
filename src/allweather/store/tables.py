"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from allweather.store.geometry import Geometry

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use the platform clock (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


countries = Table(
    "countries",
    metadata,
    Column("iso2", String(2), primary_key=True),
    Column("iso3", String(3), nullable=False, unique=True),
    Column("numeric", String(3), nullable=True),
    Column("name_en", String(120), nullable=False),
    Column("name_zh", String(120), nullable=False),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("name_zh", String(300)),
    Column("kind", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('enterprise', 'department')", name="kind"),
)

organization_oversight = Table(
    "organization_oversight",
    metadata,
    Column(
        "department_id",
        Integer,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "organization_id",
        Integer,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("name_zh", String(500)),
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("country_code", String(2), ForeignKey("countries.iso2")),
    Column("kind", String(20), nullable=False),
    Column("sector", String(40)),
    Column("status", String(40)),
    Column("value_usd", Float),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("staff_cn", Integer),
    Column("staff_local", Integer),
    Column("staff_other", Integer),
    Column("source", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_projects_country_code", "country_code"),
    Index("ix_projects_organization_id", "organization_id"),
)

project_contacts = Table(
    "project_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(200)),
    Column("phone", String(60)),
    Column("email", String(200)),
    UniqueConstraint("project_id", "position", name="uq_project_contacts_position"),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("name", String(300)),
    Column("kind", String(10), nullable=False),
    Column("precision", String(20), nullable=False),
    Column("country_code", String(2), ForeignKey("countries.iso2")),
    Column("geometry", Geometry, nullable=False),
    # Bounding box and anchor: the portable spatial prefilter (SQLite has no spatial index)
    # and the map pin. PostGIS additionally indexes ``geometry`` with GiST.
    Column("min_lon", Float, nullable=False),
    Column("min_lat", Float, nullable=False),
    Column("max_lon", Float, nullable=False),
    Column("max_lat", Float, nullable=False),
    Column("anchor_lon", Float, nullable=False),
    Column("anchor_lat", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_id", "key", name="uq_sites_project_key"),
    CheckConstraint("kind IN ('point', 'area', 'line')", name="kind"),
    Index("ix_sites_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    Index("ix_sites_country_code", "country_code"),
)

portfolio_imports = Table(
    "portfolio_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_name", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("file_format", String(10), nullable=False),
    Column("strict", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_landed", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Index("ix_portfolio_imports_sha256", "sha256"),
)

# Tables emptied between tests, children first.
ALL_DATA_TABLES = [
    portfolio_imports,
    project_contacts,
    sites,
    projects,
    organization_oversight,
    organizations,
]

__all__ = [
    "ALL_DATA_TABLES",
    "countries",
    "metadata",
    "organization_oversight",
    "organizations",
    "portfolio_imports",
    "project_contacts",
    "projects",
    "sites",
]
