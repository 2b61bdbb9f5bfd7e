"""A warning's words: the Art. 64 fields in Chinese and English, and the message forms.

《突发事件应对法》 Art. 64 para 2: 预警类别、级别、起始时间、可能影响的范围、警示事项、
应当采取的措施、发布单位、发布时间. Measures come from ``data/warning-measures.yaml``; levels
一/二 add to the measures of 三/四 (Art. 66–67), so a warning lists its own level's measures
first, then those of the levels below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

import yaml

from allweather.domain.clock import BEIJING
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.notification import Notification, fit_sms
from allweather.domain.taxonomy import MofcomCategory
from allweather.domain.warnings.evaluate import describe
from allweather.domain.warnings.model import Action, Decision, Evidence, Status

SYSTEM = "system"
KEY_POINTS_MAX = 5  # evidence lines in 警示事项; the rest are counted, all stay in the record


@cache
def _measures() -> dict[str, dict[str, list[Label]]]:
    text = resources.files("allweather.data").joinpath("warning-measures.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    out: dict[str, dict[str, list[Label]]] = {}
    for category, levels in raw.items():
        if category == "decision":
            out[category] = {"*": [Label(zh, en) for zh, en in levels]}
            continue
        out[category] = {lvl: [Label(zh, en) for zh, en in items] for lvl, items in levels.items()}
    return out


def category_label(category: str) -> Label:
    """预警类别: the MOFCOM category's name (or 系统 for the platform's own warnings)."""
    if category == SYSTEM:
        return Label("系统（数据源）", "System (data source)")
    c = MofcomCategory(category).label
    return Label(f"{c.zh}风险" if not c.zh.endswith("风险") else c.zh, f"{c.en} risk")


def measures(category: str, level: WarningLevel, decision_required: bool) -> list[Label]:
    """应当采取的措施: this level's, then the less serious levels' (Art. 66–67)."""
    table = _measures()[category]
    out: list[Label] = []
    if decision_required:
        out.extend(_measures()["decision"]["*"])
    for lvl in sorted(WarningLevel, key=int):
        if lvl.value >= level.value:
            out.extend(table.get(lvl.colour, []))
    return out


def numbered(lines: Sequence[Label]) -> Label:
    return Label(
        "\n".join(f"{i}. {line.zh}" for i, line in enumerate(lines, 1)),
        "\n".join(f"{i}. {line.en}" for i, line in enumerate(lines, 1)),
    )


def beijing(instant: datetime) -> str:
    return instant.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Subject:
    """What the warning is about: a project (with its country and sites) or a data source."""

    code: str
    name: Label
    country: Label | None
    sites: tuple[str, ...] = ()


def affected_area(subject: Subject, evidence: Sequence[Evidence]) -> Label:
    """可能影响的范围: the project, its country, the sites events reached and how far."""
    if subject.country is None:
        return Label(
            f"数据源 {subject.code} 覆盖的全部项目", f"every project source {subject.code} covers"
        )
    reached = sorted({e.site_name or e.site_key for e in evidence if e.site_key} - {None})
    radii = [e.reach_km for e in evidence if e.reach_km is not None]
    country_wide = any(e.distance_km is None for e in evidence)
    zh = f"{subject.country.zh} · 项目 {subject.name.zh}（{subject.code}）"
    en = f"{subject.country.en} · project {subject.name.en} ({subject.code})"
    if reached:
        zh += "：站点 " + "、".join(str(s) for s in reached[:5])
        en += ": sites " + ", ".join(str(s) for s in reached[:5])
    if radii:
        zh += f" 及周边 {max(radii):.0f} 公里"
        en += f" and {max(radii):.0f} km around"
    if country_wide:
        zh += "；全国范围"
        en += "; country-wide"
    return Label(zh, en)


def key_points(decision: Decision) -> Label:
    """警示事项: why each rule fired, then the strongest evidence, one line each."""
    lines = [f.reason for f in decision.findings if f.fired]
    evidence = sorted(
        decision.evidence,
        key=lambda e: (e.severity, e.distance_km if e.distance_km is not None else 1e9),
    )
    for e in evidence[:KEY_POINTS_MAX]:
        d = describe(e)
        title = f"：{e.title}" if e.title else ""
        lines.append(
            Label(
                f"{beijing(e.occurred_at)} {d.zh}{title}（来源 {e.source}）",
                f"{beijing(e.occurred_at)} {d.en}{': ' + e.title if e.title else ''} "
                f"(source {e.source})",
            )
        )
    if len(evidence) > KEY_POINTS_MAX:
        more = len(evidence) - KEY_POINTS_MAX
        lines.append(Label(f"另有 {more} 起相关事件", f"{more} more related event(s)"))
    return numbered(lines)


def title(level: WarningLevel, category: str, subject: Subject) -> Label:
    cat = category_label(category)
    where = f" · {subject.country.zh}" if subject.country else ""
    where_en = f" · {subject.country.en}" if subject.country else ""
    return Label(
        f"【{level.label.zh}预警】{cat.zh}{where} · {subject.name.zh}",
        f"[{level.label.en} warning] {cat.en}{where_en} · {subject.name.en}",
    )


@dataclass(frozen=True)
class WarningText:
    """The Art. 64 fields as they are stored and sent."""

    id: int
    status: Status
    category: str
    level: WarningLevel
    started_at: datetime
    affected_area: Label
    key_points: Label
    measures: Label
    issuer: Label
    issued_at: datetime
    title: Label
    subject: Subject
    revision: int
    decision_required: bool = False


def body(w: WarningText, action: Action, previous: WarningLevel | None) -> Label:
    """The message body: the eight fields, labelled, Chinese then English."""
    step = action.label
    change = ""
    change_en = ""
    if previous is not None and action in (Action.UPGRADED, Action.DOWNGRADED):
        change = f"（由{previous.label.zh}调整为{w.level.label.zh}）"
        change_en = f" (from {previous.label.en} to {w.level.label.en})"
    cat = category_label(w.category)
    zh = (
        f"状态：{step.zh}{change}\n"
        f"预警类别：{cat.zh}\n级别：{w.level.label.zh} {w.level.severity_label.zh}\n"
        f"起始时间：{beijing(w.started_at)}（北京时间）\n"
        f"可能影响的范围：{w.affected_area.zh}\n"
        f"警示事项：\n{w.key_points.zh}\n"
        f"应当采取的措施：\n{w.measures.zh}\n"
        f"发布单位：{w.issuer.zh}\n发布时间：{beijing(w.issued_at)}（北京时间）\n"
        f"预警编号：{w.id}（第 {w.revision} 版）"
    )
    en = (
        f"Status: {step.en}{change_en}\n"
        f"Category: {cat.en}\nLevel: {w.level.label.en} {w.level.severity_label.en}\n"
        f"Start: {beijing(w.started_at)} (Beijing time)\n"
        f"Area likely affected: {w.affected_area.en}\n"
        f"Key points:\n{w.key_points.en}\n"
        f"Measures to take:\n{w.measures.en}\n"
        f"Issuer: {w.issuer.en}\nIssued: {beijing(w.issued_at)} (Beijing time)\n"
        f"Warning no. {w.id} (revision {w.revision})"
    )
    return Label(zh, en)


def sms_text(w: WarningText, action: Action) -> str:
    """The compact form: one SMS segment (70 characters in Chinese)."""
    lifted = "解除" if action is Action.LIFTED else ""
    cat = category_label(w.category).zh.replace("风险", "")
    first = w.key_points.zh.splitlines()[0][3:]  # the first key point, without "1. "
    head = f"【全天候】{lifted}{w.level.label.zh}预警#{w.id}"
    return fit_sms(f"{head} {w.subject.code} {cat}：{first}")


def notification(
    w: WarningText,
    action: Action,
    key: str,
    now: datetime,
    previous: WarningLevel | None = None,
    url: str | None = None,
    kind: str = "warning",
    note: Label | None = None,
) -> Notification:
    """The message subscribers receive about one step of a warning."""
    text = body(w, action, previous)
    if note is not None:
        text = Label(f"{note.zh}\n{text.zh}", f"{note.en}\n{text.en}")
    prefix = Label("", "")
    if action is Action.LIFTED:
        prefix = Label("【解除】", "[Lifted] ")
    elif action is Action.ESCALATED:
        prefix = Label("【逐级上报·未签收】", "[Escalated · unacknowledged] ")
    return Notification(
        key=key,
        kind=kind,
        action=action.value,
        level=w.level,
        title=Label(prefix.zh + w.title.zh, prefix.en + w.title.en),
        body=text,
        sms=sms_text(w, action),
        created_at=now,
        warning_id=w.id,
        url=url,
        data={
            "id": w.id,
            "revision": w.revision,
            "status": w.status.value,
            "category": w.category,
            "level": int(w.level),
            "subject": w.subject.code,
            "started_at": w.started_at.isoformat(),
            "issued_at": w.issued_at.isoformat(),
            "affected_area": {"zh": w.affected_area.zh, "en": w.affected_area.en},
            "key_points": {"zh": w.key_points.zh, "en": w.key_points.en},
            "measures": {"zh": w.measures.zh, "en": w.measures.en},
            "issuer": {"zh": w.issuer.zh, "en": w.issuer.en},
            "decision_required": w.decision_required,
        },
    )


def digest(items: Sequence[Notification], key: str, now: datetime) -> Notification:
    """Several queued messages as one (a digest period, or a burst over a rate limit)."""
    worst = min((n.level for n in items if n.level is not None), default=None)
    zh_lines = [f"{i}. {n.title.zh}（{Action(n.action).label.zh}）" for i, n in enumerate(items, 1)]
    en_lines = [f"{i}. {n.title.en} ({Action(n.action).label.en})" for i, n in enumerate(items, 1)]
    count = len(items)
    return Notification(
        key=key,
        kind="digest",
        action="digest",
        level=worst,
        title=Label(f"预警汇总：{count} 条", f"Warning digest: {count} item(s)"),
        body=Label("\n".join(zh_lines), "\n".join(en_lines)),
        sms=fit_sms(f"【全天候】预警汇总 {count} 条：" + "；".join(n.title.zh for n in items)),
        created_at=now,
        data={"items": [n.key for n in items], "warning_ids": [n.warning_id for n in items]},
    )
