"""预警规则 — the warning rules' parameters, loaded and checked (``data/warning-rules.yaml``).

The platform file holds the defaults; its ``organizations`` section overrides any part of them
for one organisation. Every problem names its field path, e.g.
``organizations.CRBC.rules.event.min_severity: …``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from allweather.domain.clock import BEIJING
from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel
from allweather.domain.taxonomy import FineType, SeverityGrade

BUNDLED = "warning-rules.yaml"
NEXT_WORKING_DAY = "next_working_day"
WORKDAY_START = time(9, 0)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class WarningRulesError(ValueError):
    """Bad rules data: the message names the field path."""


def parse_duration(text: str) -> timedelta:
    """``15m``, ``1h``, ``4h``, ``2d`` → a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a duration like 15m, 1h or 2d, got {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _level(value: object) -> WarningLevel:
    if isinstance(value, WarningLevel):
        return value
    return WarningLevel.parse(str(value))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventRule(_Model):
    enabled: bool = True
    min_severity: SeverityGrade = SeverityGrade.II
    max_share_of_reach: float = 1.0
    country_wide: bool = True
    levels: dict[SeverityGrade, WarningLevel]
    hold_hours: float = 72

    @field_validator("levels", mode="before")
    @classmethod
    def check_levels(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _level(v) for k, v in value.items()}

    @field_validator("max_share_of_reach", "hold_hours")
    @classmethod
    def check_positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value


class ScoreRule(_Model):
    enabled: bool = True
    min_level: WarningLevel = WarningLevel.YELLOW

    @field_validator("min_level", mode="before")
    @classmethod
    def check_min_level(cls, value: Any) -> WarningLevel:
        return _level(value)


class SurgeRule(_Model):
    enabled: bool = True
    fine_types: tuple[FineType, ...]
    window_days: int = 7
    baseline_weeks: int = 4
    factor: float = 2.0
    min_events: int = 5
    level: WarningLevel = WarningLevel.YELLOW
    high_factor: float = 4.0
    high_level: WarningLevel = WarningLevel.ORANGE

    @field_validator("level", "high_level", mode="before")
    @classmethod
    def check_levels(cls, value: Any) -> WarningLevel:
        return _level(value)

    @field_validator("window_days", "baseline_weeks", "min_events")
    @classmethod
    def check_at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("factor", "high_factor")
    @classmethod
    def check_factor(cls, value: float) -> float:
        if value <= 1:
            raise ValueError("must be greater than 1 (a surge is more than the average)")
        return value


class TravelRule(_Model):
    enabled: bool = True
    levels: dict[Literal["red", "orange", "yellow", "blue"], WarningLevel]

    @field_validator("levels", mode="before")
    @classmethod
    def check_levels(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: _level(v) for k, v in value.items()}


class StaleSourceRule(_Model):
    enabled: bool = True
    level: WarningLevel = WarningLevel.YELLOW

    @field_validator("level", mode="before")
    @classmethod
    def check_level(cls, value: Any) -> WarningLevel:
        return _level(value)


class Rules(_Model):
    event: EventRule
    score: ScoreRule
    surge: SurgeRule
    travel: TravelRule
    stale_source: StaleSourceRule


class Notify(_Model):
    live_levels: frozenset[WarningLevel]
    digest_every: timedelta
    quiet_hours_break_through: frozenset[WarningLevel]

    @field_validator("live_levels", "quiet_hours_break_through", mode="before")
    @classmethod
    def check_levels(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple | set | frozenset):
            return value
        return frozenset(_level(v) for v in value)

    @field_validator("digest_every", mode="before")
    @classmethod
    def check_duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value


class Issuer(_Model):
    zh: str
    en: str

    def label(self) -> Label:
        return Label(self.zh, self.en)


class RuleSet(_Model):
    """The effective rules for one organisation (or the platform)."""

    live_window_hours: float
    rules: Rules
    escalation: dict[WarningLevel, str]
    notify: Notify
    issuer: Issuer

    @field_validator("escalation", mode="before")
    @classmethod
    def check_escalation(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[WarningLevel, str] = {}
        for key, delay in value.items():
            text = str(delay).strip()
            if text != NEXT_WORKING_DAY:
                parse_duration(text)  # raises with the reason
            out[_level(key)] = text
        missing = set(WarningLevel) - set(out)
        if missing:
            names = ", ".join(sorted(level.colour for level in missing))
            raise ValueError(f"every level needs a delay; missing {names}")
        return out

    @property
    def live_window(self) -> timedelta:
        return timedelta(hours=self.live_window_hours)

    def escalate_at(self, level: WarningLevel, since: datetime) -> datetime:
        """When a warning of ``level`` unacknowledged since ``since`` climbs a step."""
        delay = self.escalation[level]
        if delay != NEXT_WORKING_DAY:
            return since + parse_duration(delay)
        return next_working_day(since)


def next_working_day(since: datetime) -> datetime:
    """09:00 Beijing time on the next Monday–Friday after ``since`` (an aware instant)."""
    local = since.astimezone(BEIJING)
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, WORKDAY_START, BEIJING)


class WarningRules:
    """The platform rules with their per-organisation overrides."""

    def __init__(self, version: str, base: dict[str, Any], source_text: str) -> None:
        orgs = base.pop("organizations", None) or {}
        if not isinstance(orgs, dict):
            raise WarningRulesError("organizations: expected a mapping of organisation codes")
        self.version = version
        self.source_text = source_text
        self.platform = _build(base, "")
        self._orgs: dict[str, RuleSet] = {
            str(code): _build(_merge(base, part or {}), f"organizations.{code}.")
            for code, part in orgs.items()
        }

    @classmethod
    def default(cls) -> WarningRules:
        return _bundled()

    @classmethod
    def from_yaml(cls, text: str) -> WarningRules:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise WarningRulesError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise WarningRulesError("the file must be a mapping")
        version = data.pop("version", None)
        if not isinstance(version, str) or not version.strip():
            raise WarningRulesError("version: required (e.g. aw-warn/2026.1)")
        return cls(version.strip(), data, text)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.source_text.encode("utf-8")).hexdigest()[:12]

    def for_org(self, code: str | None) -> RuleSet:
        """The rules that apply to an organisation's projects (the platform's when none)."""
        if code is None:
            return self.platform
        return self._orgs.get(code, self.platform)

    def organisations(self) -> list[str]:
        return sorted(self._orgs)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _build(data: dict[str, Any], prefix: str) -> RuleSet:
    try:
        return RuleSet.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise WarningRulesError(f"{prefix}{path}: {first['msg']}") from err


@cache
def _bundled() -> WarningRules:
    text = resources.files("allweather.data").joinpath(BUNDLED).read_text(encoding="utf-8")
    return WarningRules.from_yaml(text)
