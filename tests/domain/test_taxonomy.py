import re

import pytest

from allweather.domain.levels import ResponseLevel, WarningLevel
from allweather.domain.taxonomy import EventClass, FineType, MofcomCategory, SeverityGrade

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("enum", [MofcomCategory, EventClass, FineType, SeverityGrade])
def test_every_member_has_chinese_and_english_labels(enum):
    for member in enum:
        assert CJK.search(member.label.zh), member
        assert member.label.en, member
        assert not CJK.search(member.label.en), member


def test_mofcom_filing_rules_from_the_2010_rule():
    # Terrorism, kidnapping and crime are 政治风险; epidemics are 自然风险 (DOMAIN-CN.md §1.1).
    for fine in (
        FineType.TERRORIST_ATTACK,
        FineType.KIDNAPPING,
        FineType.CRIME_WAVE,
        FineType.COUP,
    ):
        assert fine.category is MofcomCategory.POLITICAL
    assert FineType.EPIDEMIC_OUTBREAK.category is MofcomCategory.NATURAL
    assert FineType.EPIDEMIC_OUTBREAK.event_class is EventClass.PUBLIC_HEALTH
    assert FineType.EARTHQUAKE.event_class is EventClass.NATURAL_DISASTER
    assert FineType.SANCTIONS_LISTING.category is MofcomCategory.POLICY
    assert FineType.CURRENCY_CRISIS.category is MofcomCategory.ECONOMIC
    assert FineType.INDUSTRIAL_ACCIDENT.event_class is EventClass.ACCIDENT


def test_every_category_and_class_is_reachable_from_some_fine_type():
    assert {f.category for f in FineType} == set(MofcomCategory)
    assert {f.event_class for f in FineType} == set(EventClass)


def test_severity_grades_order_from_I_most_severe():
    assert [g.rank for g in SeverityGrade] == [1, 2, 3, 4]
    assert SeverityGrade.I.is_more_severe_than(SeverityGrade.II)
    assert not SeverityGrade.IV.is_more_severe_than(SeverityGrade.III)
    assert SeverityGrade.I.numeral == "Ⅰ"
    assert SeverityGrade.I.label.zh == "特别重大"
    assert SeverityGrade.IV.label.zh == "一般"


def test_warning_levels_red_is_highest():
    assert WarningLevel.RED.is_higher_than(WarningLevel.ORANGE)
    assert not WarningLevel.BLUE.is_higher_than(WarningLevel.YELLOW)
    assert WarningLevel.RED.label.zh == "一级（红色）"
    assert WarningLevel.RED.severity_label.zh == "特别严重"
    assert WarningLevel.BLUE.severity_label.zh == "一般"
    assert [lvl.colour for lvl in WarningLevel] == ["red", "orange", "yellow", "blue"]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("一级", WarningLevel.RED),
        ("红色", WarningLevel.RED),
        ("Orange", WarningLevel.ORANGE),
        ("3", WarningLevel.YELLOW),
        ("四级（蓝色）", WarningLevel.BLUE),
        ("严重", WarningLevel.ORANGE),
    ],
)
def test_warning_level_parses_the_ways_people_write_it(text, level):
    assert WarningLevel.parse(text) is level


def test_warning_level_rejects_unknown_text():
    with pytest.raises(ValueError, match="unknown warning level"):
        WarningLevel.parse("purple")


def test_response_level_is_a_separate_scale():
    assert ResponseLevel.LEVEL_1.label.zh == "一级响应"
    assert ResponseLevel.LEVEL_1 is not WarningLevel.RED
