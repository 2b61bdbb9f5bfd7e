import math
import re
from pathlib import Path

import pytest
import yaml

from allweather.domain.events import EventPrecision
from allweather.domain.reach import (
    ReachError,
    ReachKind,
    ReachMatrix,
    ReachOverride,
)
from allweather.domain.taxonomy import FineType, SeverityGrade
from allweather.domain.vocabulary import SiteKind

DOCS = Path(__file__).resolve().parents[2] / "docs"
BUNDLED = (
    Path(__file__).resolve().parents[2] / "src" / "allweather" / "data" / "reach.yaml"
).read_text(encoding="utf-8")

I, II, III, IV = SeverityGrade  # noqa: E741 — the grades' own names
POINT, AREA, LINE = SiteKind.POINT, SiteKind.AREA, SiteKind.LINE

COUNTRY_WIDE = {
    FineType.COUP,
    FineType.ELECTION_CRISIS,
    FineType.CURRENCY_CRISIS,
    FineType.FINANCIAL_TURMOIL,
    FineType.SOVEREIGN_DEBT_CRISIS,
    FineType.INFLATION_SURGE,
    FineType.REGULATION_CHANGE,
    FineType.EXPROPRIATION,
    FineType.SANCTIONS_LISTING,
    FineType.DEBARMENT,
}


@pytest.fixture(scope="module")
def matrix():
    return ReachMatrix.default()


def override(scope="organization", code="CREC", fine_type=FineType.ARMED_CLASH, **kw):
    values = {
        "severity": None,
        "site_kind": None,
        "kind": ReachKind.RADIUS,
        "radius_km": 10.0,
        "reason": "our own security assessment",
    }
    values.update(kw)
    return ReachOverride(scope=scope, scope_code=code, fine_type=fine_type, **values)


# ── the bundled defaults ─────────────────────────────────────────────────────────────────


def test_bundled_matrix_covers_every_type_grade_and_site_kind(matrix):
    assert matrix.version == "2026.1"
    for fine_type in FineType:
        for grade in SeverityGrade:
            for site_kind in SiteKind:
                reach = matrix.reach(fine_type, grade, site_kind)
                assert reach.why, (fine_type, grade, site_kind)
                if reach.kind is ReachKind.RADIUS:
                    assert 0 < reach.radius_km <= 5000, (fine_type, grade, site_kind)
                else:
                    assert reach.radius_km is None


def test_default_is_the_packaged_file(matrix):
    assert ReachMatrix.from_yaml(BUNDLED).fingerprint() == matrix.fingerprint()
    assert ReachMatrix.default() is matrix  # loaded once per process; the matrix is immutable


@pytest.mark.parametrize("fine_type", sorted(COUNTRY_WIDE))
def test_country_wide_types_reach_the_whole_country(matrix, fine_type):
    reach = matrix.reach(FineType(fine_type), IV, LINE)
    assert reach.kind is ReachKind.COUNTRY
    assert reach.radius_km is None
    assert reach.rule == f"platform:{fine_type}"
    assert matrix.max_radius_km(FineType(fine_type), I) is None


def test_every_other_type_has_a_radius_and_epidemics_are_graded(matrix):
    for fine_type in set(FineType) - COUNTRY_WIDE:
        assert matrix.reach(fine_type, I, POINT).kind is ReachKind.RADIUS, fine_type
    epidemic = [matrix.reach(FineType.EPIDEMIC_OUTBREAK, g, POINT).radius_km for g in SeverityGrade]
    assert epidemic == sorted(epidemic, reverse=True)
    assert epidemic[0] > epidemic[-1]


def test_radii_shrink_from_grade_I_to_IV(matrix):
    for fine_type in set(FineType) - COUNTRY_WIDE:
        for site_kind in SiteKind:
            radii = [matrix.reach(fine_type, g, site_kind).radius_km for g in SeverityGrade]
            assert radii == sorted(radii, reverse=True), (fine_type, site_kind)


def test_grounded_numbers(matrix):
    # spot checks against the reasoning in reach.yaml: cyclone wind radii of hundreds of km,
    # protests at city scale, fighting spill-over of tens of km
    assert matrix.reach(FineType.TROPICAL_CYCLONE, I, POINT).radius_km >= 300
    assert 10 <= matrix.reach(FineType.PROTEST, II, POINT).radius_km <= 25
    assert 25 <= matrix.reach(FineType.ARMED_CLASH, II, POINT).radius_km <= 50
    assert matrix.reach(FineType.EARTHQUAKE, II, POINT).rule == "platform:earthquake/II/point"


def test_site_kind_sections_apply_to_their_kind_only(matrix):
    point = matrix.reach(FineType.KIDNAPPING, II, POINT)
    line = matrix.reach(FineType.KIDNAPPING, II, LINE)
    area = matrix.reach(FineType.KIDNAPPING, II, AREA)
    assert line.radius_km > point.radius_km
    assert area.radius_km == point.radius_km
    assert line.rule == "platform:kidnapping/II/line"
    assert area.rule == "platform:kidnapping/II/area"


def test_precision_rules(matrix):
    exact = matrix.precision_rule(EventPrecision.EXACT)
    assert (exact.kind, exact.widen_km, exact.flags) == (ReachKind.RADIUS, 0, False)
    near = matrix.precision_rule(EventPrecision.NEAR)
    assert (near.kind, near.widen_km, near.flags) == (ReachKind.RADIUS, 25, True)
    widen = [matrix.precision_rule(p).widen_km for p in ("exact", "near", "admin2", "admin1")]
    assert widen == sorted(widen)
    country = matrix.precision_rule(EventPrecision.COUNTRY)
    assert (country.kind, country.widen_km, country.flags) == (ReachKind.COUNTRY, 0, True)
    assert matrix.precision_rule(EventPrecision.UNKNOWN).kind is ReachKind.NONE
    for precision in EventPrecision:
        assert matrix.precision_rule(precision).precision is precision
        assert matrix.precision_rule(precision).why


# ── overrides ────────────────────────────────────────────────────────────────────────────


def test_project_beats_organization_beats_platform(matrix):
    clash = FineType.ARMED_CLASH
    m = matrix.with_overrides(
        [
            override("organization", "CREC", radius_km=80),
            override("project", "P-1", radius_km=120, reason="front line 60 km north"),
        ]
    )
    assert m.reach(clash, II, POINT).radius_km == 50  # no scope given: platform
    assert m.reach(clash, II, POINT, organization="CREC").radius_km == 80
    assert m.reach(clash, II, POINT, organization="OTHER").radius_km == 50
    project = m.reach(clash, II, POINT, organization="CREC", project="P-1")
    assert project.radius_km == 120
    assert project.rule == "project:P-1:armed_clash"
    assert project.why == "front line 60 km north"
    # another project of the same organisation falls back to the organisation's number
    assert m.reach(clash, II, POINT, organization="CREC", project="P-2").radius_km == 80


def test_within_a_scope_the_most_specific_override_wins(matrix):
    clash = FineType.ARMED_CLASH
    m = matrix.with_overrides(
        [
            override(radius_km=10),
            override(site_kind=LINE, radius_km=20),
            override(severity=II, radius_km=30),
            override(severity=II, site_kind=LINE, radius_km=40),
        ]
    )
    org = {"organization": "CREC"}
    assert m.reach(clash, II, LINE, **org).radius_km == 40
    assert m.reach(clash, II, LINE, **org).rule == "organization:CREC:armed_clash/II/line"
    assert m.reach(clash, II, POINT, **org).radius_km == 30
    assert m.reach(clash, II, POINT, **org).rule == "organization:CREC:armed_clash/II/*"
    assert m.reach(clash, III, LINE, **org).radius_km == 20
    assert m.reach(clash, III, LINE, **org).rule == "organization:CREC:armed_clash/*/line"
    assert m.reach(clash, III, POINT, **org).radius_km == 10
    # grade beats site kind: without the grade + kind override, II on a line takes the grade's
    less = matrix.with_overrides(
        [o for o in m.overrides if o.rule != "organization:CREC:armed_clash/II/line"]
    )
    assert less.reach(clash, II, LINE, **org).radius_km == 30
    # a vaguer project override still beats the most specific organisation override
    m2 = m.with_overrides([override("project", "P-1", radius_km=5)])
    assert m2.reach(clash, II, LINE, organization="CREC", project="P-1").radius_km == 5


def test_overrides_can_change_the_kind_of_reach(matrix):
    m = matrix.with_overrides(
        [
            override(fine_type=FineType.COUP, kind=ReachKind.RADIUS, radius_km=300),
            override(
                "project",
                "P-1",
                fine_type=FineType.PROTEST,
                severity=IV,
                kind=ReachKind.NONE,
                radius_km=None,
            ),
        ]
    )
    coup = m.reach(FineType.COUP, I, POINT, organization="CREC")
    assert (coup.kind, coup.radius_km, coup.rule) == (
        ReachKind.RADIUS,
        300,
        "organization:CREC:coup",
    )
    assert m.reach(FineType.PROTEST, IV, POINT, project="P-1").kind is ReachKind.NONE
    assert m.reach(FineType.PROTEST, III, POINT, project="P-1").kind is ReachKind.RADIUS


def test_with_overrides_leaves_the_original_unchanged(matrix):
    before = (matrix.fingerprint(), matrix.overrides, matrix.rows())
    m = matrix.with_overrides([override(radius_km=80)])
    assert m is not matrix
    assert len(m.overrides) == 1
    assert (matrix.fingerprint(), matrix.overrides, matrix.rows()) == before
    assert matrix.reach(FineType.ARMED_CLASH, II, POINT, organization="CREC").radius_km == 50


def test_a_later_override_with_the_same_key_replaces_the_earlier(matrix):
    m = matrix.with_overrides([override(radius_km=80)]).with_overrides([override(radius_km=90)])
    assert [o.radius_km for o in m.overrides] == [90]
    assert m.reach(FineType.ARMED_CLASH, I, POINT, organization="CREC").radius_km == 90


def test_override_accepts_strings_for_its_enums():
    o = ReachOverride("project", "P-1", "flood", "II", "line", "radius", 75, "river crossing")
    assert (o.fine_type, o.severity, o.site_kind, o.kind) == (
        FineType.FLOOD,
        II,
        LINE,
        ReachKind.RADIUS,
    )
    assert o.radius_km == 75.0
    assert isinstance(o.radius_km, float)
    assert o.rule == "project:P-1:flood/II/line"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"kind": ReachKind.COUNTRY, "radius_km": 50},
            r"^radius_km: a country reach takes no radius",
        ),
        ({"kind": ReachKind.NONE, "radius_km": 1}, r"^radius_km: a none reach takes no radius"),
        ({"radius_km": None}, r"^radius_km: a radius reach needs a radius"),
        ({"radius_km": -5}, r"^radius_km: -5 is not a positive number of km"),
        ({"radius_km": 0}, r"^radius_km: 0 is not a positive number of km"),
        ({"radius_km": math.inf}, r"^radius_km: inf is not a positive number of km"),
        ({"radius_km": 5001}, r"^radius_km: 5001 km is more than the 5000 km limit"),
        ({"radius_km": True}, r"^radius_km: True is not a positive number"),
        ({"scope": "company"}, r"^scope: 'company' is not one of organization, project"),
        ({"code": " "}, r"^scope_code: "),
        ({"reason": ""}, r"^reason: an override needs a reason"),
        ({"fine_type": "meteor"}, r"^fine_type: 'meteor' is not one of earthquake, "),
        ({"severity": "V"}, r"^severity: 'V' is not one of I, II, III, IV"),
        ({"site_kind": "tunnel"}, r"^site_kind: 'tunnel' is not one of point, area, line"),
        ({"kind": "region"}, r"^kind: 'region' is not one of radius, country, none"),
    ],
)
def test_bad_overrides_name_the_field(changes, message):
    with pytest.raises(ReachError, match=message):
        override(**changes)


def test_with_overrides_refuses_other_objects(matrix):
    with pytest.raises(ReachError, match=r"overrides\[0\]"):
        matrix.with_overrides([{"scope": "project"}])


# ── search bound, fingerprint, rows ──────────────────────────────────────────────────────


def test_max_radius_covers_every_site_kind_and_override(matrix):
    kidnap = FineType.KIDNAPPING
    line = matrix.reach(kidnap, I, LINE).radius_km
    assert line > matrix.reach(kidnap, I, POINT).radius_km
    assert matrix.max_radius_km(kidnap, I) == line  # the line section is the widest
    m = matrix.with_overrides(
        [
            override("project", "P-1", fine_type=kidnap, severity=II, radius_km=900),
            override("organization", "X", fine_type=kidnap, site_kind=AREA, radius_km=400),
        ]
    )
    assert m.max_radius_km(kidnap, II) == 900
    assert m.max_radius_km(kidnap, I) == 400  # the grade-II override does not apply to I
    assert matrix.max_radius_km(kidnap, II) == matrix.reach(kidnap, II, LINE).radius_km
    # a country-wide type has no radius until an override gives it one
    assert matrix.max_radius_km(FineType.COUP, I) is None
    coup = matrix.with_overrides([override(fine_type=FineType.COUP, radius_km=250)])
    assert coup.max_radius_km(FineType.COUP, III) == 250
    # a NONE or COUNTRY override never lowers the bound for everyone else
    none = matrix.with_overrides([override(kind=ReachKind.NONE, radius_km=None)])
    assert none.max_radius_km(FineType.ARMED_CLASH, I) == matrix.max_radius_km(
        FineType.ARMED_CLASH, I
    )


def test_fingerprint_is_stable_and_changes_with_any_rule(matrix):
    fp = matrix.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    assert ReachMatrix.from_yaml(BUNDLED).fingerprint() == fp
    a, b = override(radius_km=80), override("project", "P-1", radius_km=5)
    with_a = matrix.with_overrides([a])
    assert with_a.fingerprint() != fp
    assert (
        matrix.with_overrides([a, b]).fingerprint() == matrix.with_overrides([b, a]).fingerprint()
    )
    assert matrix.with_overrides([override(radius_km=81)]).fingerprint() != with_a.fingerprint()
    assert matrix.with_overrides([]).fingerprint() == fp
    bumped = ReachMatrix.from_yaml(BUNDLED.replace('version: "2026.1"', 'version: "2026.2"'))
    assert bumped.fingerprint() != fp
    wider = ReachMatrix.from_yaml(
        BUNDLED.replace("radius_km: {I: 300, II: 120,", "radius_km: {I: 300, II: 121,")
    )
    assert wider.fingerprint() != fp


def test_rows_flatten_defaults_and_overrides(matrix):
    rows = matrix.rows()
    assert {r["fine_type"] for r in rows} == {t.value for t in FineType}
    assert set(rows[0]) == {
        "scope",
        "scope_code",
        "fine_type",
        "severity",
        "site_kind",
        "kind",
        "radius_km",
        "why",
    }
    coup = [r for r in rows if r["fine_type"] == "coup"]
    assert coup == [
        {
            "scope": "platform",
            "scope_code": None,
            "fine_type": "coup",
            "severity": None,
            "site_kind": None,
            "kind": "country",
            "radius_km": None,
            "why": matrix.reach(FineType.COUP, I, POINT).why,
        }
    ]
    quake_ii = [r for r in rows if r["fine_type"] == "earthquake" and r["severity"] == "II"]
    assert [(r["site_kind"], r["radius_km"]) for r in quake_ii] == [(None, 120.0)]
    kidnap_i = [r for r in rows if r["fine_type"] == "kidnapping" and r["severity"] == "I"]
    assert [r["site_kind"] for r in kidnap_i] == ["point", "area", "line"]
    m = matrix.with_overrides(
        [override("project", "P-1", radius_km=5), override(severity=II, site_kind=LINE)]
    )
    extra = m.rows()[len(rows) :]
    assert [(r["scope"], r["scope_code"], r["severity"], r["site_kind"]) for r in extra] == [
        ("organization", "CREC", "II", "line"),
        ("project", "P-1", None, None),
    ]
    assert extra[1]["why"] == "our own security assessment"


# ── validation of matrix files ───────────────────────────────────────────────────────────


def load(mutate):
    data = yaml.safe_load(BUNDLED)
    mutate(data)
    return ReachMatrix.from_yaml(yaml.safe_dump(data, allow_unicode=True), source="org.yaml")


def _set(path, value):
    def mutate(data):
        *head, last = path
        for key in head:
            data = data[key]
        data[last] = value

    return mutate


def _delete(*path):
    def mutate(data):
        *head, last = path
        for key in head:
            data = data[key]
        del data[last]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            _delete("types", "earthquake"),
            "types.earthquake: missing; every fine type needs an entry",
        ),
        (
            _set(("types", "earthquake", "radius_km", "II"), -5),
            "types.earthquake.radius_km.II: -5 is not a positive number of km",
        ),
        (
            _set(("types", "flood", "radius_km", "V"), 5),
            "types.flood.radius_km.V: unknown grade; grades are I, II, III, IV",
        ),
        (_delete("types", "flood", "radius_km", "IV"), "types.flood.radius_km.IV: missing"),
        (_set(("owner",), "me"), "owner: unknown key; allowed: version, precision, types"),
        (_delete("types"), "types: missing"),
        (
            _set(("precision", "near", "widen_km"), "wide"),
            "precision.near.widen_km: 'wide' is not a number of km",
        ),
        (
            _set(("precision", "near", "widen_km"), -1),
            "precision.near.widen_km: -1 is not a number of km from 0 to 5000",
        ),
        (
            _set(("precision", "street"), {"widen_km": 1, "why": "x"}),
            "precision.street: unknown key",
        ),
        (_delete("precision", "admin2"), "precision.admin2: missing"),
        (
            _set(("precision", "country", "reach"), "continent"),
            "precision.country.reach: 'continent' is not one of radius, country, none",
        ),
        (
            _set(("precision", "country", "widen_km"), 10),
            "precision.country.widen_km: a country reach takes no widening",
        ),
        (
            _set(("types", "coup", "radius_km"), {"I": 1, "II": 1, "III": 1, "IV": 1}),
            "types.coup.radius_km: a country reach takes no radius",
        ),
        (_set(("types", "meteor"), {"why": "x"}), "types.meteor: unknown fine type"),
        (_set(("types", "riot", "hinterland"), 5), "types.riot.hinterland: unknown key"),
        (_delete("types", "riot", "why"), "types.riot.why: missing"),
        (_set(("types", "riot", "why"), " "), "types.riot.why: expected non-empty text"),
        (_delete("types", "riot", "radius_km"), "types.riot.radius_km: missing"),
        (
            _set(("types", "riot", "radius_km", "I"), 6000),
            "types.riot.radius_km.I: 6000 km is more than the 5000 km limit",
        ),
        (
            _set(("types", "riot", "radius_km", "I"), float("nan")),
            "types.riot.radius_km.I: nan is not a positive number of km",
        ),
        (
            _set(("types", "riot", "radius_km", "I"), "50 km"),
            "types.riot.radius_km.I: '50 km' is not a positive number of km",
        ),
        (
            _set(("types", "riot", "radius_km", "IV"), 45),
            "types.riot.radius_km.IV: 45 km is wider than grade III (20 km)",
        ),
        (
            _set(("types", "kidnapping", "line"), {"I": 1, "II": 1, "III": 1}),
            "types.kidnapping.line.IV: missing",
        ),
        (
            _set(("types", "riot", "area"), [10, 5]),
            "types.riot.area: expected a radius for each grade",
        ),
        (_set(("version",), 2026.1), 'version: expected quoted text such as "2026.1", got 2026.1'),
    ],
)
def test_bad_matrix_files_name_the_field(mutate, message):
    with pytest.raises(ReachError, match=f"^org.yaml: {re.escape(message)}"):
        load(mutate)


def test_bad_yaml_text():
    with pytest.raises(ReachError, match=r"^reach.yaml: not valid YAML"):
        ReachMatrix.from_yaml("types: [unclosed")
    with pytest.raises(ReachError, match=r"^reach.yaml: \(top level\): expected a mapping"):
        ReachMatrix.from_yaml("- just a list")
    twice = BUNDLED.replace("\n  riot:\n", "\n  coup:\n    reach: country\n    why: x\n  riot:\n")
    with pytest.raises(ReachError, match=r"^reach.yaml: line \d+: 'coup' is given twice"):
        ReachMatrix.from_yaml(twice)


# ── the method page stays true ───────────────────────────────────────────────────────────


def _cell(matrix, fine_type, grade):
    point = matrix.reach(fine_type, grade, POINT)
    if point.kind is ReachKind.COUNTRY:
        return "全国"
    if point.kind is ReachKind.NONE:
        return "—"
    text = f"{point.radius_km:g}"
    for site_kind in (AREA, LINE):
        other = matrix.reach(fine_type, grade, site_kind).radius_km
        if other != point.radius_km:
            text += f" ({site_kind} {other:g})"
    return text


def test_the_defaults_table_in_docs_matches_the_yaml(matrix):
    text = (DOCS / "reach.md").read_text(encoding="utf-8")
    table = {
        m.group(1): [c.strip() for c in m.group(2).split("|")]
        for m in re.finditer(r"^\| `([a-z0-9_]+)` \|(.*)\|$", text, flags=re.M)
    }
    precision_codes = {p.value for p in EventPrecision}
    types = {k: v for k, v in table.items() if k not in precision_codes}
    assert set(types) == {t.value for t in FineType}
    for fine_type in FineType:
        label, *grades, _why = types[fine_type.value]
        assert label == fine_type.label.zh, fine_type
        assert grades == [_cell(matrix, fine_type, g) for g in SeverityGrade], fine_type
    for precision in EventPrecision:
        rule = matrix.precision_rule(precision)
        expected = f"+{rule.widen_km:g} km" if rule.kind is ReachKind.RADIUS else str(rule.kind)
        assert table[precision.value][1] == expected, precision
