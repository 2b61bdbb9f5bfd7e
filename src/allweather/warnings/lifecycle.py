"""A warning's life: issue, adjust (升级/降级), update, lift (解除), escalate — each step with
its history row, its evidence, and the outbox rows for the people subscribed to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from allweather.domain.clock import BEIJING
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.warnings.model import Action, Decision, Evidence, Status
from allweather.domain.warnings.rules import RuleSet, WarningRules
from allweather.domain.warnings.texts import (
    Subject,
    WarningText,
    affected_area,
    key_points,
    measures,
    notification,
    numbered,
    title,
)
from allweather.store import warnings as ws

AUTOMATIC = "system"


@dataclass(frozen=True)
class Change:
    action: Action
    held: Any  # the open warning row, or None
    decision: Decision
    level: WarningLevel | None  # the level it should have after the change


def text_of(row: Any, subject: Subject) -> WarningText:
    """A stored warning row as the texts module reads it."""
    return WarningText(
        id=int(row.id),
        status=Status(row.status),
        category=row.category,
        level=WarningLevel(row.level),
        started_at=row.started_at,
        affected_area=Label(**row.affected_area),
        key_points=Label(**row.key_points),
        measures=Label(**row.measures),
        issuer=Label(**row.issuer),
        issued_at=row.issued_at or row.updated_at,
        title=Label(**row.title),
        subject=subject,
        revision=int(row.revision),
        decision_required=bool(row.decision_required),
    )


def contents(
    decision: Decision,
    level: WarningLevel,
    category: str,
    subject: Subject,
    rs: RuleSet,
    evidence: tuple[Evidence, ...],
) -> dict[str, Any]:
    area = affected_area(subject, evidence)
    points = key_points(decision)
    todo = numbered(measures(category, level, decision.decision_required))
    head = title(level, category, subject)
    return {
        "level": int(level),
        "title": {"zh": head.zh, "en": head.en},
        "affected_area": {"zh": area.zh, "en": area.en},
        "key_points": {"zh": points.zh, "en": points.en},
        "measures": {"zh": todo.zh, "en": todo.en},
        "issuer": {"zh": rs.issuer.zh, "en": rs.issuer.en},
        "decision_required": decision.decision_required,
        "triggers": [t.value for t in decision.triggers],
    }


def apply_change(
    conn: Connection,
    change: Change,
    now: datetime,
    rs: RuleSet,
    rules_version: str,
    info: ws.ProjectInfo | None,
    subject: Subject,
    category: str,
    public_url: str | None,
    source: str | None = None,
) -> tuple[int | None, int, bool]:
    """Write one lifecycle step; returns (warning id, notifications queued, whether anything
    changed: an update without new evidence or rules changes nothing)."""
    held, decision = change.held, change.decision
    known: set[int] = set() if held is None else ws.evidence_ids(conn, held.id)
    if change.action is Action.UPDATED:
        fresh = [e for e in decision.evidence if e.event_id not in known]
        new_rule = {t.value for t in decision.triggers} - set(held.triggers or [])
        if not fresh and not new_rule and decision.decision_required <= held.decision_required:
            return int(held.id), 0, False
    if change.action is Action.LIFTED:
        reason = Label("触发条件已不再满足", "the rules no longer hold")
        queued = lift(conn, held, now, rs, reason, AUTOMATIC, public_url, subject)
        return int(held.id), queued, True
    level = change.level
    if level is None:  # transition() never asks for a level-less issue; defensive
        return None if held is None else int(held.id), 0, False
    evidence = decision.evidence
    values = contents(decision, level, category, subject, rs, evidence)
    note = {
        "reasons": [
            {"rule": f.trigger.value, "zh": f.reason.zh, "en": f.reason.en}
            for f in decision.findings
            if f.fired
        ]
    }
    if held is None:
        start = decision.started_at or now
        warning_id = ws.insert_warning(
            conn,
            {
                **values,
                "open_key": ws.open_key(None if info is None else info.id, category, source),
                "scope": "project" if info is not None else "source",
                "project_id": None if info is None else info.id,
                "source": source,
                "organization_id": None if info is None else info.organization_id,
                "country_code": None if info is None else info.country_code,
                "category": category,
                "status": Status.ACTIVE.value,
                "revision": 1,
                "started_at": min(start, now),
                "issued_at": now,
                "updated_at": now,
                "rules_version": rules_version,
                "escalation_step": 0,
                "escalate_at": rs.escalate_at(level, now),
            },
        )
        revision, previous = 1, None
    else:
        warning_id = int(held.id)
        revision = int(held.revision) + 1
        previous = WarningLevel(held.level)
        triggers = list(dict.fromkeys([*(held.triggers or []), *values["triggers"]]))
        update: dict[str, Any] = {
            **values,
            "triggers": triggers,
            "revision": revision,
            "updated_at": now,
        }
        if decision.started_at is not None and decision.started_at < held.started_at:
            update["started_at"] = decision.started_at
        if change.action is Action.UPGRADED:
            # A more serious warning needs a fresh acknowledgement; the ladder starts again.
            update.update(
                acknowledged_at=None, escalation_step=0, escalate_at=rs.escalate_at(level, now)
            )
        elif change.action is Action.DOWNGRADED and held.acknowledged_at is None:
            update["escalate_at"] = rs.escalate_at(level, now)
        ws.update_warning(conn, warning_id, update)
    ws.add_evidence(conn, warning_id, revision, decision, now, known)
    row = ws.warning_row(conn, warning_id)
    ws.add_history(
        conn,
        warning_id,
        revision,
        change.action,
        level,
        previous,
        now,
        AUTOMATIC,
        note,
        snapshot=ws.snapshot(row),
    )
    queued = 0
    if change.action.notifies:
        queued = fan_out(conn, row, change.action, now, rs, public_url, previous, subject)
    return warning_id, queued, True


def lift(
    conn: Connection,
    held: Any,
    now: datetime,
    rs: RuleSet,
    reason: Label,
    actor: str,
    public_url: str | None,
    subject: Subject | None = None,
) -> int:
    """解除: close the warning (its open key is freed); returns notifications queued."""
    revision = int(held.revision) + 1
    ws.update_warning(
        conn,
        int(held.id),
        {
            "status": Status.LIFTED.value,
            "open_key": None,
            "lifted_at": now,
            "updated_at": now,
            "revision": revision,
            "escalate_at": None,
        },
    )
    level = WarningLevel(held.level)
    ws.add_history(
        conn,
        int(held.id),
        revision,
        Action.LIFTED,
        level,
        level,
        now,
        actor,
        {"zh": reason.zh, "en": reason.en},
    )
    row = ws.warning_row(conn, int(held.id))
    subj = subject or subject_of(conn, row)[0]
    return fan_out(conn, row, Action.LIFTED, now, rs, public_url, None, subj, note=reason)


def subject_of(conn: Connection, row: Any) -> tuple[Subject, ws.ProjectInfo | None]:
    """What a stored warning is about: its project (with the project's details), or its source."""
    if row.project_id is None:
        source = row.source or ""
        return Subject(source, Label(source, source), None), None
    info = ws.project_infos(conn, [row.project_id])[row.project_id]
    return Subject(info.code, info.name, info.country), info


def quiet_until(spec: str | None, now: datetime) -> datetime | None:
    """When a channel's quiet hours (``HH:MM-HH:MM`` Beijing time) end, if ``now`` is inside."""
    if not spec:
        return None
    start_s, end_s = spec.split("-")
    local = now.astimezone(BEIJING)
    sh, sm = (int(x) for x in start_s.split(":"))
    eh, em = (int(x) for x in end_s.split(":"))
    minutes = local.hour * 60 + local.minute
    start, end = sh * 60 + sm, eh * 60 + em
    inside = start <= minutes < end if start < end else minutes >= start or minutes < end
    if not inside:
        return None
    end_at = local.replace(hour=eh, minute=em, second=0, microsecond=0)
    if end_at <= local:
        end_at += timedelta(days=1)
    return end_at


def next_digest(now: datetime, every: timedelta) -> datetime:
    """The next digest boundary (multiples of ``every`` since the epoch)."""
    step = every.total_seconds()
    return datetime.fromtimestamp((now.timestamp() // step + 1) * step, now.tzinfo)


def fan_out(
    conn: Connection,
    row: Any,
    action: Action,
    now: datetime,
    rs: RuleSet,
    public_url: str | None,
    previous: WarningLevel | None,
    subject: Subject,
    ladder_step: int = 0,
    note: Label | None = None,
) -> int:
    """Queue the message for every channel subscribed at this ladder step."""
    level = WarningLevel(row.level)
    chans = ws.matching_channels(
        conn,
        organization_id=row.organization_id,
        country_code=row.country_code,
        project_id=row.project_id,
        category=row.category,
        level=level,
        ladder_step=ladder_step,
    )
    if not chans:
        return 0
    text = text_of(row, subject)
    url = f"{public_url.rstrip('/')}/api/v1/warnings/{row.id}" if public_url else None
    kind = (
        "escalation"
        if action is Action.ESCALATED
        else ("system" if row.project_id is None else "warning")
    )
    live = action is Action.ESCALATED or level in rs.notify.live_levels
    rows = []
    for ch in chans:
        key = f"w{row.id}.r{row.revision}.{action.value}.s{ladder_step}.c{ch.id}"
        message = notification(text, action, key, now, previous, url, kind, note)
        due = now if live else next_digest(now, rs.notify.digest_every)
        if level not in rs.notify.quiet_hours_break_through:
            quiet = quiet_until(ch.quiet_hours, due)
            if quiet is not None:
                due = quiet
        rows.append(
            {
                "key": key,
                "channel_id": ch.id,
                "warning_id": row.id,
                "mode": "live" if live else "digest",
                "level": int(level),
                "payload": message.to_dict(),
                "created_at": now,
                "due_at": due,
                "attempts": 0,
                "status": "pending",
            }
        )
    return ws.enqueue(conn, rows)


def escalate_due(
    conn: Connection, now: datetime, rules: WarningRules, public_url: str | None
) -> int:
    """逐级上报: climb one ladder step for every unacknowledged warning whose timer ran out."""
    queued = 0
    for row in ws.due_escalations(conn, now):
        subject, info = subject_of(conn, row)
        rs = rules.for_org(None if info is None else info.organization_code)
        step = int(row.escalation_step) + 1
        level = WarningLevel(row.level)
        sent = fan_out(
            conn,
            row,
            Action.ESCALATED,
            now,
            rs,
            public_url,
            None,
            subject,
            ladder_step=step,
            note=Label(
                f"未在时限内签收，第 {step} 级上报",
                f"not acknowledged in time: escalation step {step}",
            ),
        )
        nxt = rs.escalate_at(level, now) if sent else None
        ws.update_warning(conn, int(row.id), {"escalation_step": step, "escalate_at": nxt})
        detail = (
            {
                "zh": f"第 {step} 级上报，通知 {sent} 个渠道",
                "en": f"escalation step {step}: {sent} channel(s)",
            }
            if sent
            else {
                "zh": f"第 {step} 级无订阅渠道，逐级上报结束",
                "en": f"no channel at step {step}: the ladder ends",
            }
        )
        ws.add_history(
            conn,
            int(row.id),
            int(row.revision),
            Action.ESCALATED,
            level,
            None,
            now,
            AUTOMATIC,
            detail,
        )
        queued += sent
    return queued


__all__ = ["Change", "apply_change", "escalate_due", "fan_out", "lift", "subject_of", "text_of"]
