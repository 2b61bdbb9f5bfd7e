"""Deployment settings from ``ALLWEATHER_*`` environment variables (docs/settings.md lists them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from allweather.domain.clock import Clock, FixedClock, ReplayClock, SystemClock, parse_instant
from allweather.domain.reach import ReachError, ReachMatrix
from allweather.domain.scoring.method import ScoringMethod, ScoringMethodError
from allweather.domain.warnings.rules import WarningRules, WarningRulesError
from allweather.errors import ConfigError

T = TypeVar("T")


class Settings(BaseSettings):
    """Every deployment setting, validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="ALLWEATHER_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset = a SQLite file under var/ in the working directory.",
    )
    var_dir: Path = Field(
        default=Path("var"), description="Where the embedded default keeps state."
    )
    now: datetime | None = Field(
        default=None,
        description="Pin the platform clock to this ISO 8601 instant (UTC); unset = real time.",
    )
    clock_speed: float = Field(
        default=0.0,
        ge=0.0,
        description="With ALLWEATHER_NOW: 0 keeps the clock stopped; N runs it N times real time.",
    )
    bus_url: str = Field(
        default="inprocess://", description="Pipeline bus; nats://… for JetStream."
    )
    reach_file: Path | None = Field(
        default=None,
        description="A platform reach matrix (YAML) replacing the bundled data/reach.yaml.",
    )
    scoring_file: Path | None = Field(
        default=None,
        description="A scoring method (YAML) replacing the bundled data/scoring.yaml.",
    )
    warning_rules_file: Path | None = Field(
        default=None,
        description="Warning rules (YAML) replacing the bundled data/warning-rules.yaml.",
    )
    public_url: str | None = Field(
        default=None,
        description="The platform's address as users reach it; warnings link to it.",
    )
    smtp_url: str | None = Field(
        default=None,
        description="Outgoing mail server for e-mail channels: smtp://user:pass@host:port "
        "(?starttls=yes|no) or smtps://…; unset = e-mail channels cannot deliver.",
    )
    mail_from: str = Field(
        default="全天候预警 <allweather@localhost>",
        description="Sender address of warning e-mails.",
    )
    sms_gateway: str | None = Field(
        default=None,
        description="An apprise URL of the SMS provider (the phone number is appended).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web server listens on.")
    log_level: str = Field(default="INFO", description="Python logging level name.")

    @field_validator("now", mode="before")
    @classmethod
    def _parse_now(cls, value: object) -> object:
        if isinstance(value, str) and value.strip():
            return parse_instant(value)
        if isinstance(value, str):
            return None
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<var_dir>/allweather.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'allweather.db').as_posix()}"

    def reach_matrix(self) -> ReachMatrix:
        """The platform reach matrix: the bundled defaults, or ``ALLWEATHER_REACH_FILE``.

        Raises:
            ConfigError: the file is unreadable or invalid (the message names the field).
        """
        if self.reach_file is None:
            return ReachMatrix.default()
        path = self.reach_file
        return _from_file(
            "REACH_FILE", path, lambda text: ReachMatrix.from_yaml(text, str(path)), ReachError
        )

    def scoring_method(self) -> ScoringMethod:
        """The scoring method: the bundled one, or ``ALLWEATHER_SCORING_FILE``.

        Raises:
            ConfigError: the file is unreadable or invalid (the message names the field).
        """
        if self.scoring_file is None:
            return ScoringMethod.default()
        return _from_file(
            "SCORING_FILE", self.scoring_file, ScoringMethod.from_yaml, ScoringMethodError
        )

    def warning_rules(self) -> WarningRules:
        """The warning rules: the bundled ones, or ``ALLWEATHER_WARNING_RULES_FILE``.

        Raises:
            ConfigError: the file is unreadable or invalid (the message names the field).
        """
        if self.warning_rules_file is None:
            return WarningRules.default()
        return _from_file(
            "WARNING_RULES_FILE", self.warning_rules_file, WarningRules.from_yaml, WarningRulesError
        )

    def clock(self) -> Clock:
        """The platform clock these settings describe."""
        if self.now is None:
            return SystemClock()
        if self.clock_speed > 0:
            return ReplayClock(start=self.now, speed=self.clock_speed)
        return FixedClock(self.now)


def _from_file(name: str, path: Path, parse: Callable[[str], T], error: type[ValueError]) -> T:
    """Read and parse the file an ``ALLWEATHER_<name>`` setting points to; any problem is a
    ``ConfigError`` naming the variable (and, from the parser, the field)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"ALLWEATHER_{name}: cannot read {path}: {err}") from err
    try:
        return parse(text)
    except error as err:
        raise ConfigError(f"ALLWEATHER_{name}: {err}") from err


def load_settings() -> Settings:
    """Read settings from the environment.

    Raises:
        ConfigError: naming each bad ``ALLWEATHER_*`` variable and why.
    """
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(
            f"ALLWEATHER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in err.errors()
        )
        raise ConfigError(f"bad setting: {problems}") from err
