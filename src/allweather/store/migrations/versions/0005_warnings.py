"""Warnings: rules' evaluations, warnings with history and evidence, acknowledgements,
channels, the notification outbox and its delivery log.

Revision ID: 0005_warnings
Revises: 0004_scores
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allweather.store.tables import EventKey, UTCDateTime

revision = "0005_warnings"
down_revision = "0004_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "warn_dirty",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "warnings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("open_key", sa.String(80), unique=True),
        sa.Column("scope", sa.String(10), nullable=False),  # project, source
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE")),
        sa.Column("source", sa.String(64)),  # the stale source of a system warning
        sa.Column(
            "organization_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="SET NULL")
        ),
        sa.Column("country_code", sa.String(2)),
        sa.Column("category", sa.String(20), nullable=False),  # MOFCOM category, or system
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("triggers", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),  # 起始时间
        sa.Column("issued_at", UTCDateTime),  # 发布时间 (first publication; NULL for a draft)
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("lifted_at", UTCDateTime),
        sa.Column("title", sa.JSON, nullable=False),  # {zh, en}
        sa.Column("affected_area", sa.JSON, nullable=False),  # 可能影响的范围
        sa.Column("key_points", sa.JSON, nullable=False),  # 警示事项
        sa.Column("measures", sa.JSON, nullable=False),  # 应当采取的措施
        sa.Column("issuer", sa.JSON, nullable=False),  # 发布单位
        sa.Column("decision_required", sa.Boolean, nullable=False),
        sa.Column("rules_version", sa.String(60), nullable=False),
        sa.Column("authored_by", sa.String(200)),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("acknowledged_at", UTCDateTime),
        sa.Column("escalation_step", sa.Integer, nullable=False),
        sa.Column("escalate_at", UTCDateTime),  # next climb while unacknowledged; NULL: none due
    )
    op.create_table(
        "warning_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "warning_id",
            sa.Integer,
            sa.ForeignKey("warnings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("previous_level", sa.Integer),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.JSON, nullable=False),  # why: {zh, en} and any details
        sa.Column("snapshot", sa.JSON),  # the Art. 64 fields as issued at this revision
    )
    op.create_table(
        "warning_evidence",
        sa.Column(
            "warning_id",
            sa.Integer,
            sa.ForeignKey("warnings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event_id", EventKey, primary_key=True, autoincrement=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("site_id", sa.Integer),
        sa.Column("distance_km", sa.Float),
        sa.Column("reach_km", sa.Float),
        sa.Column("proximity", sa.String(20), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "warning_acks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "warning_id",
            sa.Integer,
            sa.ForeignKey("warnings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("disposition", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column(
            "triggers", sa.JSON, nullable=False
        ),  # the rules that had raised it, for precision
    )
    op.create_table(
        "warning_suppressions",
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event_id", EventKey, primary_key=True, autoincrement=False),
        sa.Column("warning_id", sa.Integer, nullable=False),
        sa.Column("disposition", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "rule_evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("evaluated_at", UTCDateTime, nullable=False),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE")),
        sa.Column("source", sa.String(64)),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(20), nullable=False),
        sa.Column("fired", sa.Boolean, nullable=False),
        sa.Column("level", sa.Integer),
        sa.Column("reason", sa.JSON, nullable=False),  # {zh, en}
        sa.Column("evidence", sa.JSON, nullable=False),  # event ids
        sa.Column("warning_id", sa.Integer),
        sa.Column("rules_version", sa.String(60), nullable=False),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("name", sa.String(200)),
        sa.Column(
            "organization_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE")
        ),
        sa.Column("country_code", sa.String(2)),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE")),
        sa.Column("category", sa.String(20)),
        sa.Column("min_level", sa.Integer, nullable=False),  # the least serious level it receives
        sa.Column("quiet_hours", sa.String(11)),  # HH:MM-HH:MM, Beijing time
        sa.Column(
            "ladder_step", sa.Integer, nullable=False
        ),  # 0: first line; n: the n-th escalation
        sa.Column(
            "system", sa.Boolean, nullable=False
        ),  # also receives the platform's own warnings
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(120), nullable=False, unique=True),  # idempotency key
        sa.Column(
            "channel_id",
            sa.Integer,
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("warning_id", sa.Integer),
        sa.Column("mode", sa.String(10), nullable=False),  # live, digest
        sa.Column("level", sa.Integer),
        sa.Column("payload", sa.JSON, nullable=False),  # the Notification
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("status", sa.String(10), nullable=False),  # pending, sent, digested, failed
        sa.Column("sent_at", UTCDateTime),
        sa.Column("sent_as", sa.String(120)),  # the digest key when it went out in a digest
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "channel_id",
            sa.Integer,
            sa.ForeignKey("channels.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "key", sa.String(120), nullable=False
        ),  # what was sent (an outbox key or a digest's)
        sa.Column("items", sa.Integer, nullable=False),  # outbox rows it carried
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_warnings_project_id", "warnings", ["project_id"])
    op.create_index("ix_warnings_escalate_at", "warnings", ["escalate_at"])
    op.create_index("ix_warning_history_warning_id", "warning_history", ["warning_id"])
    op.create_index("ix_warning_acks_warning_id", "warning_acks", ["warning_id"])
    op.create_index(
        "ix_rule_evaluations_project_id", "rule_evaluations", ["project_id", "category"]
    )
    op.create_index("ix_outbox_pending", "outbox", ["status", "due_at"])
    op.create_index("ix_deliveries_channel_id", "deliveries", ["channel_id", "at"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("outbox")
    op.drop_table("channels")
    op.drop_table("rule_evaluations")
    op.drop_table("warning_suppressions")
    op.drop_table("warning_acks")
    op.drop_table("warning_evidence")
    op.drop_table("warning_history")
    op.drop_table("warnings")
    op.drop_table("warn_dirty")
