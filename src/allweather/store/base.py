"""Store contracts: what use cases write and read, independent of SQL.

Use cases (portfolio import, later matching and scoring) depend on these protocols and receive a
concrete store by injection; only ``allweather.store`` contains SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shapely.geometry.base import BaseGeometry

from allweather.domain.events import (
    EventColumns,
    ListedEntity,
    Rejection,
    Retraction,
    RiskEvent,
)
from allweather.domain.portfolio import Country, Organization, Project

# Project fields an import can set; a column missing from a file leaves its field untouched.
PROJECT_FIELDS = frozenset(
    {
        "name",
        "name_zh",
        "organization_code",
        "country_code",
        "kind",
        "sector",
        "status",
        "value_usd",
        "start_date",
        "end_date",
        "staff",
        "source",
    }
)


@dataclass(frozen=True)
class ProjectUpdate:
    """One project to create or update.

    Args:
        project: the project as the input describes it, with its sites.
        fields: the project fields the input provides (subset of ``PROJECT_FIELDS``); others
            keep their stored values on update.
        replace_sites: the input is authoritative for the project's sites, so stored sites it
            does not mention are removed. False when some of the project's rows were rejected.
        contacts_provided: the input carries contacts, which then replace the stored ones.
    """

    project: Project
    fields: frozenset[str] = PROJECT_FIELDS
    replace_sites: bool = True
    contacts_provided: bool = False


@dataclass
class PortfolioChanges:
    """What applying a batch of project updates changed."""

    organizations_created: int = 0
    projects_created: int = 0
    projects_updated: int = 0
    projects_unchanged: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ImportRecord:
    """The log entry of one portfolio import."""

    source_name: str
    sha256: str
    file_format: str
    strict: bool
    started_at: datetime
    finished_at: datetime
    rows_total: int
    rows_landed: int
    rows_rejected: int
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectFilter:
    """Filters for project listings; None means any."""

    country_code: str | None = None
    organization_code: str | None = None
    kind: str | None = None
    sector: str | None = None
    status: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class ProjectSummary:
    """A project row for listings."""

    code: str
    name: str
    name_zh: str | None
    organization_code: str | None
    country_code: str | None
    kind: str
    sector: str | None
    status: str | None
    value_usd: float | None
    site_count: int
    anchor: tuple[float, float] | None
    updated_at: datetime


@dataclass(frozen=True)
class SiteFeature:
    """A site with the project facts a map needs."""

    site_id: int
    site_key: str
    site_name: str | None
    site_kind: str
    precision: str
    country_code: str | None
    geometry: BaseGeometry
    project_code: str
    project_name: str
    project_name_zh: str | None
    project_kind: str
    sector: str | None
    status: str | None


@dataclass(frozen=True)
class CountryUsage:
    """A country with how many projects and sites the portfolio has there."""

    country: Country
    projects: int
    sites: int


class PortfolioWriter(Protocol):
    """Writes of the portfolio import use case."""

    def apply_portfolio(
        self,
        updates: Sequence[ProjectUpdate],
        organizations: Sequence[Organization],
        now: datetime,
    ) -> PortfolioChanges:
        """Create or update projects (idempotent by code) and sites (by project and key).

        All-or-nothing: raises and writes nothing if any statement fails.
        """
        ...

    def record_import(self, record: ImportRecord) -> None:
        """Append an entry to the import log."""
        ...

    def clean_import_rows(self, sha256: str) -> int | None:
        """Rows of the last import of this content that had no rejections, else None."""
        ...


class PortfolioReader(Protocol):
    """Reads of the portfolio, for export, the API and the map."""

    def iter_projects(self) -> Iterator[Project]:
        """Every project with its sites and contacts, ordered by code."""
        ...

    def get_project(self, code: str) -> Project | None: ...

    def list_projects(
        self, where: ProjectFilter, offset: int, limit: int
    ) -> tuple[list[ProjectSummary], int]:
        """One page of projects and the total that match."""
        ...

    def site_features(
        self, bbox: tuple[float, float, float, float] | None, offset: int, limit: int
    ) -> tuple[list[SiteFeature], int]:
        """Sites whose bounding box meets ``bbox`` (min lon, min lat, max lon, max lat)."""
        ...

    def country_usage(self) -> list[CountryUsage]: ...

    def organizations(self) -> list[Organization]: ...

    def counts(self) -> dict[str, int]:
        """Row counts of the portfolio tables (projects, sites, organizations, countries)."""
        ...


# ---------------------------------------------------------------- sources and events


@dataclass
class Chunk:
    """One transaction's worth of parsed records from one payload of one source.

    ``progress`` is (payload fingerprint, chunks of that payload committed once this one is):
    written in the same transaction, so a crash never loses or repeats a committed chunk.
    """

    source: str
    source_number: int
    run_id: int
    events: list[RiskEvent] = field(default_factory=list)
    columns: list[EventColumns] = field(default_factory=list)
    retractions: list[Retraction] = field(default_factory=list)
    entities: list[ListedEntity] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    progress: tuple[str, int] | None = None


@dataclass
class ChunkCounts:
    """What committing chunks changed."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0

    def add(self, other: ChunkCounts) -> None:
        for name in ("new", "updated", "unchanged", "deleted", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SourceState:
    """What the platform remembers about a source between runs."""

    source: str
    enabled: bool | None = None
    cursor: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, int] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run of one source, as stored."""

    id: int
    source: str
    mode: str
    target: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    records_read: int
    records_new: int
    records_updated: int
    records_deleted: int
    records_quarantined: int
    records_skipped: int
    newest_event_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class QuarantinedRecord:
    id: int
    source: str
    run_id: int | None
    ref: str
    field: str | None
    reason: str
    raw: str
    created_at: datetime


class SourceStore(Protocol):
    """Writes and reads of the ingest use case."""

    def start_run(self, source: str, mode: str, target: str | None, now: datetime) -> int: ...

    def finish_run(self, run: RunRecord) -> None: ...

    def commit_chunk(self, chunk: Chunk, now: datetime) -> ChunkCounts:
        """Write a chunk atomically: events, retractions, entities, rejections and progress."""
        ...

    def delist_missing(self, source: str, seen: set[str], run_id: int, now: datetime) -> int:
        """Mark entities of ``source`` not in ``seen`` as delisted (a list snapshot landed)."""
        ...

    def listed_count(self, source: str) -> int:
        """Entries of ``source`` currently listed."""
        ...

    def state(self, source: str) -> SourceState: ...

    def save_state(self, state: SourceState) -> None: ...

    def record_payload(
        self,
        source: str,
        run_id: int,
        sha256: str,
        path: str,
        size: int,
        url: str | None,
        now: datetime,
    ) -> None: ...
