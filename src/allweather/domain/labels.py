"""Bilingual labels: Chinese first, English beside it."""

from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    """A term in both platform languages."""

    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The label in one language (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh

    def both(self) -> str:
        """Chinese, then English: the platform's default display form."""
        return f"{self.zh} {self.en}"
