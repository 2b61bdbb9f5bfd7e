"""The map page in a real browser (Debian's Chromium driven by Playwright; no browser download)."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from shapely.geometry import Point

from allweather.api.app import create_app
from allweather.connectors.registry import get_connector
from tests.conftest import NOW, require_or_skip
from tests.connectors.conftest import shared_file
from tests.factories import make_project, make_site, make_update

CHROMIUM = Path(os.environ.get("ALLWEATHER_CHROMIUM", "/usr/bin/chromium"))
# Headless flags for a closed network (see the machine notes): no background traffic at all.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_url(sqlite_platform):
    projects = [make_update(make_project(f"KE-{i:03d}")) for i in range(150)]
    projects.append(
        make_update(
            make_project(
                "FJ-1",
                country_code="FJ",
                sites=(make_site("1", geometry=Point(178.4, -18.1), country_code="FJ"),),
            )
        )
    )
    sqlite_platform.portfolio.apply_portfolio(projects, [], NOW)
    sqlite_platform.ingestor().ingest_file(
        get_connector("gdelt_events"), shared_file("gdelt2/20240819130000.export.csv")
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sqlite_platform), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def page():
    if not CHROMIUM.exists():
        require_or_skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page
        browser.close()


def test_map_shows_every_project_and_site_from_the_platform_only(live_url, page):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(live_url + "/")
    page.wait_for_function(
        "window.allweather && (window.allweather.ready || window.allweather.error)", timeout=30000
    )
    state = page.evaluate("({...window.allweather, map: undefined})")
    assert state["error"] is None
    assert state["projectsTotal"] == state["projectsLoaded"] == 151
    assert state["sitesTotal"] == state["sitesLoaded"] == 451
    # Rendered by WebGL: clusters and pins on screen, corridors drawn.
    rendered = page.evaluate(
        "window.allweather.map.queryRenderedFeatures({layers: ['clusters', 'project-pins']}).length"
    )
    assert rendered > 0
    assert page.evaluate("window.allweather.map.getLayer('site-lines') !== undefined")
    # Events of the 30 days before the platform clock, drawn and counted; the clock is shown.
    assert state["eventsShown"] > 0
    assert (
        page.evaluate(
            "window.allweather.map.queryRenderedFeatures({layers: ['event-points']}).length"
        )
        > 0
    )
    assert page.text_content("#clock") == "2024-08-19 13:00"
    assert page.text_content("#status") == "已加载 151 个项目 · 451 个站点"
    assert page.title().startswith("全天候")
    assert requested, "the page made no requests"
    assert all(
        url.startswith(live_url) or url.startswith("blob:") or url.startswith("data:")
        for url in requested
    ), [u for u in requested if not u.startswith(live_url)]


def _looks_like_missing_glyphs(page, selector: str) -> bool:
    """True when an element's Chinese renders like private-use characters (empty boxes)."""
    element = page.locator(selector)
    real = element.screenshot()
    original = element.evaluate("e => e.textContent")
    element.evaluate(
        "e => { e.textContent = e.textContent.replace(/[\\u4e00-\\u9fff]/g, '\\uE000'); }"
    )
    boxes = element.screenshot()
    element.evaluate("(e, text) => { e.textContent = text; }", original)
    return real == boxes


def test_chinese_text_renders_as_glyphs_not_boxes(live_url, page):
    page.goto(live_url + "/")
    page.wait_for_function("window.allweather && window.allweather.ready", timeout=30000)
    fonts = page.evaluate("window.allweatherFonts")
    # Without a system Chinese font (as on CI), the platform's own font must have loaded.
    expected = "not needed" if fonts["systemDrawsChinese"] else "loaded"
    assert fonts["platformFont"] == expected
    for selector in (
        ".bar .brand",
        ".bar .page",
        ".legend h2 >> nth=0",
        ".legend h2 >> nth=1",
        "#status",
    ):
        assert page.locator(selector).text_content().strip()
        assert not _looks_like_missing_glyphs(page, selector), selector


def test_language_switch_to_english(live_url, page):
    page.goto(live_url + "/")
    page.click("a.lang")
    page.wait_for_function("window.allweather && window.allweather.ready", timeout=30000)
    assert page.title().startswith("Allweather")
    assert page.text_content("#status") == "Loaded 151 projects · 451 sites"
    assert page.get_attribute("html", "lang") == "en"
