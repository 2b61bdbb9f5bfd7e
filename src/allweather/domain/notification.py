"""What a channel delivers: one rendered message about a warning (or a digest of several).

The warning engine renders it once, stores it in the outbox, and every channel kind turns the
same message into its own shape (an e-mail, a signed JSON webhook, a WeCom/DingTalk/Feishu robot
card, an SMS). Chinese comes first, English beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from allweather.domain.labels import Label
from allweather.domain.levels import WarningLevel

# SMS segments: 70 characters when any character is outside GSM 7-bit (Chinese), else 160.
SMS_MAX_CJK = 70
SMS_MAX_LATIN = 160


def sms_limit(text: str) -> int:
    """The single-message length limit that applies to ``text``."""
    return SMS_MAX_LATIN if text.isascii() else SMS_MAX_CJK


def fit_sms(text: str) -> str:
    """``text`` cut to one SMS segment, ending with an ellipsis when it was cut."""
    limit = sms_limit(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass(frozen=True)
class Notification:
    """One message to send. ``key`` is the idempotency key receivers may deduplicate on."""

    key: str
    kind: str  # warning, digest, escalation, system
    action: str  # issued, upgraded, downgraded, updated, lifted, escalated, digest, …
    level: WarningLevel | None
    title: Label
    body: Label  # plain text, several lines
    sms: str  # the compact form: at most one SMS segment (see ``fit_sms``)
    created_at: datetime
    warning_id: int | None = None
    url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable warning fields

    def text(self) -> str:
        """Plain text: Chinese title and body, then English."""
        return f"{self.title.zh}\n{self.body.zh}\n\n{self.title.en}\n{self.body.en}"

    def markdown(self) -> str:
        """Markdown for the robots: Chinese section first, English below a rule."""
        link = f"\n\n[详情 Details]({self.url})" if self.url else ""
        return (
            f"### {self.title.zh}\n{self.body.zh}\n\n---\n### {self.title.en}\n{self.body.en}{link}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in the outbox and posted by the generic webhook."""
        return {
            "key": self.key,
            "kind": self.kind,
            "action": self.action,
            "level": None if self.level is None else int(self.level),
            "level_label": None if self.level is None else list(self.level.label),
            "title": {"zh": self.title.zh, "en": self.title.en},
            "body": {"zh": self.body.zh, "en": self.body.en},
            "sms": self.sms,
            "created_at": self.created_at.isoformat(),
            "warning_id": self.warning_id,
            "url": self.url,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Notification:
        """Read back what ``to_dict`` wrote."""
        level = raw.get("level")
        return cls(
            key=raw["key"],
            kind=raw["kind"],
            action=raw["action"],
            level=None if level is None else WarningLevel(level),
            title=Label(raw["title"]["zh"], raw["title"]["en"]),
            body=Label(raw["body"]["zh"], raw["body"]["en"]),
            sms=raw["sms"],
            created_at=datetime.fromisoformat(raw["created_at"]),
            warning_id=raw.get("warning_id"),
            url=raw.get("url"),
            data=dict(raw.get("data") or {}),
        )
