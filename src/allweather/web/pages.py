"""Web pages: Chinese first, English on ?lang=en."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from allweather import __version__
from allweather.domain.labels import Label
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import ProjectKind, SiteKind

_WEB = Path(str(resources.files("allweather.web")))
templates = Jinja2Templates(directory=_WEB / "templates")
router = APIRouter(include_in_schema=False)

# Interface strings, Chinese first. Kept here (not in templates) so both languages stay in step.
TEXT: dict[str, Label] = {
    "title": Label(
        "全天候 · 境外项目风险预警评估平台", "Allweather · Overseas project risk platform"
    ),
    "brand": Label("全天候", "Allweather"),
    "map": Label("地图总览", "Map overview"),
    "projects": Label("项目", "Projects"),
    "sites": Label("站点", "Sites"),
    "n_projects": Label("个项目", "projects"),
    "n_sites": Label("个站点", "sites"),
    "countries": Label("国家", "Countries"),
    "legend": Label("图例", "Legend"),
    "loading": Label("正在加载项目…", "Loading projects…"),
    "loaded": Label("已加载", "Loaded"),
    "kind": Label("项目类型", "Project kind"),
    "sector": Label("行业", "Sector"),
    "status": Label("状态", "Status"),
    "country": Label("国家", "Country"),
    "code": Label("项目编码", "Project code"),
    "switch": Label("English", "中文"),
    "clock": Label("平台时间", "Platform time"),
    "events": Label("近30天事件", "Events, last 30 days"),
    "n_events": Label("个事件", "events"),
    "severity": Label("事件分级（不是预警级别）", "Event severity (not a warning level)"),
    "footer": Label(
        "底图与边界：Natural Earth（公有领域）；"
        "项目：AidData GeoGCDF v2.0（ODC-By）与 OpenStreetMap（ODbL）",
        "Basemap and borders: Natural Earth (public domain); projects: AidData GeoGCDF v2.0 "
        "(ODC-By) and OpenStreetMap (ODbL)",
    ),
}


@router.get("/", response_class=HTMLResponse)
def index(request: Request, lang: Annotated[Literal["zh", "en"], Query()] = "zh") -> HTMLResponse:
    """The map dashboard: every project, footprints and corridors."""
    other = "en" if lang == "zh" else "zh"
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "lang": lang,
            "other_lang": other,
            "t": {k: v.text(lang) for k, v in TEXT.items()},
            "kinds": [(k.value, k.label.text(lang)) for k in ProjectKind],
            "site_kinds": [(k.value, k.label.text(lang)) for k in SiteKind],
            "grades": [(g.value, f"{g.numeral} {g.label.text(lang)}") for g in SeverityGrade],
            "fine_types": {t.value: t.label.text(lang) for t in FineType},
            "version": __version__,
        },
    )


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=_WEB / "static"), name="static")
