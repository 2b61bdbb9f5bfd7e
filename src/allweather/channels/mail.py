"""E-mail through apprise's ``mailto://`` / ``mailtos://`` plugin.

Plain text, UTF-8, subject ``<中文标题> / <English title>``. The notification key travels as
an ``Idempotency-Key`` header (apprise's ``+Header=value`` URL option). Every failure is
retryable: apprise does not say whether the server refused the message or the connection
dropped, and an SMTP refusal is often temporary (greylisting, 4xx).
"""

from __future__ import annotations

from urllib.parse import quote

from allweather.channels.config import (
    ChannelConfig,
    SmtpSecurity,
    SmtpServer,
    parse_mail_from,
    parse_smtp_url,
)
from allweather.channels.delivery import Delivery, Sender
from allweather.channels.errors import DeliveryError
from allweather.channels.http import IDEMPOTENCY_HEADER, header_value
from allweather.channels.kinds import ChannelKind
from allweather.channels.targets import ChannelTarget
from allweather.channels.via_apprise import deliver, load
from allweather.domain.notification import Notification


def subject(note: Notification) -> str:
    """The mail subject: Chinese title, then English."""
    return f"{note.title.zh} / {note.title.en}"


class EmailSender(Sender):
    """Sends one e-mail per notification to ``target`` through ``ChannelConfig.smtp_url``.

    Raises (when built):
        ChannelConfigError: for ``smtp_url`` or ``mail_from`` when they cannot be used.
    """

    kind = ChannelKind.EMAIL

    def __init__(self, target: ChannelTarget, config: ChannelConfig) -> None:
        if target.kind is not self.kind:
            raise ValueError(f"EmailSender cannot send to a {target.kind} target")
        self.target = target
        self._config = config
        self._server = None if config.smtp_url is None else parse_smtp_url(config.smtp_url)
        self._secrets: tuple[str | None, ...] = ()
        if self._server is not None:
            parse_mail_from(config.mail_from)
            self._secrets = (self._server.password,)
            # Fail now, at configuration time, if apprise refuses what we built.
            load(self._url(self._server, "check"), "smtp_url", self._secrets)

    def send(self, note: Notification) -> Delivery:
        """Send ``note`` as one e-mail."""
        where = f"{self.kind.label.both()} {self.target.masked()}"
        if self._server is None:
            raise DeliveryError(
                f"{where}: 未配置邮件服务器 / no SMTP server configured (smtp_url)",
                retryable=False,
            )
        plugin = load(self._url(self._server, note.key), "smtp_url", self._secrets)
        server = f"{self._server.host}:{self._server.port}"
        latency = deliver(
            plugin,
            body=note.text(),
            title=subject(note),
            where=f"{where} via SMTP {server} ({self._server.security.value})",
            secrets=self._secrets,
            always_retryable=True,
        )
        return Delivery(
            kind=self.kind,
            target=self.target.masked(),
            status=None,
            response=f"accepted by {server}",
            latency_s=latency,
        )

    def close(self) -> None:
        """Nothing to release: apprise opens one SMTP connection per send."""

    def _url(self, server: SmtpServer, key: str) -> str:
        """The apprise URL for one message (the key header differs per message)."""
        userinfo = ""
        if server.user:
            userinfo = _q(server.user)
            if server.password:
                userinfo += ":" + _q(server.password)
            userinfo += "@"
        host = f"[{server.host}]" if ":" in server.host else server.host
        scheme = "mailto" if server.security is SmtpSecurity.PLAIN else "mailtos"
        timeout = f"{self._config.timeout_s:g}"
        # apprise unquotes `from` and `+header` values twice (parse_qsd, then the e-mail
        # plugin), so they are quoted twice; tests pin this with a key containing "%41".
        query = "&".join(
            (
                f"smtp={_q(server.host)}",
                f"mode={server.security.value}",
                f"from={_q(_q(self._config.mail_from.strip()))}",
                "format=text",
                f"cto={timeout}",
                f"rto={timeout}",
                f"+{IDEMPOTENCY_HEADER}={_q(_q(header_value(key)))}",
            )
        )
        return f"{scheme}://{userinfo}{host}:{server.port}/{_q(self.target.target)}?{query}"


def _q(text: str) -> str:
    return quote(text, safe="")
