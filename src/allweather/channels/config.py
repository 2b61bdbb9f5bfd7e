"""Deployment settings the channels need, built by the caller from ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from enum import StrEnum
from urllib.parse import parse_qsl, unquote, urlsplit

from allweather.channels.errors import ChannelConfigError
from allweather.domain.labels import Label


@dataclass(frozen=True)
class ChannelConfig:
    """What senders share across targets.

    Args:
        smtp_url: the outgoing mail server, ``smtp://user:pass@host:port?starttls=yes|no`` or
            ``smtps://user:pass@host:port`` (TLS from the first byte); None = no e-mail.
        mail_from: the sender address, ``alerts@example.com`` or
            ``全天候预警 <alerts@example.com>``.
        sms_gateway: an apprise URL of the SMS provider without the recipient (the phone number
            is appended as the last path segment); None = no SMS.
        timeout_s: connect and read timeout of every request, in seconds.
    """

    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = ""
    sms_gateway: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected; the values are apprise's ``mode=`` names."""

    PLAIN = "insecure"
    STARTTLS = "starttls"
    TLS = "ssl"


@dataclass(frozen=True)
class SmtpServer:
    """``ChannelConfig.smtp_url`` taken apart."""

    host: str
    port: int
    security: SmtpSecurity
    user: str | None = None
    password: str | None = field(default=None, repr=False)


_DEFAULT_PORTS = {SmtpSecurity.PLAIN: 25, SmtpSecurity.STARTTLS: 587, SmtpSecurity.TLS: 465}
_YES = frozenset({"yes", "true", "1", "on"})
_NO = frozenset({"no", "false", "0", "off"})


def parse_smtp_url(url: str) -> SmtpServer:
    """Read ``smtp://…`` or ``smtps://…``.

    ``starttls`` defaults to ``yes`` when the URL carries a password (never send one in clear
    by accident) and to ``no`` otherwise (a relay on the local network, port 25).

    Raises:
        ChannelConfigError: for field ``smtp_url``.
    """
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        raise _smtp_error("端口无效", "the port is not valid") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise _smtp_error(
            "应为 smtp://主机:端口 或 smtps://主机:端口",
            "expected smtp://host:port or smtps://host:port",
        )
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    options = {k.lower(): v.lower() for k, v in parse_qsl(parts.query)}
    unknown = set(options) - {"starttls"}
    if unknown:
        raise _smtp_error(
            f"未知参数 {', '.join(sorted(unknown))}", f"unknown option {', '.join(sorted(unknown))}"
        )
    starttls = options.get("starttls")
    if starttls is not None and starttls not in _YES | _NO:
        raise _smtp_error("starttls 应为 yes 或 no", "starttls must be yes or no")
    if parts.scheme == "smtps":
        if starttls in _YES:
            raise _smtp_error(
                "smtps:// 已全程加密，不能再用 starttls",
                "smtps:// is TLS already; starttls does not apply",
            )
        security = SmtpSecurity.TLS
    elif starttls in _YES or (starttls is None and password):
        security = SmtpSecurity.STARTTLS
    else:
        security = SmtpSecurity.PLAIN
    return SmtpServer(parts.hostname, port or _DEFAULT_PORTS[security], security, user, password)


def parse_mail_from(text: str) -> tuple[str, str]:
    """``(display name, address)`` of ``ChannelConfig.mail_from``.

    Raises:
        ChannelConfigError: for field ``mail_from``.
    """
    name, address = parseaddr(text.strip())
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(ch in text for ch in "\r\n"):
        raise ChannelConfigError(
            "mail_from",
            Label(
                "应为发件地址，如 alerts@example.com 或 全天候预警 <alerts@example.com>",
                "expected a sender address like alerts@example.com or Name <alerts@example.com>",
            ),
        )
    return name, address


def _smtp_error(zh: str, en: str) -> ChannelConfigError:
    return ChannelConfigError("smtp_url", Label(zh, en))
