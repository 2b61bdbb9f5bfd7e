"""The rules, as pure functions: facts about one project and category in, a ``Finding`` out.

Every evaluation returns a finding whether it fired or not, with its reason in both
languages, so the record shows why a warning was, or was not, raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.warnings.model import Evidence, Finding, Trigger
from allweather.domain.warnings.rules import RuleSet


def _grade(e: Evidence) -> SeverityGrade:
    return SeverityGrade(e.severity)


def _where(e: Evidence) -> Label:
    if e.distance_km is None:
        return Label("全国范围", "country-wide")
    site = e.site_name or e.site_key or ""
    return Label(f"距{site} {e.distance_km:.0f} 公里", f"{e.distance_km:.0f} km from {site}")


def describe(e: Evidence) -> Label:
    """One line about an event: type, grade, where."""
    fine, grade, where = FineType(e.fine_type).label, _grade(e).label, _where(e)
    return Label(f"{fine.zh}（{grade.zh}），{where.zh}", f"{fine.en} ({grade.en}), {where.en}")


def event_age_ok(e: Evidence, now: datetime, window: timedelta) -> bool:
    """Happened at or before ``now`` and within ``window`` of it."""
    age = now - e.occurred_at
    return timedelta(0) <= age <= window


def event_rule(
    rules: RuleSet, candidates: Sequence[Evidence], now: datetime, suppressed: frozenset[int]
) -> Finding:
    """A single event severe and close enough raises a warning at once."""
    rule = rules.rules.event
    if not rule.enabled:
        return Finding(Trigger.EVENT, False, None, Label("规则已停用", "rule disabled"))
    window = min(rules.live_window, timedelta(hours=rule.hold_hours))
    qualifying: list[Evidence] = []
    for e in candidates:
        if e.event_id in suppressed or not event_age_ok(e, now, window):
            continue
        if _grade(e).rank > rule.min_severity.rank:  # less severe than the rule asks
            continue
        if e.proximity == "radius":
            if e.distance_km is None or e.reach_km is None:
                continue
            if e.distance_km > rule.max_share_of_reach * e.reach_km:
                continue
        elif e.proximity != "country" or not rule.country_wide:
            continue  # located only to its country: it weighs in the score, not alone
        qualifying.append(e)
    if not qualifying:
        return Finding(
            Trigger.EVENT,
            False,
            None,
            Label(
                f"近{window.total_seconds() / 3600:.0f}小时内无{rule.min_severity.label.zh}及以上"
                f"且在影响范围内的事件（候选 {len(candidates)} 起）",
                f"no event of grade {rule.min_severity.value} or worse within reach in the last "
                f"{window.total_seconds() / 3600:.0f} h ({len(candidates)} candidates)",
            ),
            inputs=len(candidates),
        )
    qualifying.sort(
        key=lambda e: (_grade(e).rank, e.distance_km or 0.0, -e.occurred_at.timestamp())
    )
    worst = qualifying[0]
    level = rule.levels[_grade(worst)]
    line = describe(worst)
    return Finding(
        Trigger.EVENT,
        True,
        level,
        Label(
            f"{len(qualifying)} 起事件达到触发条件；最重：{line.zh}",
            f"{len(qualifying)} event(s) met the rule; the worst: {line.en}",
        ),
        tuple(qualifying),
        min(e.occurred_at for e in qualifying),
        inputs=len(candidates),
    )


@dataclass(frozen=True)
class ScoreFacts:
    """A project's stored score for one category, as the score rule reads it."""

    score: float
    level: WarningLevel  # effective (an analyst's override included)
    baseline: float
    baseline_level: WarningLevel  # the level the baseline alone would have
    overridden: bool


def score_rule(rules: RuleSet, facts: ScoreFacts | None, evidence: Sequence[Evidence]) -> Finding:
    """The score at or above the rule's level, and above what the baseline alone gives."""
    rule = rules.rules.score
    if not rule.enabled:
        return Finding(Trigger.SCORE, False, None, Label("规则已停用", "rule disabled"))
    if facts is None:
        return Finding(Trigger.SCORE, False, None, Label("尚无评分", "no score yet"))
    level = facts.level
    at_level = not rule.min_level.is_higher_than(level)
    moved = facts.overridden or level.is_higher_than(facts.baseline_level)
    numbers = f"{facts.score:.1f}（基线 {facts.baseline:.1f}）"
    numbers_en = f"{facts.score:.1f} (baseline {facts.baseline:.1f})"
    if at_level and moved:
        why = (
            Label("分析师人工调整", "analyst override")
            if facts.overridden
            else Label(f"事件将等级推高至{level.label.zh}", f"events raised it to {level.label.en}")
        )
        starts = [e.occurred_at for e in evidence]
        return Finding(
            Trigger.SCORE,
            True,
            level,
            Label(f"风险指数 {numbers}，{why.zh}", f"risk index {numbers_en}: {why.en}"),
            tuple(evidence),
            min(starts) if starts else None,
            inputs=1,
        )
    if not at_level:
        reason = Label(
            f"风险指数 {numbers} 为{level.label.zh}，低于规则的{rule.min_level.label.zh}",
            f"risk index {numbers_en} is {level.label.en}, below the rule's "
            f"{rule.min_level.label.en}",
        )
    else:
        reason = Label(
            f"风险指数 {numbers} 的{level.label.zh}来自国别基线，非事件所致（由定期评估反映）",
            f"risk index {numbers_en}: {level.label.en} comes from the country baseline, not "
            "from events (the periodic assessment covers it)",
        )
    return Finding(Trigger.SCORE, False, None, reason, inputs=1 if at_level else 0)


def surge_rule(
    rules: RuleSet, current: Sequence[Evidence], previous_count: int, now: datetime
) -> Finding:
    """ACLED-style surge: this window's conflict/unrest events against the weekly average."""
    rule = rules.rules.surge
    if not rule.enabled:
        return Finding(Trigger.SURGE, False, None, Label("规则已停用", "rule disabled"))
    count = len(current)
    # The average over the baseline weeks, scaled to the window's length.
    average = previous_count / rule.baseline_weeks * (rule.window_days / 7)
    ratio_text = "∞" if average == 0 else f"{count / average:.1f}"
    facts = Label(
        f"近{rule.window_days}天 {count} 起，前{rule.baseline_weeks}周均值 {average:.1f} 起"
        f"（{ratio_text} 倍）",
        f"{count} in the last {rule.window_days} days against a {rule.baseline_weeks}-week "
        f"average of {average:.1f} ({ratio_text}×)",
    )
    if count < rule.min_events or count < rule.factor * average:
        return Finding(
            Trigger.SURGE,
            False,
            None,
            Label(
                f"{facts.zh}；未达激增条件（≥{rule.min_events} 起且 ≥{rule.factor:g} 倍）",
                f"{facts.en}; not a surge (needs ≥ {rule.min_events} and ≥ {rule.factor:g}×)",
            ),
            inputs=count + previous_count,
        )
    level = rule.high_level if average > 0 and count >= rule.high_factor * average else rule.level
    return Finding(
        Trigger.SURGE,
        True,
        level,
        Label(f"冲突/动乱事件激增：{facts.zh}", f"conflict/unrest surge: {facts.en}"),
        tuple(current),
        min(e.occurred_at for e in current) if current else now,
        inputs=count + previous_count,
    )


def travel_rule(
    rules: RuleSet, rating: str | None, as_of: str | None, source: str | None
) -> Finding:
    """An MFA travel level the rules list (red by default) raises the project's warning."""
    rule = rules.rules.travel
    if not rule.enabled:
        return Finding(Trigger.TRAVEL, False, None, Label("规则已停用", "rule disabled"))
    if rating is None:
        return Finding(
            Trigger.TRAVEL,
            False,
            None,
            Label("未录入外交部旅行安全风险等级", "no MFA travel level"),
        )
    level = rule.levels.get(rating)  # type: ignore[call-overload]
    mfa = WarningLevel.parse(rating).label
    stamp = f"{as_of}，{source}" if as_of else (source or "")
    if level is None:
        return Finding(
            Trigger.TRAVEL,
            False,
            None,
            Label(
                f"外交部旅行安全风险等级 {mfa.zh}（{stamp}），未达规则",
                f"MFA level {rating}: below the rule",
            ),
        )
    return Finding(
        Trigger.TRAVEL,
        True,
        level,
        Label(
            f"外交部旅行安全风险等级为{_MFA_ZH.get(rating, rating)}（{stamp}）："
            "须作出停工/撤离/转移决定并记录",
            f"MFA travel risk level {rating} ({as_of}, {source}): a documented decision to "
            "suspend work, evacuate or relocate is required",
        ),
        decision_required=True,
        inputs=1,
    )


_MFA_ZH = {
    "red": "红色（极高风险，暂勿前往）",
    "orange": "橙色（高风险）",
    "yellow": "黄色（中风险）",
    "blue": "蓝色（低风险）",
}
