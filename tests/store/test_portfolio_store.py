"""The store suite: every test runs on SQLite and on PostgreSQL/PostGIS."""

from dataclasses import replace

import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from allweather.domain.portfolio import Organization, StaffCounts
from allweather.domain.vocabulary import LocationPrecision, OrgKind, ProjectKind, Sector
from allweather.store.base import ProjectFilter, ProjectUpdate
from allweather.store.portfolio import SqlPortfolioStore
from allweather.store.tables import projects, sites
from tests.conftest import NOW
from tests.factories import MOMBASA_PORT, SGR_LINE, make_project, make_site, make_update

ORG = Organization("CRBC", "China Road and Bridge Corporation", "中国路桥工程有限责任公司")


def test_create_then_read_back_everything(store):
    project = replace(make_project(), organization_code="CRBC")
    changes = store.apply_portfolio([make_update(project, contacts_provided=True)], [ORG], NOW)
    assert (changes.projects_created, changes.sites_created, changes.organizations_created) == (
        1,
        3,
        1,
    )

    stored = store.get_project("KE-SGR")
    assert stored is not None
    assert stored.name_zh == "蒙内铁路"
    assert stored.organization_code == "CRBC"
    assert stored.kind is ProjectKind.FLAGSHIP
    assert stored.sector is Sector.TRANSPORT
    assert stored.staff == StaffCounts(120, 2000, 5)
    assert stored.contacts == project.contacts
    assert [s.key for s in stored.sites] == ["line", "port", "terminus"]
    assert [s.kind.value for s in stored.sites] == ["line", "area", "point"]
    assert all(s.id is not None for s in stored.sites)


def test_geometry_round_trips_exactly(store):
    holed = Polygon(
        [(39.0, -4.0), (39.5, -4.0), (39.5, -3.5), (39.0, -3.5)],
        [[(39.1, -3.9), (39.2, -3.9), (39.2, -3.8), (39.1, -3.8)]],
    )
    across_180 = MultiLineString(
        [[(179.5, -17.0), (180.0, -17.2)], [(-180.0, -17.2), (-179.6, -17.4)]]
    )
    shapes = {"holed": holed, "dateline": across_180, "pin": Point(36.8219123456789, -1.2921)}
    project = make_project(sites=tuple(make_site(k, geometry=g) for k, g in shapes.items()))
    store.apply_portfolio([make_update(project)], [], NOW)
    stored = {s.key: s.geometry for s in store.get_project("KE-SGR").sites}
    for key, geometry in shapes.items():
        assert shapely.equals_exact(stored[key], geometry, tolerance=0), key


def test_reapplying_the_same_input_changes_nothing(store):
    store.apply_portfolio([make_update()], [ORG], NOW)
    again = store.apply_portfolio([make_update()], [ORG], NOW)
    assert again.projects_unchanged == 1
    assert (again.projects_created, again.projects_updated, again.sites_created) == (0, 0, 0)
    assert (again.sites_updated, again.sites_removed, again.organizations_created) == (0, 0, 0)
    assert store.counts()["projects"] == 1
    assert store.counts()["sites"] == 3


def test_update_touches_only_the_fields_given(store):
    store.apply_portfolio([make_update()], [], NOW)
    renamed = make_project(name="SGR Phase 1", staff=StaffCounts(1, 1, 1), value_usd=None)
    changes = store.apply_portfolio([ProjectUpdate(renamed, fields=frozenset({"name"}))], [], NOW)
    assert changes.projects_updated == 1
    stored = store.get_project("KE-SGR")
    assert stored.name == "SGR Phase 1"
    assert stored.staff == StaffCounts(120, 2000, 5)  # column absent from the input: untouched
    assert stored.value_usd == 3.8e9


def test_site_changes_update_in_place_and_keep_ids(store):
    store.apply_portfolio([make_update()], [], NOW)
    before = {s.key: s.id for s in store.get_project("KE-SGR").sites}
    moved = make_project(
        sites=(
            make_site("line", geometry=LineString([(39.63, -4.04), (36.82, -1.29)])),
            make_site("port", geometry=MOMBASA_PORT, precision=LocationPrecision.APPROXIMATE),
            make_site("terminus"),
        )
    )
    changes = store.apply_portfolio([make_update(moved)], [], NOW)
    assert (changes.sites_updated, changes.sites_created, changes.projects_updated) == (2, 0, 1)
    after = store.get_project("KE-SGR").sites
    assert {s.key: s.id for s in after} == before
    assert {s.key: s.precision for s in after}["port"] is LocationPrecision.APPROXIMATE


def test_authoritative_input_removes_sites_it_no_longer_lists(store):
    store.apply_portfolio([make_update()], [], NOW)
    fewer = make_project(sites=(make_site("line", geometry=SGR_LINE),))
    changes = store.apply_portfolio([make_update(fewer)], [], NOW)
    assert changes.sites_removed == 2
    assert [s.key for s in store.get_project("KE-SGR").sites] == ["line"]


def test_partial_input_keeps_sites_it_does_not_list(store):
    store.apply_portfolio([make_update()], [], NOW)
    fewer = make_project(sites=(make_site("line", geometry=SGR_LINE),))
    changes = store.apply_portfolio([make_update(fewer, replace_sites=False)], [], NOW)
    assert changes.sites_removed == 0
    assert len(store.get_project("KE-SGR").sites) == 3


def test_a_failing_batch_writes_nothing(store):
    good = make_project("GOOD-1")
    bad = make_project("BAD-1", country_code="ZZ")  # not in the countries table: FK violation
    with pytest.raises(IntegrityError):
        store.apply_portfolio([make_update(good), make_update(bad)], [ORG], NOW)
    assert store.counts()["projects"] == 0
    assert store.counts()["sites"] == 0
    assert store.counts()["organizations"] == 0


def test_list_projects_filters_and_paginates(store):
    updates = [
        make_update(make_project(f"KE-{i:02d}", name=f"Kenya project {i}")) for i in range(7)
    ] + [
        make_update(
            make_project(
                "LA-RAIL", name="China–Laos Railway", name_zh="中老铁路", country_code="LA"
            )
        )
    ]
    store.apply_portfolio(updates, [], NOW)
    page, total = store.list_projects(ProjectFilter(country_code="ke"), offset=5, limit=5)
    assert total == 7
    assert [p.code for p in page] == ["KE-05", "KE-06"]
    assert page[0].site_count == 3
    assert page[0].anchor is not None
    found, total = store.list_projects(ProjectFilter(text="中老"), offset=0, limit=10)
    assert [p.code for p in found] == ["LA-RAIL"]
    assert total == 1
    found, _ = store.list_projects(ProjectFilter(text="laos"), offset=0, limit=10)
    assert [p.code for p in found] == ["LA-RAIL"]


def test_site_features_by_bounding_box_including_across_the_antimeridian(store):
    fiji = make_project(
        "FJ-1",
        country_code="FJ",
        sites=(make_site("1", geometry=Point(179.9, -17.0), country_code="FJ"),),
    )
    samoa = make_project(
        "WS-1",
        country_code="WS",
        sites=(make_site("1", geometry=Point(-171.8, -13.8), country_code="WS"),),
    )
    store.apply_portfolio([make_update(), make_update(fiji), make_update(samoa)], [], NOW)
    kenya, total = store.site_features((36.0, -5.0, 40.0, 0.0), 0, 100)
    assert total == 3
    assert {f.project_code for f in kenya} == {"KE-SGR"}
    pacific, _ = store.site_features((170.0, -20.0, -170.0, -10.0), 0, 100)
    assert {f.project_code for f in pacific} == {"FJ-1", "WS-1"}
    everything, total = store.site_features(None, 0, 2)
    assert total == 5
    assert len(everything) == 2


def test_organizations_and_oversight(store):
    store.apply_portfolio([], [ORG, Organization("MOFCOM-X", "Dept", kind=OrgKind.DEPARTMENT)], NOW)
    orgs = {o.code: o for o in store.organizations()}
    assert orgs["CRBC"].name_zh == "中国路桥工程有限责任公司"
    assert orgs["MOFCOM-X"].kind is OrgKind.DEPARTMENT


def test_country_usage_counts_projects_and_sites(store):
    store.apply_portfolio([make_update()], [], NOW)
    usage = {u.country.iso2: u for u in store.country_usage()}
    assert (usage["KE"].projects, usage["KE"].sites) == (1, 3)
    assert usage["LA"].projects == 0


def test_bounding_boxes_and_anchors_are_stored(store):
    store.apply_portfolio([make_update()], [], NOW)
    with store.engine.connect() as conn:
        row = conn.execute(select(sites).where(sites.c.key == "line")).one()
    assert (row.min_lon, row.min_lat, row.max_lon, row.max_lat) == SGR_LINE.bounds
    assert SGR_LINE.distance(Point(row.anchor_lon, row.anchor_lat)) < 1e-9


@pytest.mark.postgres
def test_postgis_holds_real_geometries(pg_engine):
    SqlPortfolioStore(pg_engine).apply_portfolio([make_update()], [], NOW)
    with pg_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT key, ST_SRID(geometry), GeometryType(geometry), ST_IsValid(geometry) FROM sites ORDER BY key"
            )
        ).all()
        inside = conn.execute(
            text(
                "SELECT count(*) FROM sites WHERE ST_Intersects(geometry, ST_SetSRID(ST_MakePoint(39.65, -4.05), 4326))"
            )
        ).scalar_one()
        indexed = conn.execute(
            text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'sites' AND indexdef ILIKE '%gist%'"
            )
        ).scalar_one()
    assert rows == [
        ("line", 4326, "LINESTRING", True),
        ("port", 4326, "POLYGON", True),
        ("terminus", 4326, "POINT", True),
    ]
    assert inside == 1
    assert indexed == 1


def test_timestamps_are_utc_and_only_move_on_change(store):
    store.apply_portfolio([make_update()], [], NOW)
    with store.engine.connect() as conn:
        first = conn.execute(select(projects.c.updated_at)).scalar_one()
    later = NOW.replace(hour=14)
    store.apply_portfolio([make_update()], [], later)
    with store.engine.connect() as conn:
        unchanged = conn.execute(select(projects.c.updated_at)).scalar_one()
        assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 1
    assert first == unchanged == NOW
    store.apply_portfolio([make_update(make_project(name="renamed"))], [], later)
    with store.engine.connect() as conn:
        assert conn.execute(select(projects.c.updated_at)).scalar_one() == later
