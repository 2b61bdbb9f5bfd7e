"""What people do with warnings: acknowledge (签收) with a disposition, lift by hand, and issue
one by hand through author → approve → publish (拟稿 → 审批 → 发布)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoResultFound

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import MofcomCategory
from allweather.domain.warnings.model import Action, Decision, Disposition, Finding, Status, Trigger
from allweather.domain.warnings.rules import WarningRules
from allweather.domain.warnings.texts import Subject
from allweather.errors import InputError
from allweather.store import warnings as ws
from allweather.warnings.lifecycle import contents, fan_out, lift, subject_of


class WarningActionError(InputError):
    """A request that cannot be carried out; the message says which field and why."""


@dataclass(frozen=True)
class AckResult:
    warning_id: int
    disposition: Disposition
    lifted: bool
    suppressed: int


def _row(conn: Any, warning_id: int) -> Any:
    try:
        return ws.warning_row(conn, warning_id)
    except NoResultFound as err:
        raise WarningActionError(f"id: no warning {warning_id}") from err


def acknowledge(
    engine: Engine,
    rules: WarningRules,
    warning_id: int,
    disposition: Disposition,
    comment: str | None,
    by: str,
    now: datetime,
    public_url: str | None = None,
) -> AckResult:
    """签收: record the disposition; the escalation timer stops. Not relevant, duplicate and
    false report lift the warning and keep its events from raising it again."""
    with engine.begin() as conn:
        row = _row(conn, warning_id)
        if row.status != Status.ACTIVE.value:
            raise WarningActionError(
                f"id: warning {warning_id} is {row.status}; only active warnings are acknowledged"
            )
        ws.add_ack(
            conn,
            {
                "warning_id": warning_id,
                "revision": row.revision,
                "disposition": disposition.value,
                "comment": comment,
                "by": by,
                "at": now,
                "triggers": row.triggers,
            },
        )
        ws.update_warning(conn, warning_id, {"acknowledged_at": now, "escalate_at": None})
        note = {
            "zh": f"签收：{disposition.label.zh}" + (f"；{comment}" if comment else ""),
            "en": f"acknowledged: {disposition.label.en}" + (f"; {comment}" if comment else ""),
            "disposition": disposition.value,
        }
        level = WarningLevel(row.level)
        ws.add_history(
            conn, warning_id, row.revision, Action.ACKNOWLEDGED, level, None, now, by, note
        )
        suppressed = 0
        lifted = False
        if disposition.dismisses:
            events = ws.evidence_ids(conn, warning_id)
            if row.project_id is not None:
                ws.suppress(conn, row.project_id, events, warning_id, disposition.value, now)
                suppressed = len(events)
            subject, info = subject_of(conn, row)
            rs = rules.for_org(None if info is None else info.organization_code)
            reason = Label(
                f"签收人判定为{disposition.label.zh}，预警解除",
                f"judged {disposition.label.en}: lifted",
            )
            lift(conn, ws.warning_row(conn, warning_id), now, rs, reason, by, public_url, subject)
            lifted = True
    return AckResult(warning_id, disposition, lifted, suppressed)


def lift_by_hand(
    engine: Engine,
    rules: WarningRules,
    warning_id: int,
    reason: str,
    by: str,
    now: datetime,
    public_url: str | None = None,
) -> None:
    """解除 by a person (a hand-issued warning ends this way)."""
    if not reason.strip():
        raise WarningActionError("reason: a reason is required to lift a warning")
    with engine.begin() as conn:
        row = _row(conn, warning_id)
        if row.status != Status.ACTIVE.value:
            raise WarningActionError(f"id: warning {warning_id} is {row.status}, not active")
        subject, info = subject_of(conn, row)
        rs = rules.for_org(None if info is None else info.organization_code)
        lift(conn, row, now, rs, Label(reason, reason), by, public_url, subject)


def author(
    engine: Engine,
    rules: WarningRules,
    project_code: str,
    category: str,
    level: WarningLevel,
    points: str,
    by: str,
    now: datetime,
) -> int:
    """拟稿: a hand-written warning, held as a draft until approved and published."""
    try:
        cat = MofcomCategory(category).value
    except ValueError as err:
        names = ", ".join(c.value for c in MofcomCategory)
        raise WarningActionError(f"category: {category!r} is not one of {names}") from err
    if not points.strip():
        raise WarningActionError("points: the key points (警示事项) are required")
    with engine.begin() as conn:
        pid = ws.project_id(conn, project_code)
        if pid is None:
            raise WarningActionError(f"project: no project {project_code!r}")
        info = ws.project_infos(conn, [pid])[pid]
        rs = rules.for_org(info.organization_code)
        finding = Finding(Trigger.MANUAL, True, level, Label(points, points), started_at=now)
        decision = Decision(level, (finding,), (Trigger.MANUAL,))
        subject = Subject(info.code, info.name, info.country)
        values = contents(decision, level, cat, subject, rs, ())
        warning_id = ws.insert_warning(
            conn,
            {
                **values,
                "open_key": None,
                "scope": "project",
                "project_id": pid,
                "source": None,
                "organization_id": info.organization_id,
                "country_code": info.country_code,
                "category": cat,
                "status": Status.DRAFT.value,
                "revision": 1,
                "started_at": now,
                "issued_at": None,
                "updated_at": now,
                "rules_version": rules.version,
                "authored_by": by,
                "escalation_step": 0,
                "escalate_at": None,
            },
        )
        ws.add_history(
            conn, warning_id, 1, Action.AUTHORED, level, None, now, by, {"zh": points, "en": points}
        )
    return warning_id


def approve(engine: Engine, warning_id: int, by: str, now: datetime, reject: bool = False) -> None:
    """审批: someone other than the author approves (or rejects) a draft."""
    with engine.begin() as conn:
        row = _row(conn, warning_id)
        if row.status != Status.DRAFT.value:
            raise WarningActionError(f"id: warning {warning_id} is {row.status}, not a draft")
        if by == row.authored_by:
            raise WarningActionError("by: the author cannot approve their own warning")
        status = Status.REJECTED if reject else Status.APPROVED
        ws.update_warning(
            conn, warning_id, {"status": status.value, "approved_by": by, "updated_at": now}
        )
        action = Action.REJECTED if reject else Action.APPROVED
        ws.add_history(
            conn,
            warning_id,
            row.revision,
            action,
            WarningLevel(row.level),
            None,
            now,
            by,
            {"zh": action.label.zh, "en": action.label.en},
        )


def publish(
    engine: Engine,
    rules: WarningRules,
    warning_id: int,
    by: str,
    now: datetime,
    public_url: str | None = None,
) -> int:
    """发布: an approved warning goes out; returns notifications queued."""
    with engine.begin() as conn:
        row = _row(conn, warning_id)
        if row.status != Status.APPROVED.value:
            raise WarningActionError(
                f"id: warning {warning_id} is {row.status}; it must be approved first"
            )
        key = ws.open_key(row.project_id, row.category)
        held = ws.open_warnings(conn, [key]).get(key)
        if held is not None:
            raise WarningActionError(
                f"id: warning {held.id} is already open for this project and category; "
                "acknowledge or lift it first (one open warning per project and category)"
            )
        subject, info = subject_of(conn, row)
        rs = rules.for_org(None if info is None else info.organization_code)
        level = WarningLevel(row.level)
        ws.update_warning(
            conn,
            warning_id,
            {
                "status": Status.ACTIVE.value,
                "open_key": key,
                "issued_at": now,
                "updated_at": now,
                "revision": row.revision + 1,
                "escalate_at": rs.escalate_at(level, now),
            },
        )
        fresh = ws.warning_row(conn, warning_id)
        ws.add_history(
            conn,
            warning_id,
            fresh.revision,
            Action.ISSUED,
            level,
            None,
            now,
            by,
            {"zh": "人工发布", "en": "published by hand"},
            snapshot=ws.snapshot(fresh),
        )
        return fan_out(conn, fresh, Action.ISSUED, now, rs, public_url, None, subject)
