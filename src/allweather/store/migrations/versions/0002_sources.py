"""Sources: events, quarantine, runs, source state, raw payloads, listed entities.

Revision ID: 0002_sources
Revises: 0001_portfolio
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allweather.store.geometry import Geometry
from allweather.store.tables import EpochSeconds, EventKey, UTCDateTime

revision = "0002_sources"
down_revision = "0001_portfolio"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", EventKey, primary_key=True, autoincrement=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("occurred_at", EpochSeconds, nullable=False),
        sa.Column("ended_at", EpochSeconds),
        sa.Column("reported_at", EpochSeconds),
        sa.Column("fine_type", sa.String(40), nullable=False),
        sa.Column("category", sa.String(20)),
        sa.Column("event_class", sa.String(30)),
        sa.Column("severity", sa.String(4), nullable=False),
        sa.Column("severity_rule", sa.String(120), nullable=False),
        sa.Column("country_code", sa.String(2)),
        sa.Column("place", sa.String(300)),
        sa.Column("title", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("extent_km", sa.Float),
        sa.Column("geometry", Geometry),
        sa.Column("precision", sa.String(10), nullable=False),
        sa.Column("fatalities", sa.Integer),
        sa.Column("magnitude", sa.Float),
        sa.Column("details", sa.Text),
        sa.Column("run_id", sa.Integer),
        sa.Column("deleted_at", EpochSeconds),
    )
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("field", sa.String(64)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_quarantine_source", "quarantine", ["source", "id"])
    op.create_table(
        "source_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("records_read", sa.Integer, nullable=False),
        sa.Column("records_new", sa.Integer, nullable=False),
        sa.Column("records_updated", sa.Integer, nullable=False),
        sa.Column("records_deleted", sa.Integer, nullable=False),
        sa.Column("records_quarantined", sa.Integer, nullable=False),
        sa.Column("records_skipped", sa.Integer, nullable=False),
        sa.Column("newest_event_at", UTCDateTime),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_source_runs_source", "source_runs", ["source", "id"])
    op.create_table(
        "source_state",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("enabled", sa.Boolean),
        sa.Column("cursor", sa.JSON),
        sa.Column("progress", sa.JSON),
        sa.Column("etag", sa.String(300)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("last_attempt_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "raw_payloads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_raw_payloads_source", "raw_payloads", ["source", "id"])
    op.create_table(
        "listed_entities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("countries", sa.JSON, nullable=False),
        sa.Column("programs", sa.JSON, nullable=False),
        sa.Column("listed_from", sa.Date),
        sa.Column("listed_to", sa.Date),
        sa.Column("reason", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("delisted_at", UTCDateTime),
        sa.Column("run_id", sa.Integer),
        sa.UniqueConstraint("source", "source_id", name="uq_listed_entities_source_id"),
    )


def downgrade() -> None:
    for table in (
        "listed_entities",
        "raw_payloads",
        "source_state",
        "source_runs",
        "quarantine",
        "events",
    ):
        op.drop_table(table)
