"""Connector test helpers: the real recorded data in ../shared/data, and parsing it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from allweather.connectors.base import Parsed, Payload
from allweather.connectors.registry import get_connector
from tests.conftest import require_or_skip

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A file of ../shared/data; skips (fails in CI) when the shared data is not beside us."""
    path = SHARED_DATA / relative
    if not path.exists():
        require_or_skip(f"needs the recorded data {relative} in ../shared/data")
    return path


def parse_path(source: str, path: Path) -> list[Parsed]:
    """Everything a connector's parser yields for a file, through its file_payloads."""
    connector = get_connector(source)
    return [item for payload in connector.file_payloads(path) for item in connector.parse(payload)]


def parse_bytes(source: str, name: str, content: bytes) -> list[Parsed]:
    return list(get_connector(source).parse(Payload.from_bytes(name, content)))


def kinds(items: Iterable[object]) -> Counter[str]:
    return Counter(type(item).__name__ for item in items)


@pytest.fixture
def shared() -> type:
    """Access to the helpers as a fixture, for tests that prefer fixtures."""

    class Helpers:
        file = staticmethod(shared_file)
        parse = staticmethod(parse_path)

    return Helpers
