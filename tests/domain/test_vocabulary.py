import pytest

from allweather.domain.vocabulary import (
    LocationPrecision,
    OrgKind,
    ProjectKind,
    ProjectStatus,
    Sector,
    SiteKind,
)


@pytest.mark.parametrize(
    ("vocabulary", "text", "expected"),
    [
        (ProjectKind, "flagship", ProjectKind.FLAGSHIP),
        (ProjectKind, "重大标志性工程", ProjectKind.FLAGSHIP),
        (ProjectKind, "小而美", ProjectKind.LIVELIHOOD),
        (Sector, "TRANSPORT AND STORAGE", Sector.TRANSPORT),
        (Sector, "Industry, Mining, Construction", Sector.INDUSTRY),
        (Sector, "能源电力", Sector.ENERGY),
        (ProjectStatus, "Pipeline: Commitment", ProjectStatus.PLANNED),
        (ProjectStatus, "在建", ProjectStatus.UNDER_CONSTRUCTION),
        (ProjectStatus, "under construction", ProjectStatus.UNDER_CONSTRUCTION),
        (ProjectStatus, "Under-Construction", ProjectStatus.UNDER_CONSTRUCTION),
        (SiteKind, "corridor", SiteKind.LINE),
        (LocationPrecision, "Region", LocationPrecision.REGION),
        (OrgKind, "主管部门", OrgKind.DEPARTMENT),
    ],
)
def test_parse_accepts_codes_labels_and_aliases(vocabulary, text, expected):
    assert vocabulary.parse(text) is expected


def test_parse_rejects_unknown_values_and_lists_the_accepted_codes():
    with pytest.raises(ValueError, match=r"unknown value 'spaceport'; accepted: transport, energy"):
        Sector.parse("spaceport")


@pytest.mark.parametrize(
    "vocabulary", [ProjectKind, Sector, ProjectStatus, SiteKind, LocationPrecision, OrgKind]
)
def test_every_member_has_both_labels(vocabulary):
    for member in vocabulary:
        assert member.label.zh
        assert member.label.en
