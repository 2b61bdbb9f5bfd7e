"""The connector framework: HTTP behaviour, spec validation, the registry."""

import asyncio
from pathlib import Path

import httpx
import pytest

from allweather.connectors.errors import (
    SourceAuthError,
    SourceNotFoundError,
    SourceUnavailableError,
)
from allweather.connectors.http import HttpClient
from allweather.connectors.registry import all_connectors, get_connector, load_failures
from allweather.connectors.spec import load_spec
from allweather.errors import ConfigError


def _client(responses: list, waits: list[float]) -> HttpClient:
    replies = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return HttpClient(
        client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        attempts=4,
        backoff=1.0,
        sleep=sleep,
    )


def _get(client: HttpClient, **kwargs):
    async def go():
        try:
            return await client.get("https://example.org/feed", **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_retries_with_exponential_backoff_then_succeeds():
    waits: list[float] = []
    request = httpx.Request("GET", "https://example.org/feed")
    client = _client(
        [
            httpx.ConnectError("down", request=request),
            httpx.Response(503),
            httpx.Response(200, content=b"ok"),
        ],
        waits,
    )
    payload = _get(client)
    assert payload.content == b"ok"
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 1.25
    assert 2.0 <= waits[1] <= 2.5


def test_gives_up_after_the_attempts_with_the_last_problem():
    waits: list[float] = []
    with pytest.raises(SourceUnavailableError, match="HTTP 502 after 4 attempts"):
        _get(_client([httpx.Response(502)] * 4, waits))
    assert len(waits) == 3


def test_honours_retry_after():
    waits: list[float] = []
    _get(
        _client(
            [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=b"x")],
            waits,
        )
    )
    assert waits == [7.0]


def test_not_modified_auth_and_not_found():
    assert _get(_client([httpx.Response(304)], []), etag='"v1"') is None
    with pytest.raises(SourceAuthError):
        _get(_client([httpx.Response(401)], []))
    waits: list[float] = []
    with pytest.raises(SourceNotFoundError):
        _get(_client([httpx.Response(404)], waits))
    assert waits == []  # a 404 is an answer, not a reason to retry


def test_every_connector_has_a_valid_spec_and_a_unique_number():
    assert load_failures() == {}
    connectors = all_connectors()
    numbers = [c.spec.number for c in connectors]
    assert len(numbers) == len(set(numbers))
    ids = {c.spec.id for c in connectors}
    assert ids == {
        "usgs_earthquakes", "gdacs_alerts", "ucdp_ged", "acled_events", "who_don", "gdelt_events",
        "cap_alerts", "worldbank_debarred", "un_consolidated", "ofac_sdn",
    }  # fmt: skip
    for connector in connectors:
        assert connector.spec.title_zh
        assert connector.spec.license
        assert get_connector(connector.spec.id) is connector


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("id: x\n", "number"),
        ("id: Bad-Id\nnumber: 1\n", "id"),
        (
            "id: good_id\nnumber: 200\ntitle: t\ntitle_zh: t\npublisher: p\nlicense: l\nformat: f\ncadence: 15m\nexpected_per_run: {min: 0, max: 1}\n",
            "number",
        ),
        (
            "id: good_id\nnumber: 1\ntitle: t\ntitle_zh: t\npublisher: p\nlicense: l\nformat: f\ncadence: 10s\nexpected_per_run: {min: 0, max: 1}\n",
            "cadence below",
        ),
        (
            "id: good_id\nnumber: 1\ntitle: t\ntitle_zh: t\npublisher: p\nlicense: l\nformat: f\ncadence: 15m\nexpected_per_run: {min: 0, max: 1}\nsecrets: {key: hunter2}\n",
            "never a value",
        ),
        ("id: [unclosed\n", "unreadable spec"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(tmp_path: Path, yaml: str, message: str):
    path = tmp_path / "spec.yml"
    path.write_text(yaml)
    with pytest.raises(ConfigError, match=message):
        load_spec(path)


def test_a_broken_connector_does_not_stop_the_others(monkeypatch):
    from allweather.connectors import registry

    real_import = registry.importlib.import_module

    def failing(name, *args):
        if name == "allweather.connectors.who_don.connector":
            raise ImportError("simulated breakage")
        return real_import(name, *args)

    registry._load.cache_clear()
    saved = registry._CLASSES.pop("who_don")
    monkeypatch.setattr(registry.importlib, "import_module", failing)
    try:
        assert registry.load_failures() == {"who_don": "ImportError: simulated breakage"}
        assert "usgs_earthquakes" in {c.spec.id for c in registry.all_connectors()}
        with pytest.raises(ConfigError, match="who_don failed to load: ImportError"):
            registry.get_connector("who_don")
    finally:
        monkeypatch.undo()
        registry._CLASSES["who_don"] = saved
        registry._load.cache_clear()
