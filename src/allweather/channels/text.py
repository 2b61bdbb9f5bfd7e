"""Cutting text to a provider's size limit without breaking a character."""

from __future__ import annotations

from collections.abc import Callable

ELLIPSIS = "…"


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut so its UTF-8 form is at most ``max_bytes``, ending in … when cut."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    room = max_bytes - len(ELLIPSIS.encode("utf-8"))
    # errors="ignore" drops the partial character a byte cut may leave at the end.
    return raw[: max(room, 0)].decode("utf-8", errors="ignore") + ELLIPSIS


def cut(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters, the last one an ellipsis when cut."""
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 0)] + ELLIPSIS


def fit_bytes(build: Callable[[int], bytes], longest: int, max_bytes: int) -> bytes:
    """The largest ``build(n)`` for ``n`` in ``0..longest`` that fits in ``max_bytes``.

    ``build(n)`` renders a payload with its free text cut to ``n`` characters; its size grows
    with ``n``, so a binary search finds the cut without guessing JSON escaping overhead.
    """
    full = build(longest)
    if len(full) <= max_bytes:
        return full
    low, high = 0, longest
    while low < high:
        mid = (low + high + 1) // 2
        if len(build(mid)) <= max_bytes:
            low = mid
        else:
            high = mid - 1
    return build(low)
