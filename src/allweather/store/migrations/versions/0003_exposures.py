"""Matching: exposures, reach overrides, and the match generation.

Revision ID: 0003_exposures
Revises: 0002_sources
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allweather.store.tables import EpochSeconds, EventKey, UTCDateTime

revision = "0003_exposures"
down_revision = "0002_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("event_id", EventKey, primary_key=True, autoincrement=False),
        sa.Column(
            "site_id",
            sa.Integer,
            sa.ForeignKey("sites.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("distance_km", sa.Float),
        sa.Column("bearing_deg", sa.Float),
        sa.Column("reach_kind", sa.String(10), nullable=False),
        sa.Column("reach_km", sa.Float),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("precision", sa.String(10), nullable=False),
        sa.Column("note", sa.String(300)),
        sa.Column("matrix_version", sa.String(40), nullable=False),
        sa.Column("matched_at", EpochSeconds, nullable=False),
    )
    op.create_index("ix_exposures_project_id", "exposures", ["project_id"])
    op.create_index("ix_exposures_site_id", "exposures", ["site_id"])
    op.create_table(
        "reach_overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(12), nullable=False),
        sa.Column("scope_code", sa.String(64), nullable=False),
        sa.Column("fine_type", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("site_kind", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("radius_km", sa.Float),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint(
            "scope",
            "scope_code",
            "fine_type",
            "severity",
            "site_kind",
            name="uq_reach_overrides_key",
        ),
        sa.CheckConstraint("scope IN ('organization', 'project')", name="scope"),
    )
    op.create_table(
        "match_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("matched_generation", sa.Integer, nullable=False),
        sa.Column("matrix_fingerprint", sa.String(32)),
        sa.Column("changed_at", UTCDateTime),
        sa.Column("rematched_at", UTCDateTime),
    )


def downgrade() -> None:
    for table in ("match_state", "reach_overrides", "exposures"):
        op.drop_table(table)
