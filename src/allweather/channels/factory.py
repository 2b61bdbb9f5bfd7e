"""The one place that maps a channel kind to its sender."""

from __future__ import annotations

import time
from collections.abc import Callable

from allweather.channels.config import ChannelConfig
from allweather.channels.delivery import Sender
from allweather.channels.dingtalk import DingTalkSender
from allweather.channels.feishu import FeishuSender
from allweather.channels.http import HttpSender
from allweather.channels.kinds import ChannelKind
from allweather.channels.mail import EmailSender
from allweather.channels.sms import SmsSender
from allweather.channels.targets import ChannelTarget
from allweather.channels.webhook import WebhookSender
from allweather.channels.wecom import WeComSender

_HTTP_SENDERS: dict[ChannelKind, type[HttpSender]] = {
    ChannelKind.WEBHOOK: WebhookSender,
    ChannelKind.WECOM: WeComSender,
    ChannelKind.DINGTALK: DingTalkSender,
    ChannelKind.FEISHU: FeishuSender,
}


def sender_for(
    target: ChannelTarget,
    config: ChannelConfig,
    now: Callable[[], float] = time.time,
) -> Sender:
    """A sender delivering to ``target``. Close it when done (``close()``).

    Args:
        target: from ``parse_target``.
        config: the deployment's SMTP, SMS gateway and timeout settings.
        now: wall-clock unix seconds for signatures (tests shift it); not the platform clock.

    Raises:
        ChannelConfigError: when ``config`` has a malformed ``smtp_url``, ``mail_from`` or
            ``sms_gateway`` for this kind. A missing SMTP server or SMS gateway is not an error
            here: such a sender refuses each send with a non-retryable ``DeliveryError``.
    """
    if target.kind is ChannelKind.EMAIL:
        return EmailSender(target, config)
    if target.kind is ChannelKind.SMS:
        return SmsSender(target, config)
    return _HTTP_SENDERS[target.kind](target, config, now)
