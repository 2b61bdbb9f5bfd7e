"""Response models of /api/v1 (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from shapely.geometry import mapping

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.portfolio import Country, Organization, Project, Site
from allweather.domain.warnings.model import Action, Disposition, Status, Trigger
from allweather.domain.warnings.texts import beijing, category_label
from allweather.store.base import CountryUsage, ProjectSummary

T = TypeVar("T")


class LabelOut(BaseModel):
    zh: str
    en: str

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(zh=label.zh, en=label.en)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int

    @classmethod
    def build(cls, items: list[T], page: int, page_size: int, total: int) -> Page[T]:
        return cls(
            items=items,
            page=page,
            page_size=page_size,
            total=total,
            pages=(total + page_size - 1) // page_size,
        )


class CountryOut(BaseModel):
    iso2: str
    iso3: str
    name_zh: str
    name_en: str
    projects: int = 0
    sites: int = 0

    @classmethod
    def of(cls, country: Country, usage: CountryUsage | None = None) -> CountryOut:
        return cls(
            iso2=country.iso2,
            iso3=country.iso3,
            name_zh=country.name_zh,
            name_en=country.name_en,
            projects=usage.projects if usage else 0,
            sites=usage.sites if usage else 0,
        )


class OrganizationOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    kind: str
    kind_label: LabelOut
    oversees: list[str]

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(
            code=org.code,
            name=org.name,
            name_zh=org.name_zh,
            kind=org.kind.value,
            kind_label=LabelOut.of(org.kind.label),
            oversees=list(org.oversees),
        )


class ProjectSummaryOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    organization: str | None
    country: str | None
    kind: str
    sector: str | None
    status: str | None
    value_usd: float | None
    site_count: int
    anchor: list[float] | None = Field(description="[longitude, latitude] of the first site")
    updated_at: datetime

    @classmethod
    def of(cls, s: ProjectSummary) -> ProjectSummaryOut:
        return cls(
            code=s.code,
            name=s.name,
            name_zh=s.name_zh,
            organization=s.organization_code,
            country=s.country_code,
            kind=s.kind,
            sector=s.sector,
            status=s.status,
            value_usd=s.value_usd,
            site_count=s.site_count,
            anchor=list(s.anchor) if s.anchor else None,
            updated_at=s.updated_at,
        )


class SiteOut(BaseModel):
    id: int | None
    key: str
    name: str | None
    kind: str
    kind_label: LabelOut
    precision: str
    country: str | None
    geometry: dict[str, Any] = Field(description="GeoJSON geometry (WGS84)")

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            key=site.key,
            name=site.name,
            kind=site.kind.value,
            kind_label=LabelOut.of(site.kind.label),
            precision=site.precision.value,
            country=site.country_code,
            geometry=dict(mapping(site.geometry)),
        )


class StaffOut(BaseModel):
    chinese: int | None
    local: int | None
    third_country: int | None
    total: int | None


class ProjectOut(BaseModel):
    code: str
    name: str
    name_zh: str | None
    organization: str | None
    country: str | None
    kind: str
    kind_label: LabelOut
    sector: str | None
    sector_label: LabelOut | None
    status: str | None
    status_label: LabelOut | None
    value_usd: float | None
    start_date: date | None
    end_date: date | None
    staff: StaffOut
    sites: list[SiteOut]
    # Contacts are deliberately absent until roles exist (issue 8: sensitive fields by role).

    @classmethod
    def of(cls, p: Project) -> ProjectOut:
        return cls(
            code=p.code,
            name=p.name,
            name_zh=p.name_zh,
            organization=p.organization_code,
            country=p.country_code,
            kind=p.kind.value,
            kind_label=LabelOut.of(p.kind.label),
            sector=p.sector.value if p.sector else None,
            sector_label=LabelOut.of(p.sector.label) if p.sector else None,
            status=p.status.value if p.status else None,
            status_label=LabelOut.of(p.status.label) if p.status else None,
            value_usd=p.value_usd,
            start_date=p.start_date,
            end_date=p.end_date,
            staff=StaffOut(
                chinese=p.staff.chinese,
                local=p.staff.local,
                third_country=p.staff.third_country,
                total=p.staff.total,
            ),
            sites=[SiteOut.of(s) for s in p.sites],
        )


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class VocabularyOut(BaseModel):
    """A closed vocabulary with labels, for forms and legends."""

    name: str
    values: list[dict[str, Any]]


# ---------------------------------------------------------------------- warnings (预警)
# Kept together: /api/v1/warnings (routers/warnings.py).


def _label(value: dict[str, Any] | None) -> LabelOut:
    """A stored ``{zh, en}`` JSON value."""
    value = value or {}
    return LabelOut(zh=str(value.get("zh", "")), en=str(value.get("en", "")))


def _when(instant: datetime | None) -> LabelOut:
    if instant is None:
        return LabelOut(zh="未发布", en="not issued")
    return LabelOut(zh=f"{beijing(instant)}（北京时间）", en=f"{beijing(instant)} (Beijing time)")


def _trigger_label(code: str) -> Label:
    try:
        return Trigger(code).label
    except ValueError:
        return Label(code, code)


class TriggerOut(BaseModel):
    code: str
    label: LabelOut


class WarningFieldsOut(BaseModel):
    """《突发事件应对法》 Art. 64: the eight fields every warning states, Chinese and English."""

    category: LabelOut = Field(description="预警类别")
    level: LabelOut = Field(description="级别")
    started_at: LabelOut = Field(description="起始时间 (Beijing time)")
    affected_area: LabelOut = Field(description="可能影响的范围")
    key_points: LabelOut = Field(description="警示事项")
    measures: LabelOut = Field(description="应当采取的措施")
    issuer: LabelOut = Field(description="发布单位")
    issued_at: LabelOut = Field(description="发布时间 (Beijing time)")


class WarningOut(BaseModel):
    id: int
    revision: int
    status: str
    status_label: LabelOut
    level: int = Field(description="1 一级 red (most serious) … 4 四级 blue")
    level_label: LabelOut
    level_colour: str
    category: str = Field(description="MOFCOM category, or system (a data source)")
    category_label: LabelOut
    project: str | None
    organization: str | None
    country: str | None
    source: str | None = Field(description="the stale source of a system warning")
    title: LabelOut
    art64: WarningFieldsOut = Field(description="the Art. 64 fields, ready to display")
    triggers: list[TriggerOut]
    decision_required: bool
    acknowledged_at: datetime | None
    escalation_step: int
    started_at: datetime
    issued_at: datetime | None
    updated_at: datetime
    lifted_at: datetime | None

    @classmethod
    def of(cls, row: Any, project: str | None, organization: str | None) -> WarningOut:
        return cls(**_warning_values(row, project, organization))


def _warning_values(row: Any, project: str | None, organization: str | None) -> dict[str, Any]:
    status = Status(row.status)
    level = WarningLevel(row.level)
    category = category_label(row.category)
    return {
        "id": int(row.id),
        "revision": int(row.revision),
        "status": status.value,
        "status_label": LabelOut.of(status.label),
        "level": int(level),
        "level_label": LabelOut.of(level.label),
        "level_colour": level.colour,
        "category": row.category,
        "category_label": LabelOut.of(category),
        "project": project,
        "organization": organization,
        "country": row.country_code,
        "source": row.source,
        "title": _label(row.title),
        "art64": WarningFieldsOut(
            category=LabelOut.of(category),
            level=LabelOut(
                zh=f"{level.label.zh} {level.severity_label.zh}",
                en=f"{level.label.en} {level.severity_label.en}",
            ),
            started_at=_when(row.started_at),
            affected_area=_label(row.affected_area),
            key_points=_label(row.key_points),
            measures=_label(row.measures),
            issuer=_label(row.issuer),
            issued_at=_when(row.issued_at),
        ),
        "triggers": [
            TriggerOut(code=t, label=LabelOut.of(_trigger_label(t))) for t in row.triggers or []
        ],
        "decision_required": bool(row.decision_required),
        "acknowledged_at": row.acknowledged_at,
        "escalation_step": int(row.escalation_step),
        "started_at": row.started_at,
        "issued_at": row.issued_at,
        "updated_at": row.updated_at,
        "lifted_at": row.lifted_at,
    }


class WarningHistoryOut(BaseModel):
    revision: int
    action: str
    action_label: LabelOut
    level: int
    previous_level: int | None
    at: datetime
    actor: str
    note: dict[str, Any]

    @classmethod
    def of(cls, row: Any) -> WarningHistoryOut:
        action = Action(row.action)
        return cls(
            revision=int(row.revision),
            action=action.value,
            action_label=LabelOut.of(action.label),
            level=int(row.level),
            previous_level=row.previous_level,
            at=row.at,
            actor=row.actor,
            note=dict(row.note or {}),
        )


class WarningEvidenceOut(BaseModel):
    event_id: str = Field(description="source:source_id, as /api/v1/events gives it")
    source: str
    title: str | None
    url: str | None
    occurred_at: datetime
    fine_type: str
    severity: str
    place: str | None
    trigger: str
    trigger_label: LabelOut
    distance_km: float | None = Field(description="None: reached country-wide")
    reach_km: float | None
    proximity: str | None

    @classmethod
    def of(cls, item: dict[str, Any]) -> WarningEvidenceOut:
        return cls(
            event_id=f"{item['source']}:{item['source_id']}",
            source=item["source"],
            title=item["title"],
            url=item["url"],
            occurred_at=item["occurred_at"],
            fine_type=item["fine_type"],
            severity=item["severity"],
            place=item["place"],
            trigger=item["trigger"],
            trigger_label=LabelOut.of(_trigger_label(item["trigger"])),
            distance_km=item["distance_km"],
            reach_km=item["reach_km"],
            proximity=item["proximity"],
        )


class WarningAckOut(BaseModel):
    revision: int
    disposition: str
    disposition_label: LabelOut
    comment: str | None
    by: str
    at: datetime

    @classmethod
    def of(cls, row: Any) -> WarningAckOut:
        try:
            label = Disposition(row.disposition).label
        except ValueError:
            label = Label(row.disposition, row.disposition)
        return cls(
            revision=int(row.revision),
            disposition=row.disposition,
            disposition_label=LabelOut.of(label),
            comment=row.comment,
            by=row.by,
            at=row.at,
        )


class WarningDeliveryOut(BaseModel):
    """One outbox row: a message for one channel, and how its delivery went."""

    key: str
    channel_id: int
    mode: str = Field(description="live or digest")
    status: str = Field(description="pending, sent, digested, failed")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: Any) -> WarningDeliveryOut:
        return cls(
            key=row.key,
            channel_id=int(row.channel_id),
            mode=row.mode,
            status=row.status,
            attempts=int(row.attempts),
            created_at=row.created_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )


class WarningDetailOut(WarningOut):
    history: list[WarningHistoryOut]
    evidence: list[WarningEvidenceOut]
    acknowledgements: list[WarningAckOut]
    deliveries: list[WarningDeliveryOut]
