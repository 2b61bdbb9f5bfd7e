"""The two ways a channel fails: it is configured wrong, or one delivery did not go through."""

from __future__ import annotations

from allweather.domain.labels import Label


class ChannelConfigError(ValueError):
    """A channel target or setting that cannot be used; ``field`` names the culprit.

    The message reads ``<field>: <中文原因> / <English reason>`` so a settings page can show
    it beside the field as it is.
    """

    def __init__(self, field: str, reason: Label) -> None:
        super().__init__(f"{field}: {reason.zh} / {reason.en}")
        self.field = field
        self.reason = reason


class DeliveryError(Exception):
    """One send failed.

    Args:
        detail: what went wrong, safe to store and show (no keys, tokens or passwords).
        retryable: True when the same message may succeed later unchanged (5xx, timeouts,
            refused connections, provider throttling); False when retrying cannot help
            (rejected signature, unknown robot, malformed request).
        retry_after_s: the wait the provider asked for when it throttled us, else None.
        status: the HTTP status of the response, when there was one.
    """

    def __init__(
        self,
        detail: str,
        *,
        retryable: bool,
        retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.status = status

    def __repr__(self) -> str:
        return (
            f"DeliveryError({self.detail!r}, retryable={self.retryable}, "
            f"retry_after_s={self.retry_after_s}, status={self.status})"
        )
