"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    Text,
    UniqueConstraint,
    text,
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


class EpochSeconds(TypeDecorator[datetime]):
    """UTC instants stored as integer seconds since 1970.

    Used by the high-volume event tables: integers bind and compare faster than timestamps on
    SQLite, and the bulk writers can produce them column-wise without datetime objects.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | int | None, dialect: Dialect) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC")
        return int(value.timestamp())

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(int(value), UTC)


# SQLite makes a column the rowid (the fast path) only when it is declared exactly INTEGER.
EventKey = BigInteger().with_variant(Integer(), "sqlite")

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

events = Table(
    "events",
    metadata,
    Column(
        "id", EventKey, primary_key=True, autoincrement=False
    ),  # allweather.domain.events.event_key
    Column("source_id", String(200), nullable=False),
    Column("occurred_at", EpochSeconds, nullable=False),
    Column("ended_at", EpochSeconds),
    Column("reported_at", EpochSeconds),
    Column("fine_type", String(40), nullable=False),
    Column("category", String(20)),  # NULL: the fine type's default
    Column("event_class", String(30)),  # NULL: the fine type's default
    Column("severity", String(4), nullable=False),
    Column("severity_rule", String(120), nullable=False),
    Column("country_code", String(2)),
    Column("place", String(300)),
    Column("title", Text),
    Column("url", Text),
    Column("language", String(16)),
    # Location: a point is lon/lat alone; an area also has its geometry and its extent (the
    # distance from lon/lat to its farthest point), the portable prefilter for matching.
    Column("lon", Float),
    Column("lat", Float),
    Column("extent_km", Float),
    Column("geometry", Geometry),
    Column("precision", String(10), nullable=False),
    Column("fatalities", Integer),
    Column("magnitude", Float),
    Column("details", Text),  # JSON: source-specific values
    Column("run_id", Integer),
    Column("deleted_at", EpochSeconds),  # the source retracted it
    Index("ix_events_occurred_at", "occurred_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("run_id", Integer),
    Column("ref", String(200), nullable=False),
    Column("field", String(64)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_quarantine_source", "source", "id"),
)

source_runs = Table(
    "source_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("mode", String(10), nullable=False),  # file, live, replay
    Column("target", Text),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(12), nullable=False),  # running, ok, partial, unchanged, failed
    Column("records_read", Integer, nullable=False),
    Column("records_new", Integer, nullable=False),
    Column("records_updated", Integer, nullable=False),
    Column("records_deleted", Integer, nullable=False),
    Column("records_quarantined", Integer, nullable=False),
    Column("records_skipped", Integer, nullable=False),
    Column("newest_event_at", UTCDateTime),
    Column("error", Text),
    Index("ix_source_runs_source", "source", "id"),
)

source_state = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("enabled", Boolean),  # NULL: the spec's default
    Column("cursor", JSON),  # the connector's own position (last file, last timestamp, …)
    Column("progress", JSON),  # payload sha256 -> chunks committed, for resuming a payload
    Column("etag", String(300)),
    Column("last_modified", String(100)),
    Column("last_attempt_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
)

raw_payloads = Table(
    "raw_payloads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("run_id", Integer),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("url", Text),
    Column("sha256", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_raw_payloads_source", "source", "id"),
)

listed_entities = Table(
    "listed_entities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("name", String(500), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("countries", JSON, nullable=False),
    Column("programs", JSON, nullable=False),
    Column("listed_from", Date),
    Column("listed_to", Date),
    Column("reason", Text),
    Column("details", JSON, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("delisted_at", UTCDateTime),  # absent from the latest snapshot of its list
    Column("run_id", Integer),
    UniqueConstraint("source", "source_id", name="uq_listed_entities_source_id"),
)

exposures = Table(
    "exposures",
    metadata,
    # One row per (event, site) the event reaches. No foreign key to events: the bulk event
    # path must not pay for one, and removing a source's events removes their exposures.
    Column("event_id", EventKey, primary_key=True, autoincrement=False),
    Column("site_id", Integer, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("distance_km", Float),  # NULL: the event's location is known only to its country
    Column("bearing_deg", Float),  # from the site's nearest point to the event; NULL inside
    Column("reach_kind", String(10), nullable=False),  # radius, country
    Column("reach_km", Float),  # the radius that applied, precision widening included
    Column("rule", String(200), nullable=False),  # which reach rule applied, and its scope
    Column("precision", String(10), nullable=False),  # the event's location precision
    Column("note", String(300)),  # what imprecision did to the match, in both languages
    Column("matrix_version", String(40), nullable=False),
    Column("matched_at", EpochSeconds, nullable=False),
    Index("ix_exposures_project_id", "project_id"),
    Index("ix_exposures_site_id", "site_id"),
)

reach_overrides = Table(
    "reach_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(12), nullable=False),  # organization, project
    Column("scope_code", String(64), nullable=False),
    Column("fine_type", String(40), nullable=False),
    Column("severity", String(4), nullable=False),  # "*": every grade
    Column("site_kind", String(10), nullable=False),  # "*": every kind
    Column("kind", String(10), nullable=False),  # radius, country, none
    Column("radius_km", Float),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "scope", "scope_code", "fine_type", "severity", "site_kind", name="uq_reach_overrides_key"
    ),
    CheckConstraint("scope IN ('organization', 'project')", name="scope"),
)

match_state = Table(
    "match_state",
    metadata,
    # One row. ``generation`` grows whenever sites or reach rules change, so a long-running
    # ingest notices and reloads its site index before matching the next chunk.
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("matched_generation", Integer, nullable=False),  # the last full re-match ran at
    Column("matrix_fingerprint", String(32)),  # of the platform matrix it ran under
    Column("changed_at", UTCDateTime),
    Column("rematched_at", UTCDateTime),
)

score_inputs = Table(
    "score_inputs",
    metadata,
    # One row per (project, event reaching it): the nearest of the project's sites, with what
    # scoring needs, ordered so one scan groups by project, category and fine type (SQLite
    # keeps it WITHOUT ROWID, clustered on the key). Derived from exposures; rebuilt with them.
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("category", String(20), primary_key=True),
    Column("fine_type", String(40), primary_key=True),
    Column("event_id", EventKey, primary_key=True, autoincrement=False),
    Column("occurred_at", BigInteger, nullable=False),  # epoch seconds
    Column("severity", String(4), nullable=False),
    Column("proximity", String(20), nullable=False),  # radius, country, country_precision
    Column("distance_km", Float),
    Column("reach_km", Float),
    Column("site_id", Integer, nullable=False),
    Column("known_at", BigInteger, nullable=False),  # when the platform first had it
    # The method's severity × proximity weight and decay rate (1/s), filled in by the score
    # store before it sums (NULL: not yet, or the method changed), so the scan is one exp a row.
    Column("weight", Float),
    Column("decay", Float),
    Index("ix_score_inputs_event_id", "event_id"),
    Index(
        "ix_score_inputs_unweighted",
        "project_id",
        sqlite_where=text("weight IS NULL"),
        postgresql_where=text("weight IS NULL"),
    ),
    sqlite_with_rowid=False,
)

score_dirty = Table(
    "score_dirty",
    metadata,
    # Projects whose exposures changed since their scores were last computed; written in the
    # same transaction as the exposures, cleared by the scoring step that handles them.
    Column("project_id", Integer, primary_key=True, autoincrement=False),
)

scores = Table(
    "scores",
    metadata,
    # The current score per project and category (``overall`` too). ``score``/``level`` are
    # what users see: an analyst's override while one is active, else the computed values,
    # which stay beside it.
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("score", Float, nullable=False),
    Column("level", Integer, nullable=False),
    Column("computed_score", Float, nullable=False),
    Column("computed_level", Integer, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("pressure", Float, nullable=False),
    Column("likelihood", Integer, nullable=False),
    Column("consequence", Integer, nullable=False),
    Column("risk_grade", Integer, nullable=False),
    Column("coverage", Float, nullable=False),
    Column("confidence", String(10), nullable=False),
    Column("override_id", Integer),
    Column("method_version", String(60), nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("as_of", BigInteger, nullable=False),  # the instant the score describes
    Column("computed_at", UTCDateTime, nullable=False),
)

country_baselines = Table(
    "country_baselines",
    metadata,
    # The baseline of every country and category with its inputs (source, year, risk): the
    # indicator half of every score's explanation, kept once per country, not per project.
    Column("country_code", String(2), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("score", Float, nullable=False),
    Column("coverage", Float, nullable=False),
    Column("imputed", Boolean, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
)

score_history = Table(
    "score_history",
    metadata,
    # End-of-day values (Beijing days) per project and category, for trends; a rebuild from
    # stored score inputs reproduces them (``allweather scores recompute --history``).
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("score", Float, nullable=False),
    Column("level", Integer, nullable=False),
    Column("computed_score", Float, nullable=False),
    Column("computed_level", Integer, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("pressure", Float, nullable=False),
    Column("confidence", String(10), nullable=False),
    Column("override_id", Integer),
    Column("method_version", String(60), nullable=False),
)

score_overrides = Table(
    "score_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("category", String(20), nullable=False),
    Column("score", Float),  # at least one of score and level
    Column("level", Integer),
    Column("reason", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Index("ix_score_overrides_project_id", "project_id", "category"),
)

country_ratings = Table(
    "country_ratings",
    metadata,
    # Ratings an administrator enters (MFA travel level, Sinosure 1–9): baseline inputs.
    Column("id", Integer, primary_key=True),
    Column("country_code", String(2), ForeignKey("countries.iso2"), nullable=False),
    Column("scale", String(20), nullable=False),
    Column("value", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("entered_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("country_code", "scale", "as_of", name="uq_country_ratings_key"),
)

score_state = Table(
    "score_state",
    metadata,
    # One row: the method the stored scores were computed under, and the last closed day.
    Column("id", Integer, primary_key=True),
    Column("method_version", String(60)),
    Column("weights_method", String(80)),  # the method score_inputs.weight was filled under
    Column("closed_through", Date),
    Column("recomputed_at", UTCDateTime),
)

warn_dirty = Table(
    "warn_dirty",
    metadata,
    # Projects whose warning rules must be evaluated again (new exposures, a new score, a
    # rating); written in the transaction that changed them, cleared by the warning engine.
    Column("project_id", Integer, primary_key=True, autoincrement=False),
)

warnings = Table(
    "warnings",
    metadata,
    # One warning (预警) per project and category while it is open, updated rather than
    # repeated; ``open_key`` is set only while it is active, so the unique index enforces that.
    Column("id", Integer, primary_key=True),
    Column("open_key", String(80), unique=True),
    Column("scope", String(10), nullable=False),  # project, source
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE")),
    Column("source", String(64)),  # the stale source of a system warning
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("country_code", String(2)),
    Column("category", String(20), nullable=False),  # MOFCOM category, or system
    Column("level", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("triggers", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),  # 起始时间
    Column("issued_at", UTCDateTime),  # 发布时间 (first publication; NULL for a draft)
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime),
    Column("title", JSON, nullable=False),  # {zh, en}
    Column("affected_area", JSON, nullable=False),  # 可能影响的范围
    Column("key_points", JSON, nullable=False),  # 警示事项
    Column("measures", JSON, nullable=False),  # 应当采取的措施
    Column("issuer", JSON, nullable=False),  # 发布单位
    Column("decision_required", Boolean, nullable=False),
    Column("rules_version", String(60), nullable=False),
    Column("authored_by", String(200)),
    Column("approved_by", String(200)),
    Column("acknowledged_at", UTCDateTime),
    Column("escalation_step", Integer, nullable=False),
    Column("escalate_at", UTCDateTime),  # next climb while unacknowledged; NULL: none due
    Index("ix_warnings_project_id", "project_id"),
    Index("ix_warnings_escalate_at", "escalate_at"),
)

warning_history = Table(
    "warning_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("warning_id", Integer, ForeignKey("warnings.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("action", String(12), nullable=False),
    Column("level", Integer, nullable=False),
    Column("previous_level", Integer),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", JSON, nullable=False),  # why: {zh, en} and any details
    Column("snapshot", JSON),  # the Art. 64 fields as issued at this revision
    Index("ix_warning_history_warning_id", "warning_id"),
)

warning_evidence = Table(
    "warning_evidence",
    metadata,
    Column("warning_id", Integer, ForeignKey("warnings.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", EventKey, primary_key=True, autoincrement=False),
    Column("trigger", String(20), nullable=False),
    Column("site_id", Integer),
    Column("distance_km", Float),
    Column("reach_km", Float),
    Column("proximity", String(20), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
)

warning_acks = Table(
    "warning_acks",
    metadata,
    # 签收: each acknowledgement with its disposition, kept as a label for tuning the rules.
    Column("id", Integer, primary_key=True),
    Column("warning_id", Integer, ForeignKey("warnings.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("disposition", String(20), nullable=False),
    Column("comment", Text),
    Column("by", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("triggers", JSON, nullable=False),  # the rules that had raised it, for precision
    Index("ix_warning_acks_warning_id", "warning_id"),
)

warning_suppressions = Table(
    "warning_suppressions",
    metadata,
    # Events a recipient judged not relevant, duplicate or false for a project: they no longer
    # raise a warning there by themselves.
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", EventKey, primary_key=True, autoincrement=False),
    Column("warning_id", Integer, nullable=False),
    Column("disposition", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

rule_evaluations = Table(
    "rule_evaluations",
    metadata,
    # Every evaluation of a rule: whether it fired and why.
    Column("id", Integer, primary_key=True),
    Column("evaluated_at", UTCDateTime, nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE")),
    Column("source", String(64)),
    Column("category", String(20), nullable=False),
    Column("rule", String(20), nullable=False),
    Column("fired", Boolean, nullable=False),
    Column("level", Integer),
    Column("reason", JSON, nullable=False),  # {zh, en}
    Column("evidence", JSON, nullable=False),  # event ids
    Column("warning_id", Integer),
    Column("rules_version", String(60), nullable=False),
    Index("ix_rule_evaluations_project_id", "project_id", "category"),
)

channels = Table(
    "channels",
    metadata,
    # A notification channel and the scope it subscribes to (订阅范围).
    Column("id", Integer, primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("target", Text, nullable=False),
    Column("secret", Text),
    Column("name", String(200)),
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE")),
    Column("country_code", String(2)),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE")),
    Column("category", String(20)),
    Column("min_level", Integer, nullable=False),  # the least serious level it receives
    Column("quiet_hours", String(11)),  # HH:MM-HH:MM, Beijing time
    Column("ladder_step", Integer, nullable=False),  # 0: first line; n: the n-th escalation
    Column("system", Boolean, nullable=False),  # also receives the platform's own warnings
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    # Transactional outbox: written with the warning change, delivered at least once.
    Column("id", Integer, primary_key=True),
    Column("key", String(120), nullable=False, unique=True),  # idempotency key
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("warning_id", Integer),
    Column("mode", String(10), nullable=False),  # live, digest
    Column("level", Integer),
    Column("payload", JSON, nullable=False),  # the Notification
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("locked_until", UTCDateTime),
    Column("status", String(10), nullable=False),  # pending, sent, digested, failed
    Column("sent_at", UTCDateTime),
    Column("sent_as", String(120)),  # the digest key when it went out in a digest
    Column("last_error", Text),
    Index("ix_outbox_pending", "status", "due_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    # Delivery log: every attempt, with its outcome.
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(120), nullable=False),  # what was sent (an outbox key or a digest's)
    Column("items", Integer, nullable=False),  # outbox rows it carried
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("detail", Text),
    Index("ix_deliveries_channel_id", "channel_id", "at"),
)

# Tables emptied between tests, children first.
ALL_DATA_TABLES = [
    deliveries,
    outbox,
    channels,
    rule_evaluations,
    warning_suppressions,
    warning_acks,
    warning_evidence,
    warning_history,
    warnings,
    warn_dirty,
    score_history,
    scores,
    score_overrides,
    score_inputs,
    score_dirty,
    score_state,
    country_baselines,
    country_ratings,
    exposures,
    reach_overrides,
    match_state,
    events,
    quarantine,
    source_runs,
    source_state,
    raw_payloads,
    listed_entities,
    portfolio_imports,
    project_contacts,
    sites,
    projects,
    organization_oversight,
    organizations,
]

__all__ = [
    "ALL_DATA_TABLES",
    "channels",
    "deliveries",
    "outbox",
    "rule_evaluations",
    "warn_dirty",
    "warning_acks",
    "warning_evidence",
    "warning_history",
    "warning_suppressions",
    "warnings",
    "countries",
    "country_baselines",
    "country_ratings",
    "score_dirty",
    "score_history",
    "score_inputs",
    "score_overrides",
    "score_state",
    "scores",
    "events",
    "exposures",
    "listed_entities",
    "match_state",
    "metadata",
    "organization_oversight",
    "organizations",
    "portfolio_imports",
    "project_contacts",
    "projects",
    "quarantine",
    "raw_payloads",
    "reach_overrides",
    "sites",
    "source_runs",
    "source_state",
]
