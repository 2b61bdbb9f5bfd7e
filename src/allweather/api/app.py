"""The FastAPI application: /api/v1 plus the web interface at /."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from allweather import __version__
from allweather.api.errors import install_error_handlers
from allweather.api.routers import events, exposures, projects, reference, system, warnings
from allweather.api.routers import map as map_router
from allweather.platform import Platform
from allweather.web.pages import install_web

API_PREFIX = "/api/v1"


def create_app(platform: Platform) -> FastAPI:
    """Build the app around an open platform (database, clock, catalog)."""
    app = FastAPI(
        title="全天候 Allweather API",
        version=__version__,
        description="境外项目风险全天候预警评估综合服务平台 — all-weather early warning and "
        "assessment for overseas projects.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the Swagger page loads its assets from a CDN; the platform runs offline
        redoc_url=None,
    )
    app.state.platform = platform
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (system, projects, map_router, events, exposures, reference, warnings):
        api.include_router(module.router)
    app.include_router(api)
    install_web(app)
    return app
