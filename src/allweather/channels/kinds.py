"""The channel kinds Allweather delivers to, with their names and providers' rate limits."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from allweather.channels.errors import ChannelConfigError
from allweather.domain.labels import Label


class RateLimit(NamedTuple):
    """At most ``max_messages`` per ``window_s`` seconds, for one target (robot or number)."""

    max_messages: int
    window_s: float


class ChannelKind(StrEnum):
    """A kind of outbound channel."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SMS = "sms"

    @property
    def label(self) -> Label:
        """The kind's name, e.g. 钉钉 / DingTalk."""
        return _LABELS[self]

    @property
    def rate_limits(self) -> tuple[RateLimit, ...]:
        """The provider's limits per target; every one of them must hold (empty = none known)."""
        return _RATE_LIMITS[self]

    @property
    def throttle_s(self) -> float:
        """How long to back off when the provider says it throttled us and gives no time."""
        return _THROTTLE_S[self]

    @classmethod
    def parse(cls, text: str) -> ChannelKind:
        """The kind named ``text`` (``email``, ``wecom``, …)."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise ChannelConfigError(
                "kind",
                Label(
                    f"未知的渠道类型 {text!r}（可选：{known}）", f"unknown kind {text!r} ({known})"
                ),
            ) from None


_LABELS = {
    ChannelKind.EMAIL: Label("电子邮件", "E-mail"),
    ChannelKind.WEBHOOK: Label("通用 Webhook", "Webhook"),
    ChannelKind.WECOM: Label("企业微信", "WeCom"),
    ChannelKind.DINGTALK: Label("钉钉", "DingTalk"),
    ChannelKind.FEISHU: Label("飞书", "Feishu"),
    ChannelKind.SMS: Label("短信", "SMS"),
}

# DOMAIN-CN.md §7.3. WeCom and DingTalk: 20 a minute per robot; Feishu: 5 a second and 100 a
# minute per robot. SMS: carriers and providers cap messages per number; one a minute is the
# common provider default, not a carrier rule. E-mail and generic webhooks publish none.
_RATE_LIMITS: dict[ChannelKind, tuple[RateLimit, ...]] = {
    ChannelKind.EMAIL: (),
    ChannelKind.WEBHOOK: (),
    ChannelKind.WECOM: (RateLimit(20, 60),),
    ChannelKind.DINGTALK: (RateLimit(20, 60),),
    ChannelKind.FEISHU: (RateLimit(5, 1), RateLimit(100, 60)),
    ChannelKind.SMS: (RateLimit(1, 60),),
}

# DingTalk blocks a robot for 10 minutes after an overrun; the others count a sliding minute.
_THROTTLE_S: dict[ChannelKind, float] = {
    ChannelKind.EMAIL: 60,
    ChannelKind.WEBHOOK: 60,
    ChannelKind.WECOM: 60,
    ChannelKind.DINGTALK: 600,
    ChannelKind.FEISHU: 60,
    ChannelKind.SMS: 60,
}
