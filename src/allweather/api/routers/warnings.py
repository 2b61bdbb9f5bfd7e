"""Warnings (预警): the list, one warning with its history and deliveries, and CAP 1.2.

``/warnings/cap`` is declared before ``/warnings/{warning_id}`` so that it is not read as an id.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoResultFound

from allweather.api.deps import PageDep, PlatformDep
from allweather.api.errors import NotFoundError
from allweather.api.schemas import (
    Page,
    WarningAckOut,
    WarningDeliveryOut,
    WarningDetailOut,
    WarningEvidenceOut,
    WarningHistoryOut,
    WarningOut,
)
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.warnings.cap import (
    ATOM_MEDIA_TYPE,
    CAP_MEDIA_TYPE,
    CapLink,
    CapWarning,
    alert_xml,
    earlier_publications,
    feed_xml,
    sender_of,
    site_areas,
)
from allweather.domain.warnings.model import Status
from allweather.platform import Platform
from allweather.store import warnings as ws

router = APIRouter(prefix="/warnings", tags=["warnings"])

ALL = "all"
WarningId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the warning's number")]


def _status(text: str) -> str | None:
    """A status filter: one status, or ``all`` (None: no filter)."""
    key = text.strip().lower()
    if key == ALL:
        return None
    try:
        return Status(key).value
    except ValueError:
        names = ", ".join([*(s.value for s in Status), ALL])
        raise HTTPException(422, f"status: {text!r} is not one of {names}") from None


def _min_level(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(WarningLevel.parse(text))
    except ValueError:
        raise HTTPException(
            422, f"min_level: {text!r} is not a warning level (1–4, red/orange/yellow/blue)"
        ) from None


def _row(conn: Connection, warning_id: int) -> Any:
    try:
        return ws.warning_row(conn, warning_id)
    except NoResultFound:
        raise NotFoundError(f"no warning {warning_id}") from None


def _codes(conn: Connection, row: Any) -> tuple[str | None, str | None]:
    """The warning's project and organisation codes (None for the platform's own warnings)."""
    if row.project_id is None:
        return None, None
    info = ws.project_infos(conn, [int(row.project_id)]).get(int(row.project_id))
    if info is None:
        return None, None
    return info.code, info.organization_code


@router.get("", response_model=Page[WarningOut])
def list_warnings(
    platform: PlatformDep,
    paging: PageDep,
    status: Annotated[
        str, Query(description="draft, approved, active, lifted, rejected, or all")
    ] = Status.ACTIVE.value,
    project: Annotated[str | None, Query(description="only this project's code")] = None,
    organization: Annotated[str | None, Query(description="only this organisation's code")] = None,
    min_level: Annotated[
        str | None,
        Query(description="this level or more serious: 1 (red) … 4 (blue), or a colour name"),
    ] = None,
) -> Page[WarningOut]:
    """Warnings (预警), most recently changed first; active ones unless ``status`` says else."""
    wanted, level = _status(status), _min_level(min_level)
    with platform.engine.connect() as conn:
        if project is not None and ws.project_id(conn, project) is None:
            raise NotFoundError(f"no project {project!r}")
        if organization is not None and ws.organization_id(conn, organization) is None:
            raise NotFoundError(f"no organization {organization!r}")
        total = ws.count_warnings(
            conn,
            status=wanted,
            project_code=project,
            organization_code=organization,
            min_level=level,
        )
        page = ws.list_warnings(
            conn,
            status=wanted,
            project_code=project,
            organization_code=organization,
            min_level=level,
            limit=paging.page_size,
            offset=paging.offset,
        )
    items = [WarningOut.of(r, r.project_code, r.organization_code) for r in page]
    return Page.build(items, paging.page, paging.page_size, total)


# ---------------------------------------------------------------------- CAP 1.2


def _cap_warning(
    conn: Connection, platform: Platform, row: Any, project: str | None
) -> tuple[CapWarning, float]:
    """The CAP view of one stored warning, and the reach of its evidence (km) that the
    circles around its sites take (``_with_sites`` adds them, outside the connection)."""
    steps = [(int(h.revision), h.action, h.at) for h in ws.history(conn, int(row.id))]
    evidence = ws.evidence_rows(conn, int(row.id), platform.warnings.source_name)
    links = tuple(
        CapLink(e["url"], e["title"] or f"{e['source']} {e['source_id']}")
        for e in evidence
        if e["url"]
    )
    return CapWarning(
        id=int(row.id),
        revision=int(row.revision),
        status=Status(row.status),
        category=row.category,
        level=WarningLevel(row.level),
        title=Label(**row.title),
        key_points=Label(**row.key_points),
        measures=Label(**row.measures),
        affected_area=Label(**row.affected_area),
        issuer=Label(**row.issuer),
        started_at=row.started_at,
        issued_at=row.issued_at,
        updated_at=row.updated_at,
        lifted_at=row.lifted_at,
        country_code=row.country_code,
        project_code=project,
        triggers=tuple(row.triggers or ()),
        evidence=links,
        earlier=earlier_publications(int(row.revision), steps),
    ), max((e["reach_km"] for e in evidence if e["reach_km"] is not None), default=0.0)


def _with_sites(platform: Platform, warning: CapWarning, reach_km: float) -> CapWarning:
    if warning.project_code is None:
        return warning
    project = platform.portfolio.get_project(warning.project_code)
    if project is None:
        return warning
    circles, polygons = site_areas((s.geometry for s in project.sites), reach_km)
    return replace(warning, circles=circles, polygons=polygons)


@router.get(
    "/cap",
    response_class=Response,
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}, "description": "Atom 1.0 + CAP 1.2"}},
)
def cap_feed(platform: PlatformDep) -> Response:
    """The active warnings as an Atom 1.0 feed, each entry embedding its CAP 1.2 alert."""
    public_url = platform.settings.public_url
    with platform.engine.connect() as conn:
        found = [
            _cap_warning(conn, platform, r, r.project_code)
            for r in ws.list_warnings(conn, status=Status.ACTIVE.value)
        ]
    warnings = [_with_sites(platform, w, reach) for w, reach in found]
    body = feed_xml(
        warnings, platform.clock.now(), sender=sender_of(public_url), public_url=public_url
    )
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/{warning_id}", response_model=WarningDetailOut)
def get_warning(warning_id: WarningId, platform: PlatformDep) -> WarningDetailOut:
    """One warning with its history, evidence, acknowledgements (签收) and deliveries."""
    with platform.engine.connect() as conn:
        row = _row(conn, warning_id)
        project, organization = _codes(conn, row)
        history = ws.history(conn, warning_id)
        evidence = ws.evidence_rows(conn, warning_id, platform.warnings.source_name)
        acks = ws.acks(conn, warning_id)
        outbox = ws.outbox_rows(conn, warning_id)
    base = WarningOut.of(row, project, organization)
    return WarningDetailOut(
        **base.model_dump(),
        history=[WarningHistoryOut.of(h) for h in history],
        evidence=[WarningEvidenceOut.of(e) for e in evidence],
        acknowledgements=[WarningAckOut.of(a) for a in acks],
        deliveries=[WarningDeliveryOut.of(o) for o in outbox],
    )


@router.get(
    "/{warning_id}/cap",
    response_class=Response,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}, "description": "a CAP 1.2 alert"}},
)
def warning_cap(warning_id: WarningId, platform: PlatformDep) -> Response:
    """One warning's current revision as a CAP 1.2 ``<alert>`` (Cancel once lifted)."""
    public_url = platform.settings.public_url
    with platform.engine.connect() as conn:
        row = _row(conn, warning_id)
        project, _ = _codes(conn, row)
        warning, reach = _cap_warning(conn, platform, row, project)
    body = alert_xml(
        _with_sites(platform, warning, reach), sender=sender_of(public_url), public_url=public_url
    )
    return Response(body, media_type=CAP_MEDIA_TYPE)
