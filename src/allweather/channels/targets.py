"""Where one channel delivers: a validated, normalised target and its optional signing secret."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from allweather.channels.errors import ChannelConfigError
from allweather.channels.kinds import ChannelKind
from allweather.domain.labels import Label

# One plain address, no display name: enough to catch typos and pasted lists, not RFC 5322.
_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\.]+(\.[^@\s<>(),;:\"\[\]\\.]+)+")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_FEISHU_HOOK = re.compile(r"(?P<prefix>.*/open-apis/bot/v2/hook/)(?P<token>[^/]+)/?")
# Query parameters whose values are credentials (robot keys, access tokens, signatures).
_SECRET_PARAM = re.compile(r"key|token|secret|sign|pass|auth", re.IGNORECASE)

# Robots that accept a signing secret; WeCom group robots have no signing scheme.
_SIGNED_KINDS = frozenset({ChannelKind.WEBHOOK, ChannelKind.DINGTALK, ChannelKind.FEISHU})


@dataclass(frozen=True)
class ChannelTarget:
    """One destination of one kind. Build it with ``parse_target``.

    ``secret`` is the signing secret (webhook HMAC key, DingTalk 加签 secret, Feishu 签名校验
    secret). Neither it nor the robot key in ``target`` appears in ``repr`` or ``masked()``.
    """

    kind: ChannelKind
    target: str
    secret: str | None = field(default=None, repr=False)

    def masked(self) -> str:
        """A display form with keys, tokens and most of an address or number hidden."""
        if self.kind is ChannelKind.EMAIL:
            local, _, domain = self.target.partition("@")
            return f"{local[:2]}***@{domain}"
        if self.kind is ChannelKind.SMS:
            return f"{self.target[:5]}****{self.target[-4:]}"
        return _mask_url(self.target)

    def __repr__(self) -> str:
        signed = ", signed" if self.secret else ""
        return f"ChannelTarget({self.kind.value}, {self.masked()!r}{signed})"


def parse_target(kind: str, target: str, secret: str | None = None) -> ChannelTarget:
    """Validate and normalise a channel target.

    Args:
        kind: a ``ChannelKind`` value (``email``, ``webhook``, ``wecom``, ``dingtalk``,
            ``feishu``, ``sms``).
        target: the address: an e-mail address, an http(s) URL, or an E.164 phone number.
        secret: the signing secret for ``webhook``, ``dingtalk`` and ``feishu``; empty means none.

    Raises:
        ChannelConfigError: naming ``kind``, ``target`` or ``secret`` and why it is wrong.
    """
    channel = ChannelKind.parse(kind)
    text = target.strip()
    if not text:
        raise ChannelConfigError("target", Label("不能为空", "must not be empty"))
    clean_secret = _parse_secret(channel, secret)
    if channel is ChannelKind.EMAIL:
        text = _parse_email(text)
    elif channel is ChannelKind.SMS:
        text = _parse_phone(text)
    else:
        _parse_robot_url(channel, text)
    return ChannelTarget(channel, text, clean_secret)


def _parse_secret(kind: ChannelKind, secret: str | None) -> str | None:
    value = (secret or "").strip()
    if not value:
        return None
    if kind not in _SIGNED_KINDS:
        raise ChannelConfigError(
            "secret",
            Label(
                f"{kind.label.zh}不使用签名密钥，请留空",
                f"{kind.label.en} takes no signing secret; leave it empty",
            ),
        )
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ChannelConfigError(
            "secret",
            Label("不能包含空白或控制字符", "must not contain spaces or control characters"),
        )
    return value


def _parse_email(text: str) -> str:
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise ChannelConfigError(
            "target",
            Label(
                "不是单个有效的电子邮件地址（如 name@example.com）",
                "not a single valid e-mail address (like name@example.com)",
            ),
        )
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def _parse_phone(text: str) -> str:
    number = _PHONE_SEPARATORS.sub("", text)
    if not _E164.fullmatch(number):
        raise ChannelConfigError(
            "target",
            Label(
                "不是 E.164 格式的手机号（+ 国家代码 + 号码，共 8–15 位数字，如 +8613800138000）",
                "not an E.164 phone number (+, country code and number, 8–15 digits, "
                "like +8613800138000)",
            ),
        )
    return number


def _parse_robot_url(kind: ChannelKind, text: str) -> None:
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ChannelConfigError(
            "target", Label("URL 不能包含空白或控制字符", "the URL must not contain spaces")
        )
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ChannelConfigError("target", Label("必须是 http(s) URL", "must be an http(s) URL"))
    query = dict(parse_qsl(parts.query))
    if kind is ChannelKind.WECOM and not query.get("key"):
        raise ChannelConfigError(
            "target",
            Label(
                "企业微信机器人地址缺少 key 参数（…/cgi-bin/webhook/send?key=…）",
                "the WeCom robot URL lacks its key parameter (…/cgi-bin/webhook/send?key=…)",
            ),
        )
    if kind is ChannelKind.DINGTALK and not query.get("access_token"):
        raise ChannelConfigError(
            "target",
            Label(
                "钉钉机器人地址缺少 access_token 参数（…/robot/send?access_token=…）",
                "the DingTalk robot URL lacks its access_token parameter "
                "(…/robot/send?access_token=…)",
            ),
        )
    if kind is ChannelKind.FEISHU and not _FEISHU_HOOK.fullmatch(parts.path):
        raise ChannelConfigError(
            "target",
            Label(
                "飞书机器人地址的路径应以 /open-apis/bot/v2/hook/<token> 结尾",
                "the Feishu robot URL path must end in /open-apis/bot/v2/hook/<token>",
            ),
        )


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    # Work on the raw query so the display keeps the URL's own encoding.
    pairs = []
    for pair in parts.query.split("&") if parts.query else ():
        name, eq, value = pair.partition("=")
        pairs.append(f"{name}{eq}{_shorten(value) if _SECRET_PARAM.search(name) else value}")
    query = "&".join(pairs)
    path = parts.path
    hook = _FEISHU_HOOK.fullmatch(path)
    if hook:
        path = hook["prefix"] + _shorten(hook["token"])
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _shorten(secret: str) -> str:
    return secret[:4] + "…"
