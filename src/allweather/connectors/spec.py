"""The declarative half of a connector: a YAML spec validated at load time."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allweather.errors import ConfigError

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MIN_CADENCE = timedelta(minutes=1)  # be a polite client: no source is polled more often


def parse_duration(text: str) -> timedelta:
    """``15m``, ``1h``, ``1d``, ``30s`` → timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 15m, 6h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class VolumeExpectation(BaseModel):
    """Records a healthy run yields; outside this range the run is flagged, not failed."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=0)
    max: int = Field(ge=0)


class SourceSpec(BaseModel):
    """Everything declarative about a source (see connectors/README.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{2,63}$")
    number: int = Field(ge=1, le=127, description="fixed forever: the high bits of event ids")
    title: str
    title_zh: str
    publisher: str
    license: str
    url: str | None = None  # live endpoint; None: offline only
    format: str
    output: Literal["events", "entities"] = "events"
    cadence: timedelta
    expected_per_run: VolumeExpectation
    mutable: bool = False  # records can be updated or retracted after publication
    enabled: bool = False  # runs under `allweather run` by default
    secrets: dict[str, str] = Field(default_factory=dict)  # name -> ALLWEATHER_* env var name
    notes: str = ""

    @field_validator("cadence", mode="before")
    @classmethod
    def _cadence(cls, value: object) -> object:
        duration = parse_duration(value) if isinstance(value, str) else value
        if isinstance(duration, timedelta) and duration < MIN_CADENCE:
            raise ValueError(f"cadence below the minimum of {MIN_CADENCE}")
        return duration

    @field_validator("secrets")
    @classmethod
    def _secrets_are_env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, env in value.items():
            if not re.fullmatch(r"ALLWEATHER_[A-Z0-9_]+", env):
                raise ValueError(
                    f"secret {name}: give an ALLWEATHER_* variable name, never a value"
                )
        return value


def load_spec(path: Path) -> SourceSpec:
    """Read and validate a YAML spec.

    Raises:
        ConfigError: naming the file and each bad field.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path.name}: unreadable spec ({err})") from err
    try:
        return SourceSpec.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"{path.name}: {problems}") from err
