"""Scoring: score inputs, current scores, daily history, overrides, country ratings.

Revision ID: 0004_scores
Revises: 0003_exposures
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allweather.store.tables import EventKey, UTCDateTime

revision = "0004_scores"
down_revision = "0003_exposures"
branch_labels = None
depends_on = None


def _project_fk() -> sa.ForeignKey:
    return sa.ForeignKey("projects.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "score_inputs",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("fine_type", sa.String(40), primary_key=True),
        sa.Column("event_id", EventKey, primary_key=True, autoincrement=False),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("proximity", sa.String(20), nullable=False),
        sa.Column("distance_km", sa.Float),
        sa.Column("reach_km", sa.Float),
        sa.Column("site_id", sa.Integer, nullable=False),
        sa.Column("known_at", sa.BigInteger, nullable=False),
        sa.Column("weight", sa.Float),
        sa.Column("decay", sa.Float),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_score_inputs_event_id", "score_inputs", ["event_id"])
    op.create_index(
        "ix_score_inputs_unweighted",
        "score_inputs",
        ["project_id"],
        sqlite_where=sa.text("weight IS NULL"),
        postgresql_where=sa.text("weight IS NULL"),
    )
    op.create_table(
        "score_dirty",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "scores",
        sa.Column("project_id", sa.Integer, _project_fk(), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("computed_score", sa.Float, nullable=False),
        sa.Column("computed_level", sa.Integer, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("pressure", sa.Float, nullable=False),
        sa.Column("likelihood", sa.Integer, nullable=False),
        sa.Column("consequence", sa.Integer, nullable=False),
        sa.Column("risk_grade", sa.Integer, nullable=False),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("confidence", sa.String(10), nullable=False),
        sa.Column("override_id", sa.Integer),
        sa.Column("method_version", sa.String(60), nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("as_of", sa.BigInteger, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "country_baselines",
        sa.Column("country_code", sa.String(2), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("coverage", sa.Float, nullable=False),
        sa.Column("imputed", sa.Boolean, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "score_history",
        sa.Column("project_id", sa.Integer, _project_fk(), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("computed_score", sa.Float, nullable=False),
        sa.Column("computed_level", sa.Integer, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("pressure", sa.Float, nullable=False),
        sa.Column("confidence", sa.String(10), nullable=False),
        sa.Column("override_id", sa.Integer),
        sa.Column("method_version", sa.String(60), nullable=False),
    )
    op.create_table(
        "score_overrides",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, _project_fk(), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("level", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_score_overrides_project_id", "score_overrides", ["project_id", "category"])
    op.create_table(
        "country_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("country_code", sa.String(2), sa.ForeignKey("countries.iso2"), nullable=False),
        sa.Column("scale", sa.String(20), nullable=False),
        sa.Column("value", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("country_code", "scale", "as_of", name="uq_country_ratings_key"),
    )
    op.create_table(
        "score_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("method_version", sa.String(60)),
        sa.Column("weights_method", sa.String(80)),
        sa.Column("closed_through", sa.Date),
        sa.Column("recomputed_at", UTCDateTime),
    )


def downgrade() -> None:
    for name in (
        "score_state",
        "country_ratings",
        "score_overrides",
        "score_history",
        "country_baselines",
        "scores",
        "score_dirty",
        "score_inputs",
    ):
        op.drop_table(name)
