"""Sending through apprise (e-mail and SMS), with its per-call log as the failure reason.

Apprise answers a send with pass or fail. Its per-call result (apprise ≥ 2.2) carries the log
lines of that call only, kept in a context variable, so concurrent sends on worker threads do
not see each other's lines; ``apprise.LogCapture`` instead hangs a handler on the shared
``apprise`` logger and changes its level, which two threads would trip over.

Socket-level reasons (``Socket Exception: …``) are logged by apprise at DEBUG and only exist
when the ``apprise`` logger is enabled for DEBUG; WARNING lines are always there.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from urllib.parse import quote

import apprise

from allweather import __version__
from allweather.channels.errors import ChannelConfigError, DeliveryError
from allweather.domain.labels import Label

ASSET = apprise.AppriseAsset(
    app_id=f"Allweather/{__version__}",
    app_desc="全天候 Allweather",
    storage_mode="memory",  # no persistent state on disk
)
# Debug lines worth keeping as a reason; the rest (payload dumps, URLs) is noise.
_USEFUL_DEBUG = ("Socket Exception", "Response", "Failed to parse")
_CHATTER = frozenset({"TRACE", "DEBUG", "INFO"})
_STATUS = re.compile(r"\berror=(\d{3})\b")
_MAX_DETAIL = 600


def load(url: str, field: str, secrets: Sequence[str | None]) -> apprise.NotifyBase:
    """The apprise plugin for ``url``.

    Raises:
        ChannelConfigError: for ``field`` when apprise does not accept the URL.
    """
    try:
        plugin = apprise.Apprise.instantiate(url, asset=ASSET, suppress_exceptions=False)
    except Exception as err:  # noqa: BLE001 - plugins raise assorted types for a bad URL
        reason = redact(str(err), secrets) or type(err).__name__
        raise ChannelConfigError(
            field, Label(f"apprise 无法使用该地址：{reason}", f"apprise refused the URL: {reason}")
        ) from None
    if plugin is None:
        raise ChannelConfigError(
            field, Label("apprise 不认识该地址", "apprise does not recognise the URL")
        )
    # apprise sleeps 5.5 s between two sends of one plugin; pacing is the dispatcher's job
    # (ChannelKind.rate_limits), and a sleep here would only block the worker thread.
    plugin.request_rate_per_sec = 0
    return plugin


def deliver(
    plugin: apprise.NotifyBase,
    *,
    body: str,
    title: str,
    where: str,
    secrets: Sequence[str | None],
    always_retryable: bool,
) -> float:
    """Send once through ``plugin``; return the latency in seconds.

    Args:
        where: who we were sending to, for the error detail (masked).
        secrets: strings to blank out of the captured log lines.
        always_retryable: True to treat every failure as retryable; False to read the HTTP
            status apprise's plugins log as ``error=<status>`` (4xx other than 408/425/429 and a
            refused 200 are final; no status means a connection problem and is retryable).

    Raises:
        DeliveryError: with apprise's log lines for this call as the detail.
    """
    sender = apprise.Apprise(asset=ASSET)
    sender.add(plugin)
    started = time.monotonic()
    try:
        result = sender.notify(
            body=body,
            title=title,
            body_format=apprise.NotifyFormat.TEXT,
            log_level=logging.DEBUG,
        )
    except Exception as err:  # noqa: BLE001 - boundary: a send ends in Delivery or DeliveryError
        raise DeliveryError(
            f"{where}: {type(err).__name__}: {redact(str(err), secrets)}", retryable=True
        ) from err
    latency = time.monotonic() - started
    if result:
        return latency
    lines = [
        redact(entry.message, secrets)
        for entry in result.logs()
        if entry.level not in _CHATTER or entry.message.startswith(_USEFUL_DEBUG)
    ]
    detail = "; ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))
    status = _logged_status(lines)
    retryable = always_retryable or status is None or status >= 500 or status in (408, 425, 429)
    raise DeliveryError(
        f"{where}: {detail or 'apprise reported a failure without a reason'}"[:_MAX_DETAIL],
        retryable=retryable,
        status=status,
    )


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """``text`` with every secret replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            for form in {secret, quote(secret, safe=""), quote(quote(secret, safe=""), safe="")}:
                text = text.replace(form, "***")
    return text


def _logged_status(lines: list[str]) -> int | None:
    for line in lines:
        match = _STATUS.search(line)
        if match:
            return int(match.group(1))
    return None
