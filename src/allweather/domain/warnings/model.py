"""The warning's vocabulary: what raised it, where it is in its life, how people answered it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel


class Trigger(StrEnum):
    """Which rule raised (or holds) a warning."""

    EVENT = "event"
    SCORE = "score"
    SURGE = "surge"
    TRAVEL = "travel"
    STALE_SOURCE = "stale_source"
    MANUAL = "manual"

    @property
    def label(self) -> Label:
        return _TRIGGER_LABELS[self]


_TRIGGER_LABELS = {
    Trigger.EVENT: Label("单一事件", "single event"),
    Trigger.SCORE: Label("风险指数越级", "score crossed a level"),
    Trigger.SURGE: Label("冲突/动乱激增", "conflict/unrest surge"),
    Trigger.TRAVEL: Label("外交部旅行安全风险等级", "MFA travel risk level"),
    Trigger.STALE_SOURCE: Label("数据源中断", "source stale"),
    Trigger.MANUAL: Label("人工发布", "issued by hand"),
}


class Status(StrEnum):
    """Where a warning is in its life. Hand-written ones start as drafts."""

    DRAFT = "draft"  # authored, awaiting approval
    APPROVED = "approved"  # approved, awaiting publication
    ACTIVE = "active"  # issued (发布), possibly adjusted since
    LIFTED = "lifted"  # 解除
    REJECTED = "rejected"  # a draft the approver turned down

    @property
    def label(self) -> Label:
        return _STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self is Status.ACTIVE


_STATUS_LABELS = {
    Status.DRAFT: Label("草稿（待审批）", "draft (awaiting approval)"),
    Status.APPROVED: Label("已审批（待发布）", "approved (awaiting publication)"),
    Status.ACTIVE: Label("生效中", "active"),
    Status.LIFTED: Label("已解除", "lifted"),
    Status.REJECTED: Label("已驳回", "rejected"),
}


class Action(StrEnum):
    """One step of a warning's history (Art. 70: 调整、重新发布、解除)."""

    AUTHORED = "authored"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    UPDATED = "updated"  # new evidence at the same level: no new alarm
    LIFTED = "lifted"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"

    @property
    def label(self) -> Label:
        return _ACTION_LABELS[self]

    @property
    def notifies(self) -> bool:
        """Whether subscribers hear of this step."""
        return self in _NOTIFYING


_ACTION_LABELS = {
    Action.AUTHORED: Label("拟稿", "authored"),
    Action.APPROVED: Label("审批通过", "approved"),
    Action.REJECTED: Label("驳回", "rejected"),
    Action.ISSUED: Label("发布", "issued"),
    Action.UPGRADED: Label("升级", "upgraded"),
    Action.DOWNGRADED: Label("降级", "downgraded"),
    Action.UPDATED: Label("更新", "updated"),
    Action.LIFTED: Label("解除", "lifted"),
    Action.ACKNOWLEDGED: Label("签收", "acknowledged"),
    Action.ESCALATED: Label("逐级上报", "escalated"),
}
_NOTIFYING = frozenset(
    {Action.ISSUED, Action.UPGRADED, Action.DOWNGRADED, Action.LIFTED, Action.ESCALATED}
)


class Disposition(StrEnum):
    """签收处置 — how a recipient judged a warning; stored as a label for tuning rules."""

    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"
    DUPLICATE = "duplicate"
    FALSE_REPORT = "false_report"
    ACTION_TAKEN = "action_taken"

    @property
    def label(self) -> Label:
        return _DISPOSITION_LABELS[self]

    @property
    def dismisses(self) -> bool:
        """The warning should not stand: it is lifted and its evidence no longer raises one."""
        return self in (Disposition.NOT_RELEVANT, Disposition.DUPLICATE, Disposition.FALSE_REPORT)

    @classmethod
    def parse(cls, text: str) -> Disposition:
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        for d in cls:
            if key in (d.value, d.label.zh):
                return d
        names = ", ".join(f"{d.value} ({d.label.zh})" for d in cls)
        raise ValueError(f"unknown disposition {text!r}; expected one of {names}")


_DISPOSITION_LABELS = {
    Disposition.RELEVANT: Label("相关", "relevant"),
    Disposition.NOT_RELEVANT: Label("不相关", "not relevant"),
    Disposition.DUPLICATE: Label("重复", "duplicate"),
    Disposition.FALSE_REPORT: Label("误报", "false report"),
    Disposition.ACTION_TAKEN: Label("已处置", "action taken"),
}


@dataclass(frozen=True)
class Evidence:
    """An event that supports a warning, with where it was relative to the project."""

    event_id: int
    source: str
    source_id: str
    fine_type: str
    severity: str
    occurred_at: datetime
    title: str | None
    url: str | None
    place: str | None
    country_code: str | None
    site_key: str | None
    site_name: str | None
    distance_km: float | None  # None: reached country-wide
    reach_km: float | None
    proximity: str  # radius, country, country_precision


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one project and category: fired or not, and why."""

    trigger: Trigger
    fired: bool
    level: WarningLevel | None
    reason: Label
    evidence: tuple[Evidence, ...] = ()
    started_at: datetime | None = None  # when the situation began (the earliest evidence)
    decision_required: bool = False  # Art. 21: 停工/撤离/转移 must be decided and recorded
    inputs: int = 0  # how many facts the rule weighed (events, a score at a warning level, …)


@dataclass(frozen=True)
class Decision:
    """What the rules together want for one project and category."""

    level: WarningLevel | None  # None: no warning should stand
    findings: tuple[Finding, ...]
    triggers: tuple[Trigger, ...] = field(default=())

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        seen: dict[int, Evidence] = {}
        for f in self.findings:
            if f.fired:
                for e in f.evidence:
                    seen.setdefault(e.event_id, e)
        return tuple(seen.values())

    @property
    def decision_required(self) -> bool:
        return any(f.fired and f.decision_required for f in self.findings)

    @property
    def started_at(self) -> datetime | None:
        starts = [f.started_at for f in self.findings if f.fired and f.started_at is not None]
        return min(starts) if starts else None


def decide(findings: tuple[Finding, ...]) -> Decision:
    """The most serious level any fired rule asks for (None when none fired), with every rule
    that fired, the one that set the level first."""
    fired = [f for f in findings if f.fired and f.level is not None]
    if not fired:
        return Decision(None, findings)
    worst = min(f.level for f in fired if f.level is not None)
    ranked = sorted(fired, key=lambda f: int(f.level or 0))  # the rule that set the level first
    return Decision(worst, findings, tuple(dict.fromkeys(f.trigger for f in ranked)))


def transition(open_level: WarningLevel | None, wanted: WarningLevel | None) -> Action | None:
    """The lifecycle step from the open warning's level to the one the rules want."""
    if open_level is None:
        return None if wanted is None else Action.ISSUED
    if wanted is None:
        return Action.LIFTED
    if wanted.is_higher_than(open_level):
        return Action.UPGRADED
    if open_level.is_higher_than(wanted):
        return Action.DOWNGRADED
    return None
