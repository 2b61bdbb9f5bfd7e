"""The warning engine: evaluate the rules for queued projects and keep their warnings in step.

State, not events: for each project and category the rules say which level (if any) should
stand now, and the open warning is issued, upgraded, downgraded, updated or lifted to match.
So a replay, a restart or a second evaluation never repeats a warning. Every change, its
history, evidence, the rule evaluations and the outbox rows commit in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.scoring.index import level_for
from allweather.domain.scoring.method import ScoringMethod
from allweather.domain.taxonomy import FineType, MofcomCategory, SeverityGrade
from allweather.domain.warnings.evaluate import (
    ScoreFacts,
    event_rule,
    score_rule,
    surge_rule,
    travel_rule,
)
from allweather.domain.warnings.model import (
    Action,
    Decision,
    Finding,
    Status,
    Trigger,
    decide,
    transition,
)
from allweather.domain.warnings.rules import RuleSet, WarningRules
from allweather.domain.warnings.texts import SYSTEM, Subject
from allweather.store import warnings as ws
from allweather.warnings.lifecycle import Change, apply_change, escalate_due

CATEGORIES = tuple(c.value for c in MofcomCategory)
BATCH = 2000  # projects per transaction


@dataclass
class EvaluationReport:
    projects: int = 0
    evaluations: int = 0
    actions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notifications: int = 0

    def add(self, other: EvaluationReport) -> None:
        self.projects += other.projects
        self.evaluations += other.evaluations
        self.notifications += other.notifications
        for k, v in other.actions.items():
            self.actions[k] += v

    def line(self) -> str:
        acts = ", ".join(f"{k} {v}" for k, v in sorted(self.actions.items())) or "no change"
        return (
            f"warnings: {self.projects} project(s) evaluated, {self.evaluations} rule "
            f"evaluation(s); {acts}; {self.notifications} notification(s) queued"
        )


class WarningEngine:
    """Runs the rules on the platform clock; ``wake`` nudges the dispatcher after a commit."""

    def __init__(
        self,
        engine: Engine,
        rules: WarningRules,
        method: ScoringMethod,
        source_name: Callable[[int], str],
        public_url: str | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.rules = rules
        self.method = method
        self.source_name = source_name
        self.public_url = public_url
        self.wake = wake

    # ------------------------------------------------------------------ entry points

    def evaluate_queued(self, now: datetime) -> EvaluationReport:
        """Evaluate every project queued since the last pass (new events, scores, ratings)."""
        report = EvaluationReport()
        while True:
            with self.engine.begin() as conn:
                ids = ws.take_dirty(conn, BATCH)
                if not ids:
                    break
                report.add(self._evaluate(conn, ids, now))
        self._nudge(report)
        return report

    def evaluate(self, now: datetime, ids: Sequence[int]) -> EvaluationReport:
        report = EvaluationReport()
        for start in range(0, len(ids), BATCH):
            with self.engine.begin() as conn:
                report.add(self._evaluate(conn, list(ids[start : start + BATCH]), now))
        self._nudge(report)
        return report

    def tick(
        self, now: datetime, stale_sources: Sequence[tuple[str, str, bool]] = ()
    ) -> EvaluationReport:
        """The periodic pass: queued projects, every project with an open warning (holds run
        out, scores decay), stale sources, and escalation of unacknowledged warnings.

        ``stale_sources``: (source id, title, stale?) for every watched source.
        """
        report = self.evaluate_queued(now)
        with self.engine.connect() as conn:
            open_ids = ws.projects_with_open_warnings(conn)
        report.add(self.evaluate(now, open_ids))
        with self.engine.begin() as conn:
            report.add(self._sources(conn, now, stale_sources))
            report.notifications += escalate_due(conn, now, self.rules, self.public_url)
        self._nudge(report)
        return report

    def _nudge(self, report: EvaluationReport) -> None:
        if report.notifications and self.wake is not None:
            self.wake()

    # ------------------------------------------------------------------ projects

    def _evaluate(self, conn: Connection, ids: list[int], now: datetime) -> EvaluationReport:
        report = EvaluationReport(projects=len(ids))
        infos = ws.project_infos(conn, ids)
        overridden = set(self.rules.organisations())
        groups: dict[str | None, list[int]] = defaultdict(list)
        for pid, info in infos.items():
            code = info.organization_code
            groups[code if code in overridden else None].append(pid)
        stored = ws.stored_scores(conn, ids)
        travel = ws.travel_levels(conn, (i.country_code for i in infos.values() if i.country_code))
        suppressed = ws.suppressed_events(conn, ids)
        opened = ws.open_warnings(conn, [ws.open_key(p, c) for p in ids for c in CATEGORIES])
        for org, members in groups.items():
            rs = self.rules.for_org(org)
            candidates = ws.event_candidates(
                conn,
                members,
                now - rs.live_window,
                now,
                [g.value for g in SeverityGrade if g.rank <= rs.rules.event.min_severity.rank],
                self.source_name,
            )
            surge = rs.rules.surge
            window_start = now - timedelta(days=surge.window_days)
            current, previous = ws.surge_inputs(
                conn,
                members,
                [t.value for t in surge.fine_types],
                window_start,
                window_start - timedelta(weeks=surge.baseline_weeks),
                now,
                self.source_name,
            )
            surge_categories = {FineType(t).category.value for t in surge.fine_types}
            for pid in members:
                info = infos[pid]
                subject = Subject(info.code, info.name, info.country)
                for cat in CATEGORIES:
                    key = ws.open_key(pid, cat)
                    held = opened.get(key)
                    findings = self._findings(
                        conn,
                        rs,
                        pid,
                        cat,
                        now,
                        candidates,
                        current,
                        previous,
                        stored,
                        travel.get(info.country_code or ""),
                        suppressed.get(pid, frozenset()),
                        surge_categories,
                    )
                    decision = decide(tuple(findings))
                    change = _change(held, decision)
                    warning_id = None
                    if change is not None:
                        warning_id, queued, changed = apply_change(
                            conn,
                            change,
                            now,
                            rs,
                            self.rules.version,
                            info,
                            subject,
                            cat,
                            self.public_url,
                        )
                        if changed:
                            report.actions[change.action.value] += 1
                        report.notifications += queued
                    elif held is not None:
                        warning_id = held.id
                    report.evaluations += ws.record_evaluations(
                        conn,
                        now,
                        pid,
                        None,
                        cat,
                        findings,
                        warning_id,
                        self.rules.version,
                        keep_all=held is not None or change is not None,
                    )
        return report

    def _findings(
        self,
        conn: Connection,
        rs: RuleSet,
        pid: int,
        cat: str,
        now: datetime,
        candidates: dict[tuple[int, str], list[Any]],
        current: dict[tuple[int, str], list[Any]],
        previous: dict[tuple[int, str], int],
        stored: dict[tuple[int, str], ws.StoredScore],
        travel: tuple[str, Any, str] | None,
        suppressed: frozenset[int],
        surge_categories: set[str],
    ) -> list[Finding]:
        findings = [event_rule(rs, candidates.get((pid, cat), []), now, suppressed)]
        s = stored.get((pid, cat))
        facts = None
        if s is not None:
            facts = ScoreFacts(
                score=s.score,
                level=s.level,
                baseline=s.baseline,
                baseline_level=level_for(self.method, s.baseline),
                overridden=s.overridden,
            )
        finding = score_rule(rs, facts, [])
        if finding.fired and s is not None:
            evidence = ws.evidence_for(conn, pid, s.strongest_events, self.source_name)
            kept = [e for e in evidence if e.event_id not in suppressed]
            if evidence and not kept and not s.overridden:
                finding = quieted(finding)  # the events that moved it were dismissed
            else:
                finding = score_rule(rs, facts, kept)
        findings.append(finding)
        if cat in surge_categories:
            findings.append(
                surge_rule(rs, current.get((pid, cat), []), previous.get((pid, cat), 0), now)
            )
        if cat == MofcomCategory.POLITICAL.value:
            value, as_of, source = travel if travel is not None else (None, None, None)
            findings.append(travel_rule(rs, value, None if as_of is None else str(as_of), source))
        return findings

    # ------------------------------------------------------------------ sources

    def _sources(
        self, conn: Connection, now: datetime, sources: Sequence[tuple[str, str, bool]]
    ) -> EvaluationReport:
        report = EvaluationReport()
        rs = self.rules.platform
        rule = rs.rules.stale_source
        opened = ws.open_warnings(conn, [ws.open_key(None, SYSTEM, s) for s, _, _ in sources])
        for source, title, stale in sources:
            fired = rule.enabled and stale
            reason = (
                Label(
                    f"数据源 {title}（{source}）已中断：超过两个采集周期无成功运行",
                    f"source {title} ({source}) is stale: no successful run for over two cadences",
                )
                if stale
                else Label(f"数据源 {title}（{source}）正常", f"source {title} ({source}) is fresh")
            )
            finding = Finding(
                Trigger.STALE_SOURCE,
                fired,
                rule.level if fired else None,
                reason,
                started_at=now if fired else None,
            )
            decision = decide((finding,))
            held = opened.get(ws.open_key(None, SYSTEM, source))
            change = _change(held, decision)
            warning_id = held.id if held is not None else None
            if change is not None:
                subject = Subject(source, Label(title, title), None)
                warning_id, queued, changed = apply_change(
                    conn,
                    change,
                    now,
                    rs,
                    self.rules.version,
                    None,
                    subject,
                    SYSTEM,
                    self.public_url,
                    source=source,
                )
                if changed:
                    report.actions[change.action.value] += 1
                report.notifications += queued
            report.evaluations += ws.record_evaluations(
                conn,
                now,
                None,
                source,
                SYSTEM,
                [finding],
                warning_id,
                self.rules.version,
                keep_all=held is not None or fired,
            )
        return report


def quieted(finding: Finding) -> Finding:
    """A fired score finding whose driving events recipients dismissed: it stays quiet."""
    return Finding(
        finding.trigger,
        False,
        None,
        Label(
            f"{finding.reason.zh}；但推高等级的事件已被签收人判定为不相关/重复/误报",
            f"{finding.reason.en}; but the events that raised it were judged not relevant, "
            "duplicate or false",
        ),
        inputs=1,
    )


def _change(held: Any, decision: Decision) -> Change | None:
    """What to do with the open warning (``held``) given the rules' decision."""
    held_level = None if held is None else WarningLevel(held.level)
    wanted = decision.level
    if held is not None and Trigger.MANUAL.value in (held.triggers or []):
        # A warning issued by hand stands at least at its level until lifted by hand.
        wanted = held_level if wanted is None or held_level.is_higher_than(wanted) else wanted  # type: ignore[union-attr]
    action = transition(held_level, wanted)
    if action is None and held is not None and wanted is not None:
        return Change(Action.UPDATED, held, decision, wanted)
    if action is None:
        return None
    return Change(action, held, decision, wanted)


__all__ = ["EvaluationReport", "WarningEngine", "Status"]
