"""Portfolio foundation: countries, organisations, projects, sites, contacts, import log.

Revision ID: 0001_portfolio
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allweather.store.geometry import Geometry
from allweather.store.tables import UTCDateTime

revision = "0001_portfolio"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "countries",
        sa.Column("iso2", sa.String(2), primary_key=True),
        sa.Column("iso3", sa.String(3), nullable=False, unique=True),
        sa.Column("numeric", sa.String(3)),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("name_zh", sa.String(120), nullable=False),
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_zh", sa.String(300)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('enterprise', 'department')", name="kind"),
    )
    op.create_table(
        "organization_oversight",
        sa.Column(
            "department_id",
            sa.Integer,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "organization_id",
            sa.Integer,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("name_zh", sa.String(500)),
        sa.Column(
            "organization_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="SET NULL")
        ),
        sa.Column("country_code", sa.String(2), sa.ForeignKey("countries.iso2")),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sector", sa.String(40)),
        sa.Column("status", sa.String(40)),
        sa.Column("value_usd", sa.Float),
        sa.Column("start_date", sa.Date),
        sa.Column("end_date", sa.Date),
        sa.Column("staff_cn", sa.Integer),
        sa.Column("staff_local", sa.Integer),
        sa.Column("staff_other", sa.Integer),
        sa.Column("source", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_projects_country_code", "projects", ["country_code"])
    op.create_index("ix_projects_organization_id", "projects", ["organization_id"])
    op.create_table(
        "project_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(200)),
        sa.Column("phone", sa.String(60)),
        sa.Column("email", sa.String(200)),
        sa.UniqueConstraint("project_id", "position", name="uq_project_contacts_position"),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("precision", sa.String(20), nullable=False),
        sa.Column("country_code", sa.String(2), sa.ForeignKey("countries.iso2")),
        sa.Column("geometry", Geometry, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("anchor_lon", sa.Float, nullable=False),
        sa.Column("anchor_lat", sa.Float, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("project_id", "key", name="uq_sites_project_key"),
        sa.CheckConstraint("kind IN ('point', 'area', 'line')", name="kind"),
    )
    op.create_index("ix_sites_bbox", "sites", ["min_lon", "max_lon", "min_lat", "max_lat"])
    op.create_index("ix_sites_country_code", "sites", ["country_code"])
    if postgres:
        op.execute("CREATE INDEX ix_sites_geometry ON sites USING GIST (geometry)")
    op.create_table(
        "portfolio_imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_name", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_format", sa.String(10), nullable=False),
        sa.Column("strict", sa.Boolean, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=False),
        sa.Column("rows_landed", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_index("ix_portfolio_imports_sha256", "portfolio_imports", ["sha256"])


def downgrade() -> None:
    for table in (
        "portfolio_imports",
        "sites",
        "project_contacts",
        "projects",
        "organization_oversight",
        "organizations",
        "countries",
    ):
        op.drop_table(table)
