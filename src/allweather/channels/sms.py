"""SMS through an apprise SMS plugin (``ChannelConfig.sms_gateway``), one segment per message.

The gateway URL names the provider and its credentials; the phone number is appended as the
last path segment, as apprise's SMS plugins take their recipients (``smseagle://token@host/``
becomes ``smseagle://token@host/+8613800138000``). Chinese SMS in mainland China additionally
need an approved 签名 and 模板 at the provider (DOMAIN-CN.md §7.3); that lives with the provider.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from allweather.channels.config import ChannelConfig
from allweather.channels.delivery import Delivery, Sender
from allweather.channels.errors import DeliveryError
from allweather.channels.kinds import ChannelKind
from allweather.channels.targets import ChannelTarget
from allweather.channels.via_apprise import deliver, load
from allweather.domain.notification import Notification, fit_sms


class SmsSender(Sender):
    """Sends ``Notification.sms`` (cut to one segment) to one phone number.

    Raises (when built):
        ChannelConfigError: for ``sms_gateway`` when apprise refuses the gateway URL.
    """

    kind = ChannelKind.SMS

    def __init__(self, target: ChannelTarget, config: ChannelConfig) -> None:
        if target.kind is not self.kind:
            raise ValueError(f"SmsSender cannot send to a {target.kind} target")
        self.target = target
        self._plugin = None
        self._secrets: tuple[str | None, ...] = ()
        if config.sms_gateway:
            url = with_recipient(config.sms_gateway, target.target, config.timeout_s)
            self._secrets = _credentials(config.sms_gateway)
            self._plugin = load(url, "sms_gateway", self._secrets)

    def send(self, note: Notification) -> Delivery:
        """Send the notification's SMS form."""
        where = f"{self.kind.label.both()} {self.target.masked()}"
        if self._plugin is None:
            raise DeliveryError(
                f"{where}: 未配置短信网关 / no SMS gateway configured (sms_gateway)",
                retryable=False,
            )
        # The engine already fits the text; cutting again guards against a hand-made message.
        text = fit_sms(note.sms)
        latency = deliver(
            self._plugin,
            body=text,
            title="",
            where=where,
            secrets=self._secrets,
            always_retryable=False,
        )
        return Delivery(
            kind=self.kind,
            target=self.target.masked(),
            status=None,
            response=f"accepted by the gateway ({len(text)} characters)",
            latency_s=latency,
        )

    def close(self) -> None:
        """Nothing to release: apprise opens a connection per send."""


def with_recipient(gateway: str, phone: str, timeout_s: float) -> str:
    """``gateway`` with ``phone`` appended to its path and apprise's timeouts set."""
    parts = urlsplit(gateway.strip())
    path = parts.path.rstrip("/") + "/" + quote(phone, safe="+")
    query = parts.query
    present = {name.lower() for name, _ in parse_qsl(query)}
    extra = [f"{name}={timeout_s:g}" for name in ("cto", "rto") if name not in present]
    query = "&".join(part for part in (query, *extra) if part)
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def _credentials(gateway: str) -> tuple[str | None, ...]:
    parts = urlsplit(gateway)
    return (parts.username, parts.password, *(value for _, value in parse_qsl(parts.query)))
