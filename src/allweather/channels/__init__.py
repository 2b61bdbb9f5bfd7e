"""Outbound channels: e-mail, signed webhooks, WeCom/DingTalk/Feishu robots and SMS.

Start here:

- ``parse_target(kind, target, secret)`` validates what a user configured → ``ChannelTarget``;
- ``sender_for(target, ChannelConfig(...))`` gives a ``Sender``; ``send(note)`` delivers one
  ``Notification`` and returns a ``Delivery`` or raises ``DeliveryError`` (``retryable``,
  ``retry_after_s``);
- ``ChannelKind.rate_limits`` are the providers' limits the dispatcher must respect;
- ``verify_webhook_signature`` is for integrators receiving our webhooks.

This package only delivers: no retries, rate limiting or storage (the dispatcher owns those).
See docs/channels.md.
"""

from __future__ import annotations

from allweather.channels.config import ChannelConfig
from allweather.channels.delivery import Delivery, Sender
from allweather.channels.errors import ChannelConfigError, DeliveryError
from allweather.channels.factory import sender_for
from allweather.channels.kinds import ChannelKind, RateLimit
from allweather.channels.targets import ChannelTarget, parse_target
from allweather.channels.webhook import sign_webhook, verify_webhook_signature

__all__ = [
    "ChannelConfig",
    "ChannelConfigError",
    "ChannelKind",
    "ChannelTarget",
    "Delivery",
    "DeliveryError",
    "RateLimit",
    "Sender",
    "parse_target",
    "sender_for",
    "sign_webhook",
    "verify_webhook_signature",
]
