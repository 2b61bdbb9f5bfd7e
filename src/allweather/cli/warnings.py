"""``allweather warnings`` and ``allweather channels``: the warnings people receive, and where."""

from __future__ import annotations

import json
import sys

import click

from allweather.channels import ChannelConfigError, ChannelKind, parse_target
from allweather.cli.common import handle_errors, platform_from_env, write_records
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import MofcomCategory
from allweather.domain.warnings.model import Disposition
from allweather.errors import InputError
from allweather.store import warnings as ws
from allweather.warnings import actions
from allweather.warnings.dispatch import start_dispatcher
from allweather.warnings.records import WARNING_FIELDS, warning_records

_FORMAT = click.Choice(["json", "csv"])
_DISPOSITIONS = [d.value for d in Disposition]


def _level(value: str | None) -> WarningLevel | None:
    if value is None:
        return None
    try:
        return WarningLevel.parse(value)
    except ValueError as err:
        raise InputError(f"level: {err} (use 1–4, red/orange/yellow/blue or 一级…四级)") from err


@click.group()
def warnings() -> None:
    """预警 — warnings: list, acknowledge (签收), lift, issue by hand (docs/warnings.md)."""


@warnings.command("list")
@click.option(
    "--status",
    type=click.Choice(["active", "lifted", "draft", "approved", "rejected", "all"]),
    default="active",
    show_default=True,
)
@click.option("--project", "project_code", help="Only this project (its code).")
@click.option("--org", "org_code", help="Only this organisation's projects (its code).")
@click.option("--min-level", help="Only this level or more serious (1–4, red…blue, 一级…四级).")
@click.option("--format", "out_format", type=_FORMAT, default="json", show_default=True)
@handle_errors
def list_(
    status: str,
    project_code: str | None,
    org_code: str | None,
    min_level: str | None,
    out_format: str,
) -> None:
    """Warnings, newest first, with the eight fields of 《突发事件应对法》 Art. 64."""
    level = _level(min_level)
    platform = platform_from_env()
    try:
        with platform.engine.connect() as conn:
            rows = ws.list_warnings(
                conn,
                status=None if status == "all" else status,
                project_code=project_code,
                organization_code=org_code,
                min_level=None if level is None else int(level),
            )
        records = list(warning_records(rows))
    finally:
        platform.close()
    write_records(records, out_format, WARNING_FIELDS)
    click.echo(f"预警 warnings: {len(records)} 条 rows", err=True)


@warnings.command("show")
@click.argument("warning_id", type=int)
@handle_errors
def show(warning_id: int) -> None:
    """One warning with its history, evidence, acknowledgements and deliveries (JSON)."""
    platform = platform_from_env()
    try:
        with platform.engine.connect() as conn:
            rows = ws.list_warnings(conn, warning_id=warning_id)
            if not rows:
                raise InputError(f"id: no warning {warning_id}")
            record = next(warning_records(rows))
            record["history"] = [
                {
                    "revision": h.revision,
                    "action": h.action,
                    "level": h.level,
                    "previous_level": h.previous_level,
                    "at": h.at.isoformat(),
                    "actor": h.actor,
                    "note": h.note,
                }
                for h in ws.history(conn, warning_id)
            ]
            record["evidence"] = ws.evidence_rows(conn, warning_id, platform.warnings.source_name)
            record["acknowledgements"] = [
                {
                    "disposition": a.disposition,
                    "comment": a.comment,
                    "by": a.by,
                    "at": a.at.isoformat(),
                }
                for a in ws.acks(conn, warning_id)
            ]
            record["deliveries"] = [
                {
                    "key": o.key,
                    "channel": o.channel_id,
                    "mode": o.mode,
                    "status": o.status,
                    "attempts": o.attempts,
                    "sent_at": None if o.sent_at is None else o.sent_at.isoformat(),
                    "last_error": o.last_error,
                }
                for o in ws.outbox_rows(conn, warning_id)
            ]
    finally:
        platform.close()
    sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=1, default=str) + "\n")


@warnings.command("ack")
@click.argument("warning_id", type=int)
@click.option(
    "--disposition",
    required=True,
    help="relevant (相关), not_relevant (不相关), duplicate (重复), false_report (误报), "
    "action_taken (已处置).",
)
@click.option("--comment", help="Free text kept with the acknowledgement.")
@click.option("--by", default="cli", show_default=True, help="Who acknowledges.")
@handle_errors
def ack(warning_id: int, disposition: str, comment: str | None, by: str) -> None:
    """签收 — acknowledge a warning with a disposition; its escalation stops.

    not_relevant, duplicate and false_report lift it, and its events no longer raise a
    warning for that project."""
    try:
        chosen = Disposition.parse(disposition)
    except ValueError as err:
        raise InputError(f"disposition: {err}") from err
    platform = platform_from_env()
    try:
        result = actions.acknowledge(
            platform.engine,
            platform.warnings.rules,
            warning_id,
            chosen,
            comment,
            by,
            platform.clock.now(),
            platform.settings.public_url,
        )
        platform.dispatcher.run_once()
    finally:
        platform.close()
    tail = (
        f"; 已解除 lifted, {result.suppressed} 个事件不再触发 events suppressed"
        if result.lifted
        else ""
    )
    click.echo(f"已签收 acknowledged #{warning_id}: {chosen.label.both()}{tail}", err=True)


@warnings.command("lift")
@click.argument("warning_id", type=int)
@click.option("--reason", required=True, help="Why it is lifted (kept in the history).")
@click.option("--by", default="cli", show_default=True)
@handle_errors
def lift(warning_id: int, reason: str, by: str) -> None:
    """解除 — lift a warning by hand."""
    platform = platform_from_env()
    try:
        actions.lift_by_hand(
            platform.engine,
            platform.warnings.rules,
            warning_id,
            reason,
            by,
            platform.clock.now(),
            platform.settings.public_url,
        )
        platform.dispatcher.run_once()
    finally:
        platform.close()
    click.echo(f"已解除 lifted #{warning_id}", err=True)


@warnings.command("author")
@click.option("--project", "project_code", required=True)
@click.option("--category", type=click.Choice([c.value for c in MofcomCategory]), required=True)
@click.option("--level", required=True, help="1–4, red…blue, 一级…四级.")
@click.option("--points", required=True, help="警示事项: what happened and why it matters.")
@click.option("--by", required=True, help="The author.")
@handle_errors
def author(project_code: str, category: str, level: str, points: str, by: str) -> None:
    """拟稿 — write a warning by hand; it waits for approval (author → approve → publish)."""
    chosen = _level(level)
    if chosen is None:  # required option; keeps the type checker informed
        raise InputError("level: required")
    platform = platform_from_env()
    try:
        warning_id = actions.author(
            platform.engine,
            platform.warnings.rules,
            project_code,
            category,
            chosen,
            points,
            by,
            platform.clock.now(),
        )
    finally:
        platform.close()
    click.echo(warning_id)
    click.echo(f"草稿 draft #{warning_id}: 待审批 awaiting approval", err=True)


@warnings.command("approve")
@click.argument("warning_id", type=int)
@click.option("--by", required=True, help="The approver (not the author).")
@click.option("--reject", is_flag=True, help="Reject the draft instead.")
@handle_errors
def approve(warning_id: int, by: str, reject: bool) -> None:
    """审批 — approve (or reject) a hand-written draft."""
    platform = platform_from_env()
    try:
        actions.approve(platform.engine, warning_id, by, platform.clock.now(), reject)
    finally:
        platform.close()
    click.echo(f"{'已驳回 rejected' if reject else '已审批 approved'} #{warning_id}", err=True)


@warnings.command("publish")
@click.argument("warning_id", type=int)
@click.option("--by", required=True)
@handle_errors
def publish(warning_id: int, by: str) -> None:
    """发布 — publish an approved warning to its subscribers."""
    platform = platform_from_env()
    try:
        queued = actions.publish(
            platform.engine,
            platform.warnings.rules,
            warning_id,
            by,
            platform.clock.now(),
            platform.settings.public_url,
        )
        report = platform.dispatcher.run_once()
    finally:
        platform.close()
    click.echo(
        f"已发布 published #{warning_id}: {queued} notification(s); {report.line()}", err=True
    )


@warnings.command("tick")
@handle_errors
def tick() -> None:
    """Run the periodic pass once: re-evaluate, lift what ran out, escalate, then deliver."""
    platform = platform_from_env()
    try:
        report = platform.tick_warnings()
        sent = platform.dispatcher.run_once()
    finally:
        platform.close()
    click.echo(report.line(), err=True)
    click.echo(sent.line(), err=True)


@warnings.command("dispatch")
@click.option("--loop", is_flag=True, help="Keep delivering until interrupted.")
@handle_errors
def dispatch(loop: bool) -> None:
    """Deliver what the outbox holds (once, or until interrupted with --loop)."""
    platform = platform_from_env()
    try:
        if not loop:
            report = platform.dispatcher.run_once()
            click.echo(report.line(), err=True)
            for error in report.errors[:20]:
                click.echo(f"  {error}", err=True)
            if report.failed:
                sys.exit(1)
            return
        thread, stop = start_dispatcher(platform.dispatcher)
        try:
            while thread.is_alive():
                thread.join(1.0)
        except KeyboardInterrupt:
            stop.set()
            thread.join(5)
    finally:
        platform.close()


@click.group()
def channels() -> None:
    """通知渠道 — where warnings go, and the scope each subscribes to (docs/channels.md)."""


@channels.command("add")
@click.argument("kind", type=click.Choice([k.value for k in ChannelKind]))
@click.argument("target")
@click.option("--secret", help="Signing secret (webhook HMAC, DingTalk 加签, Feishu 签名校验).")
@click.option("--name", help="Who or what this channel reaches (e.g. 项目安全员 site security).")
@click.option("--org", "org_code", help="Only warnings of this organisation's projects.")
@click.option("--country", help="Only projects in this country (ISO alpha-2).")
@click.option("--project", "project_code", help="Only this project.")
@click.option("--category", type=click.Choice([c.value for c in MofcomCategory]))
@click.option(
    "--min-level", default="blue", show_default=True, help="The least serious level sent."
)
@click.option("--quiet-hours", help="HH:MM-HH:MM Beijing time: only red is pushed inside it.")
@click.option(
    "--step",
    "ladder_step",
    type=click.IntRange(0, 9),
    default=0,
    show_default=True,
    help="Escalation ladder step: 0 first line; n receives warnings unacknowledged n times.",
)
@click.option("--system", is_flag=True, help="Also receive the platform's own (source) warnings.")
@handle_errors
def add(
    kind: str,
    target: str,
    secret: str | None,
    name: str | None,
    org_code: str | None,
    country: str | None,
    project_code: str | None,
    category: str | None,
    min_level: str,
    quiet_hours: str | None,
    ladder_step: int,
    system: bool,
) -> None:
    """Add a channel: KIND is email, webhook, wecom, dingtalk, feishu or sms; TARGET is the
    address, webhook URL or phone number. Prints the new channel's id."""
    try:
        parsed = parse_target(kind, target, secret)
    except ChannelConfigError as err:
        raise InputError(str(err)) from err
    level = _level(min_level)
    if quiet_hours is not None:
        _check_quiet(quiet_hours)
    platform = platform_from_env()
    try:
        with platform.engine.begin() as conn:
            org_id = project_id = None
            if org_code is not None and (org_id := ws.organization_id(conn, org_code)) is None:
                raise InputError(f"org: no organisation {org_code!r}")
            if (
                project_code is not None
                and (project_id := ws.project_id(conn, project_code)) is None
            ):
                raise InputError(f"project: no project {project_code!r}")
            channel_id = ws.add_channel(
                conn,
                {
                    "kind": parsed.kind.value,
                    "target": parsed.target,
                    "secret": parsed.secret,
                    "name": name,
                    "organization_id": org_id,
                    "country_code": None if country is None else country.strip().upper(),
                    "project_id": project_id,
                    "category": category,
                    "min_level": int(level or WarningLevel.BLUE),
                    "quiet_hours": quiet_hours,
                    "ladder_step": ladder_step,
                    "system": system,
                    "enabled": True,
                    "created_at": platform.clock.now(),
                },
            )
    finally:
        platform.close()
    click.echo(channel_id)
    click.echo(
        f"已添加渠道 channel added #{channel_id}: {parsed.kind.label.both()} {parsed.masked()}",
        err=True,
    )


def _check_quiet(text: str) -> None:
    try:
        start, end = text.split("-")
        for part in (start, end):
            hour, minute = (int(x) for x in part.split(":"))
            if not (0 <= hour < 24 and 0 <= minute < 60):
                raise ValueError(part)
    except ValueError as err:
        raise InputError(f"quiet-hours: expected HH:MM-HH:MM, got {text!r}") from err


@channels.command("list")
@click.option("--format", "out_format", type=_FORMAT, default="json", show_default=True)
@handle_errors
def list_channels(out_format: str) -> None:
    """Channels with their subscription scope (secrets and keys masked)."""
    platform = platform_from_env()
    try:
        with platform.engine.connect() as conn:
            rows = ws.list_channels(conn)
    finally:
        platform.close()
    records = []
    for r in rows:
        try:
            shown = parse_target(r.kind, r.target, r.secret).masked()
        except ChannelConfigError:
            shown = "(invalid target)"
        records.append(
            {
                "id": r.id,
                "kind": r.kind,
                "kind_label": ChannelKind(r.kind).label.both(),
                "target": shown,
                "name": r.name,
                "organization": r.organization_code,
                "country": r.country_code,
                "project": r.project_code,
                "category": r.category,
                "min_level": WarningLevel(r.min_level).label.both(),
                "quiet_hours": r.quiet_hours,
                "step": r.ladder_step,
                "system": r.system,
                "enabled": r.enabled,
            }
        )
    fields = (
        "id",
        "kind",
        "kind_label",
        "target",
        "name",
        "organization",
        "country",
        "project",
        "category",
        "min_level",
        "quiet_hours",
        "step",
        "system",
        "enabled",
    )
    write_records(records, out_format, fields)
    click.echo(f"渠道 channels: {len(records)}", err=True)


@channels.command("disable")
@click.argument("channel_id", type=int)
@handle_errors
def disable(channel_id: int) -> None:
    """Stop sending to a channel (its queued messages wait until it is enabled again)."""
    _enable(channel_id, False)


@channels.command("enable")
@click.argument("channel_id", type=int)
@handle_errors
def enable(channel_id: int) -> None:
    """Send to a channel again."""
    _enable(channel_id, True)


def _enable(channel_id: int, on: bool) -> None:
    platform = platform_from_env()
    try:
        with platform.engine.begin() as conn:
            if not ws.set_channel_enabled(conn, channel_id, on):
                raise InputError(f"id: no channel {channel_id}")
    finally:
        platform.close()
    click.echo(f"channel #{channel_id} {'enabled' if on else 'disabled'}", err=True)


__all__ = ["channels", "warnings"]
